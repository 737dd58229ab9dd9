"""SQLAlchemy dialect for pgwire: ``postgresql+pgwire://``.

One URL for both worlds, as ``postgresql+psycopg`` has::

    from sqlalchemy import create_engine
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_engine("postgresql+pgwire://user@localhost/db")
    async_engine = create_async_engine("postgresql+pgwire://user@localhost/db")

``create_engine`` runs on pgwire's blocking API through :mod:`pgwire.dbapi`;
``create_async_engine`` on the asyncio API (the same DB-API layer, each call
awaited in SQLAlchemy's greenlet).  The dialect is registered by an entry
point when pgwire is installed (``sqlalchemy.dialects``); ``pgwire_async``
names the async dialect explicitly.  See ``docs/sqlalchemy.md``.
"""

from __future__ import annotations

from .dialect import PGDialect_pgwire, PGDialectAsync_pgwire

__all__ = ["PGDialectAsync_pgwire", "PGDialect_pgwire", "dialect", "dialect_async"]

dialect = PGDialect_pgwire
dialect_async = PGDialectAsync_pgwire
