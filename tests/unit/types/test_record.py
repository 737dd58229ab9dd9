"""Tests for pgwire.record.Record: tuple and mapping access, comparison, pickling."""

from __future__ import annotations

import copy
import pickle
from collections import namedtuple
from typing import Any

import pytest

from pgwire.types.record import Record, RecordMapping


def make(names: list[str], values: tuple[Any, ...], cls: type[Record] = Record) -> Record:
    return cls._make(RecordMapping(names), values)


class MyRecord(Record):
    """A record_class as users write them: extra methods, nothing else."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def total(self) -> int:
        return sum(self)


class WithDict(Record):
    """A subclass without __slots__, so instances have a __dict__."""


@pytest.fixture
def rec() -> Record:
    return make(["id", "name", "score"], (1, "x", None))


# -- construction -------------------------------------------------------------


def test_direct_construction_is_refused() -> None:
    with pytest.raises(TypeError):
        Record()
    with pytest.raises(TypeError):
        MyRecord((1, 2))


def test_make_shares_the_mapping() -> None:
    mapping = RecordMapping(["a", "b"])
    r1 = Record._make(mapping, (1, 2))
    r2 = Record._make(mapping, (3, 4))
    assert r1._mapping is r2._mapping is mapping
    assert not hasattr(r1, "__dict__")


def test_make_accepts_a_plain_dict() -> None:
    r = Record._make({"a": 0, "b": 1}, (1, 2))
    assert r["b"] == 2
    assert list(r.keys()) == ["a", "b"]
    assert list(r.items()) == [("a", 1), ("b", 2)]
    assert repr(r) == "<Record a=1 b=2>"


def test_record_mapping() -> None:
    m = RecordMapping(["a", "b", "a"])
    assert isinstance(m, dict)
    assert dict(m) == {"a": 2, "b": 1}
    assert m.names == ("a", "b", "a")
    clone = pickle.loads(pickle.dumps(m))
    assert clone == m and clone.names == m.names
    assert copy.copy(m).names == m.names


# -- access ---------------------------------------------------------------------


def test_index_access(rec: Record) -> None:
    assert rec[0] == 1
    assert rec[1] == "x"
    assert rec[2] is None
    assert rec[-1] is None
    assert rec[-3] == 1
    assert rec[True] == "x"  # bool is an int, as for tuples


@pytest.mark.parametrize("index", [3, -4, 100])
def test_index_out_of_range(rec: Record, index: int) -> None:
    with pytest.raises(IndexError, match="record index out of range"):
        rec[index]


def test_name_access(rec: Record) -> None:
    assert rec["id"] == 1
    assert rec["name"] == "x"
    assert rec["score"] is None


class _Str(str):
    pass


def test_name_access_with_str_subclass(rec: Record) -> None:
    assert rec[_Str("name")] == "x"


@pytest.mark.parametrize("key", ["nope", "", "ID", 1.0, None, (0,)])
def test_unknown_name(rec: Record, key: Any) -> None:
    with pytest.raises(KeyError) as info:
        rec[key]
    assert info.value.args == (key,)


def test_unhashable_key_is_a_key_error(rec: Record) -> None:
    with pytest.raises(KeyError):
        rec[[0]]  # type: ignore[call-overload]


def test_slices_are_tuples(rec: Record) -> None:
    assert rec[1:3] == ("x", None)
    assert type(rec[1:3]) is tuple
    assert rec[:] == (1, "x", None)
    assert rec[::-1] == (None, "x", 1)
    assert rec[5:] == ()


def test_len_and_bool(rec: Record) -> None:
    assert len(rec) == 3
    assert rec
    empty = make([], ())
    assert len(empty) == 0
    assert not empty


def test_iteration_is_over_values(rec: Record) -> None:
    assert list(rec) == [1, "x", None]
    assert tuple(rec) == (1, "x", None)
    a, b, c = rec
    assert (a, b, c) == (1, "x", None)
    assert list(reversed(rec)) == [None, "x", 1]


def test_keys_values_items(rec: Record) -> None:
    keys = rec.keys()
    assert iter(keys) is keys  # iterators, like asyncpg's
    assert list(keys) == ["id", "name", "score"]
    values = rec.values()
    assert iter(values) is values
    assert list(values) == [1, "x", None]
    items = rec.items()
    assert iter(items) is items
    assert list(items) == [("id", 1), ("name", "x"), ("score", None)]
    assert dict(rec) == {"id": 1, "name": "x", "score": None}
    assert dict(rec.items()) == {"id": 1, "name": "x", "score": None}


def test_get(rec: Record) -> None:
    assert rec.get("name") == "x"
    assert rec.get("score", "default") is None  # present, value None
    assert rec.get("nope") is None
    assert rec.get("nope", 42) == 42
    assert rec.get(0) is None  # type: ignore[arg-type]  # by name only, as asyncpg
    assert rec.get([1], "d") == "d"  # type: ignore[arg-type]


def test_contains_checks_names(rec: Record) -> None:
    assert "id" in rec
    assert "name" in rec
    assert "nope" not in rec
    assert 1 not in rec  # values are not searched, as in asyncpg
    assert "x" not in rec


# -- duplicate column names --------------------------------------------------


def test_duplicate_names_last_wins() -> None:
    r = make(["a", "b", "a"], (1, 2, 3))
    assert r["a"] == 3
    assert r.get("a") == 3
    assert r[0] == 1
    assert list(r.keys()) == ["a", "b", "a"]
    assert list(r.items()) == [("a", 1), ("b", 2), ("a", 3)]
    assert dict(r) == {"a": 3, "b": 2}
    assert repr(r) == "<Record a=1 b=2 a=3>"
    clone = pickle.loads(pickle.dumps(r))
    assert list(clone.items()) == [("a", 1), ("b", 2), ("a", 3)]
    assert clone["a"] == 3


# -- comparison and hashing ----------------------------------------------------


def test_equality_with_records_and_tuples(rec: Record) -> None:
    same = make(["id", "name", "score"], (1, "x", None))
    renamed = make(["a", "b", "c"], (1, "x", None))
    assert rec == same
    assert rec == renamed  # names are not compared
    assert rec == (1, "x", None)
    assert (1, "x", None) == rec
    assert rec != (1, "x")
    assert rec != (1, "y", None)
    assert not (rec != same)
    assert rec != [1, "x", None]
    assert rec != {"id": 1, "name": "x", "score": None}
    assert rec != "x"
    Point = namedtuple("Point", "x y")
    assert make(["x", "y"], (1, 2)) == Point(1, 2)


def test_subclass_compares_like_record(rec: Record) -> None:
    mine = make(["id", "name", "score"], (1, "x", None), MyRecord)
    assert mine == rec
    assert rec == mine
    assert hash(mine) == hash(rec)


def test_ordering_like_tuples() -> None:
    r1 = make(["a", "b"], (1, 2))
    r2 = make(["a", "b"], (1, 3))
    assert r1 < r2
    assert r1 <= r2
    assert r2 > r1
    assert r2 >= r1
    assert r1 <= make(["a", "b"], (1, 2))
    assert r1 < (1, 2, 0)
    assert (1, 1) < r1
    assert (2,) > r1
    mixed: list[Any] = [r2, r1, (0, 9)]
    assert sorted(mixed) == [(0, 9), r1, r2]
    with pytest.raises(TypeError):
        r1 < [1, 2]  # noqa: B015
    with pytest.raises(TypeError):
        r1 < 5  # noqa: B015


def test_hash_matches_tuple_hash(rec: Record) -> None:
    assert hash(rec) == hash((1, "x", None))
    assert len({rec, make(["a", "b", "c"], (1, "x", None)), (1, "x", None)}) == 1
    lookup: dict[Any, str] = {rec: "v"}
    assert lookup[(1, "x", None)] == "v"
    unhashable = make(["a"], ([1],))
    with pytest.raises(TypeError):
        hash(unhashable)


# -- repr ---------------------------------------------------------------------


def test_repr(rec: Record) -> None:
    assert repr(rec) == "<Record id=1 name='x' score=None>"
    assert repr(make([], ())) == "<Record>"
    assert repr(make(["a"], (make(["b"], (2,)),))) == "<Record a=<Record b=2>>"
    assert repr(make(["id"], (1,), MyRecord)) == "<MyRecord id=1>"


# -- pickling and copying -------------------------------------------------------


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(rec: Record, protocol: int) -> None:
    clone = pickle.loads(pickle.dumps(rec, protocol))
    assert type(clone) is Record
    assert list(clone.items()) == list(rec.items())
    assert clone["name"] == "x"
    assert clone == rec


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_subclass(protocol: int) -> None:
    r = make(["a", "b"], (1, 2), MyRecord)
    clone = pickle.loads(pickle.dumps(r, protocol))
    assert type(clone) is MyRecord
    assert isinstance(clone, MyRecord)
    assert clone.total() == 3
    assert clone.a == 1
    assert list(clone.keys()) == ["a", "b"]


def test_pickle_plain_dict_mapping() -> None:
    r = Record._make({"a": 0, "b": 1}, (1, 2))
    clone = pickle.loads(pickle.dumps(r))
    assert list(clone.items()) == [("a", 1), ("b", 2)]


def test_pickled_rows_share_one_mapping_again() -> None:
    mapping = RecordMapping(["a", "b"])
    rows = [Record._make(mapping, (i, -i)) for i in range(3)]
    clones = pickle.loads(pickle.dumps(rows))
    assert clones == rows
    assert clones[0]._mapping is clones[1]._mapping is clones[2]._mapping


def test_copy_and_deepcopy() -> None:
    r = make(["a", "b"], (1, [2]), MyRecord)
    shallow = copy.copy(r)
    deep = copy.deepcopy(r)
    assert type(shallow) is type(deep) is MyRecord
    assert shallow == deep == r
    assert shallow[1] is r[1]
    assert deep[1] is not r[1]


def test_subclass_with_dict() -> None:
    r = make(["a"], (1,), WithDict)
    r.note = "extra"  # type: ignore[attr-defined]
    assert r["a"] == 1
    assert pickle.loads(pickle.dumps(r)) == r
