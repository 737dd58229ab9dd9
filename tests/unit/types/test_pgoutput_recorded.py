"""The pgoutput decoder on payloads a real server sent (recorded by
``data/record_pgoutput.py`` from PostgreSQL 15): decoded values, and every
truncation of every message refused cleanly."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pgwire.types import default_registry
from pgwire.types import pgoutput as po

RECORDED = json.loads((Path(__file__).parent / "data" / "pgoutput_recorded.json").read_text())
VERSIONS = {"v1_text": 1, "v1_binary": 1, "v2_streaming": 2}


def _payloads(label: str) -> list[bytes]:
    return [bytes.fromhex(p) for p in RECORDED[label]]


def _decode_all(label: str) -> list[Any]:
    decoder = po.PgoutputDecoder(default_registry.copy(), protocol_version=VERSIONS[label])
    return [decoder.decode(p) for p in _payloads(label)]


ROW1 = {"id": 1, "name": "first", "price": Decimal("12.50"),
        "at": dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc), "flag": True,
        "tags": [1, None, 3], "doc": {"a": [1, 2]}}
ROW2 = {"id": 2, "name": None, "price": None, "at": None, "flag": None, "tags": None,
        "doc": None}


@pytest.mark.parametrize("label", ["v1_text", "v1_binary"])
def test_recorded_changes_decode_to_python_values(label: str) -> None:
    messages = _decode_all(label)
    kinds = [type(m).__name__ for m in messages]
    assert kinds == ["Begin", "Relation", "Truncate", "Commit",
                     "Begin", "Relation", "Insert", "Insert", "Commit",
                     "Begin", "Update", "Commit",
                     "Begin", "Delete", "Commit"]
    relation = messages[1]
    assert (relation.schema, relation.name) == ("public", "rec_items")
    assert relation.column_names == ("id", "name", "price", "at", "flag", "tags", "doc")
    inserts = [m for m in messages if isinstance(m, po.Insert)]
    assert [m.new for m in inserts] == [ROW1, ROW2]
    update = next(m for m in messages if isinstance(m, po.Update))
    assert update.key == {"id": 2} and update.new == {**ROW2, "id": 3, "name": "moved"}
    delete = next(m for m in messages if isinstance(m, po.Delete))
    assert delete.key == {"id": 3} and delete.old is None
    begins = [m for m in messages if isinstance(m, po.Begin)]
    commits = [m for m in messages if isinstance(m, po.Commit)]
    assert [b.final_lsn for b in begins] == [c.commit_lsn for c in commits]


def test_recorded_streamed_transaction() -> None:
    messages = _decode_all("v2_streaming")
    message = next(m for m in messages if isinstance(m, po.Message))
    assert (message.transactional, message.prefix, message.content) == (False, "pfx",
                                                                         b"outside")
    starts = [m for m in messages if isinstance(m, po.StreamStart)]
    assert starts and starts[0].first_segment
    assert isinstance(messages[-1], po.StreamCommit) and messages[-1].xid == starts[0].xid
    streamed = [m.new["id"] for m in messages if isinstance(m, po.Insert) and m.xid is not None]
    assert streamed == list(range(100, 1101))


@pytest.mark.parametrize("label", ["v1_text", "v1_binary"])
def test_every_truncation_of_every_recorded_message_is_refused(label: str) -> None:
    payloads = _payloads(label)
    for index, payload in enumerate(payloads):
        for cut in range(len(payload)):
            decoder = po.PgoutputDecoder(default_registry.copy(), protocol_version=1)
            for before in payloads[:index]:
                decoder.decode(before)
            with pytest.raises(po.PgoutputDecodeError):
                decoder.decode(payload[:cut])
