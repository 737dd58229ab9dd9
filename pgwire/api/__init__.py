"""The public connection APIs: asyncio (``_async``, hand-written) and blocking (``_sync``).

The blocking modules are generated from the asyncio ones by
``scripts/unasync.py``; what differs between the two lives in one place.
"""
