"""Tests for pgwire.exceptions: hierarchy, names, factories, pickling, generator."""

from __future__ import annotations

import builtins
import copy
import importlib.util
import pickle
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pgwire import exceptions as exc
from pgwire.exceptions import (
    ERROR_CLASSES,
    FIELD_NAMES,
    NOTICE_CLASSES,
    exception_class_for,
    exception_from_fields,
    notice_from_fields,
)

ROOT = Path(__file__).resolve().parents[3]

ALL_FIELDS = {
    "S": "ERREUR",
    "V": "ERROR",
    "C": "23505",
    "M": 'duplicate key value violates unique constraint "t_pkey"',
    "D": "Key (id)=(1) already exists.",
    "H": "Use another key.",
    "P": "15",
    "p": "3",
    "q": "SELECT 1",
    "W": "PL/pgSQL function f() line 3 at SQL statement",
    "s": "public",
    "t": "t",
    "c": "id",
    "d": "integer",
    "n": "t_pkey",
    "F": "nbtinsert.c",
    "L": "666",
    "R": "_bt_check_unique",
}

ATTRIBUTES = {
    "severity": "ERREUR",
    "severity_en": "ERROR",
    "sqlstate": "23505",
    "message": 'duplicate key value violates unique constraint "t_pkey"',
    "detail": "Key (id)=(1) already exists.",
    "hint": "Use another key.",
    "position": "15",
    "internal_position": "3",
    "internal_query": "SELECT 1",
    "context": "PL/pgSQL function f() line 3 at SQL statement",
    "schema_name": "public",
    "table_name": "t",
    "column_name": "id",
    "data_type_name": "integer",
    "constraint_name": "t_pkey",
    "server_source_filename": "nbtinsert.c",
    "server_source_line": "666",
    "server_source_function": "_bt_check_unique",
}


# -- PEP 249 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "base"),
    [
        (exc.Warning, Exception),
        (exc.Error, Exception),
        (exc.InterfaceError, exc.Error),
        (exc.DatabaseError, exc.Error),
        (exc.DataError, exc.DatabaseError),
        (exc.OperationalError, exc.DatabaseError),
        (exc.IntegrityError, exc.DatabaseError),
        (exc.InternalError, exc.DatabaseError),
        (exc.ProgrammingError, exc.DatabaseError),
        (exc.NotSupportedError, exc.DatabaseError),
        (exc.PostgresError, exc.DatabaseError),
    ],
)
def test_pep249_hierarchy(cls: type, base: type) -> None:
    assert issubclass(cls, base)


def test_pep249_warning_is_not_an_error() -> None:
    assert not issubclass(exc.Warning, exc.Error)
    assert not issubclass(exc.Error, exc.Warning)


@pytest.mark.parametrize(
    ("cls", "pep249"),
    [
        (exc.UniqueViolationError, exc.IntegrityError),
        (exc.ForeignKeyViolationError, exc.IntegrityError),
        (exc.IntegrityConstraintViolationError, exc.IntegrityError),
        (exc.InvalidTextRepresentationError, exc.DataError),
        (exc.DivisionByZeroError, exc.DataError),
        (exc.UndefinedTableError, exc.ProgrammingError),
        (exc.PostgresSyntaxError, exc.ProgrammingError),
        (exc.InsufficientPrivilegeError, exc.ProgrammingError),
        (exc.InvalidSQLStatementNameError, exc.ProgrammingError),
        (exc.RaiseError, exc.ProgrammingError),
        (exc.FeatureNotSupportedError, exc.NotSupportedError),
        (exc.SerializationError, exc.OperationalError),
        (exc.DeadlockDetectedError, exc.OperationalError),
        (exc.QueryCanceledError, exc.OperationalError),
        (exc.AdminShutdownError, exc.OperationalError),
        (exc.TooManyConnectionsError, exc.OperationalError),
        (exc.InvalidPasswordError, exc.OperationalError),
        (exc.PostgresConnectionError, exc.OperationalError),
        (exc.ProtocolViolationError, exc.OperationalError),
        (exc.LockNotAvailableError, exc.OperationalError),
        (exc.FDWError, exc.OperationalError),
        (exc.InFailedSQLTransactionError, exc.InternalError),
        (exc.InvalidCursorStateError, exc.InternalError),
        (exc.InternalServerError, exc.InternalError),
        (exc.DataCorruptedError, exc.InternalError),
    ],
)
def test_sqlstate_classes_map_to_pep249(cls: type, pep249: type) -> None:
    assert issubclass(cls, pep249)
    assert issubclass(cls, exc.PostgresError)


def test_data_error_is_both_pep249_and_class_22_base() -> None:
    assert exc.DataError.sqlstate == "22000"
    assert ERROR_CLASSES["22000"] is exc.DataError
    assert exception_class_for("22000") is exc.DataError
    assert exception_class_for("22XYZ") is exc.DataError
    err = exception_from_fields({"C": "22P02", "M": "invalid input syntax for type integer"})
    with pytest.raises(exc.DataError):
        raise err
    assert exc.DataError.__mro__.index(exc.PostgresError) < exc.DataError.__mro__.index(
        exc.DatabaseError
    )


def test_class_without_pep249_mapping_is_a_plain_database_error() -> None:
    cls = exc.SQLStatementNotYetCompleteError
    assert issubclass(cls, exc.PostgresError)
    for pep249 in (
        exc.DataError,
        exc.OperationalError,
        exc.IntegrityError,
        exc.InternalError,
        exc.ProgrammingError,
        exc.NotSupportedError,
    ):
        assert not issubclass(cls, pep249)


def test_connection_does_not_exist_is_also_an_interface_error() -> None:
    cls = exc.ConnectionDoesNotExistError
    assert cls.sqlstate == "08003"
    assert issubclass(cls, exc.PostgresConnectionError)
    assert issubclass(cls, exc.OperationalError)
    assert issubclass(cls, exc.InterfaceError)
    # usable client-side, with asyncpg's InterfaceError keywords
    err = cls("connection is closed", hint="reconnect")
    assert str(err) == "connection is closed\nHINT:  reconnect"


# -- names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sqlstate", "name"),
    [
        ("23505", "UniqueViolationError"),
        ("42P01", "UndefinedTableError"),
        ("0A000", "FeatureNotSupportedError"),
        ("22P02", "InvalidTextRepresentationError"),
        ("40001", "SerializationError"),
        ("40P01", "DeadlockDetectedError"),
        ("57014", "QueryCanceledError"),
        ("23000", "IntegrityConstraintViolationError"),
        ("22000", "DataError"),
        ("42000", "SyntaxOrAccessError"),
        ("42601", "PostgresSyntaxError"),
        ("08000", "PostgresConnectionError"),
        ("08001", "ClientCannotConnectError"),
        ("08004", "ConnectionRejectionError"),
        ("08P01", "ProtocolViolationError"),
        ("XX000", "InternalServerError"),
        ("22P01", "PostgresFloatingPointError"),
        ("58000", "PostgresSystemError"),
        ("58030", "PostgresIOError"),
        ("22001", "StringDataRightTruncationError"),
        ("2F002", "ModifyingSQLDataNotPermittedError"),
        ("38002", "ModifyingExternalRoutineSQLDataNotPermittedError"),
        ("38003", "ProhibitedExternalRoutineSQLStatementAttemptedError"),
        ("38004", "ReadingExternalRoutineSQLDataNotPermittedError"),
        ("22004", "NullValueNotAllowedError"),
        ("39004", "NullValueInExternalRoutineNotAllowedError"),
        ("39001", "InvalidSqlstateReturnedError"),
        ("25P02", "InFailedSQLTransactionError"),
        ("26000", "InvalidSQLStatementNameError"),
        ("22031", "InvalidArgumentForSQLJsonDatetimeFunctionError"),
        ("22030", "DuplicateJsonObjectKeyValueError"),
        ("2200L", "NotAnXmlDocumentError"),
        ("09000", "TriggeredActionError"),
        ("HV000", "FDWError"),
        ("HV00K", "FDWReplyHandleError"),
        ("P0000", "PLPGSQLError"),
        ("P0001", "RaiseError"),
        ("P0004", "AssertError"),
        ("53200", "OutOfMemoryError"),
    ],
)
def test_error_class_names(sqlstate: str, name: str) -> None:
    cls = getattr(exc, name)
    assert cls.sqlstate == sqlstate
    assert ERROR_CLASSES[sqlstate] is cls
    assert exception_class_for(sqlstate) is cls


@pytest.mark.parametrize(
    ("sqlstate", "name"),
    [
        ("01000", "PostgresWarning"),
        ("0100C", "DynamicResultSetsReturned"),
        ("01004", "StringDataRightTruncation"),
        ("01P01", "DeprecatedFeature"),
        ("02000", "NoData"),
        ("02001", "NoAdditionalDynamicResultSetsReturned"),
    ],
)
def test_warning_class_names(sqlstate: str, name: str) -> None:
    cls = getattr(exc, name)
    assert cls.sqlstate == sqlstate
    assert NOTICE_CLASSES[sqlstate] is cls
    assert issubclass(cls, exc.PostgresWarning)
    assert sqlstate not in ERROR_CLASSES


def test_every_error_class_is_under_its_class_level_base() -> None:
    for sqlstate, cls in ERROR_CLASSES.items():
        assert cls.sqlstate == sqlstate
        assert issubclass(cls, exc.PostgresError)
        base = ERROR_CLASSES.get(sqlstate[:2] + "000")
        if base is None:
            # A class without a class-level code (10: only 10608) sits
            # straight under PostgresError, as in asyncpg.
            assert sqlstate == "10608" and cls.__bases__[0] is exc.PostgresError
            continue
        assert issubclass(cls, base)
        if cls is not base:
            assert cls.__bases__[0] is base
        assert not hasattr(builtins, cls.__name__), cls


def test_every_notice_class_is_a_postgres_warning() -> None:
    for sqlstate, cls in NOTICE_CLASSES.items():
        assert cls.sqlstate == sqlstate
        assert issubclass(cls, exc.PostgresWarning)
        assert issubclass(cls, builtins.Warning)
        assert not issubclass(cls, exc.PostgresError)


def test_successful_completion_has_no_class() -> None:
    assert "00000" not in ERROR_CLASSES
    assert "00000" not in NOTICE_CLASSES


def test_all_is_complete_and_resolvable() -> None:
    names = exc.__all__
    assert len(names) == len(set(names))
    for name in names:
        obj = getattr(exc, name)
        assert isinstance(obj, type) and issubclass(obj, BaseException | exc.PostgresMessage)
        assert obj.__module__ == "pgwire.exceptions"
    for cls in [*ERROR_CLASSES.values(), *NOTICE_CLASSES.values()]:
        assert cls.__name__ in names
    for name in (
        "PostgresError",
        "PostgresLogMessage",
        "InterfaceWarning",
        "InternalClientError",
        "ProtocolError",
        "OutdatedSchemaCacheError",
        "UnsupportedClientFeatureError",
        "InvalidCachedStatementError",
        "UnknownPostgresError",
    ):
        assert name in names
    # the factories stay out of star imports
    for name in ("exception_from_fields", "notice_from_fields", "exception_class_for"):
        assert name not in names
    star: dict[str, Any] = {}
    exec("from pgwire.exceptions import *", star)
    assert "UniqueViolationError" in star
    assert "exception_from_fields" not in star


# -- client-side errors -----------------------------------------------------


def test_client_errors_hierarchy() -> None:
    assert issubclass(exc.InternalClientError, exc.InterfaceError)
    assert issubclass(exc.ProtocolError, exc.InternalClientError)
    assert issubclass(exc.OutdatedSchemaCacheError, exc.InternalClientError)
    assert issubclass(exc.TargetServerAttributeNotMatched, exc.InternalClientError)
    assert issubclass(exc.UnsupportedClientFeatureError, exc.InterfaceError)
    assert issubclass(exc.UnsupportedServerFeatureError, exc.InterfaceError)
    assert issubclass(exc.ClientConfigurationError, exc.InterfaceError)
    assert issubclass(exc.ClientConfigurationError, ValueError)
    assert issubclass(exc.InterfaceWarning, UserWarning)
    assert issubclass(exc.InterfaceWarning, exc.Warning)
    assert issubclass(exc.InvalidCachedStatementError, exc.FeatureNotSupportedError)


def test_interface_error_detail_and_hint() -> None:
    err = exc.InterfaceError("bad call", detail="some detail", hint="do this")
    assert err.args == ("bad call",)
    assert err.detail == "some detail"
    assert err.hint == "do this"
    assert str(err) == "bad call\nDETAIL:  some detail\nHINT:  do this"
    assert str(exc.InterfaceError("plain")) == "plain"
    assert exc.InterfaceError("plain").detail is None


def test_interface_warning_can_be_warned() -> None:
    with pytest.warns(exc.InterfaceWarning, match="careful"):
        warnings.warn(exc.InterfaceWarning("careful", hint="h"), stacklevel=1)


def test_outdated_schema_cache_error() -> None:
    err = exc.OutdatedSchemaCacheError("stale", schema="public", data_type="mytype", position="2")
    assert (err.schema_name, err.data_type_name, err.position) == ("public", "mytype", "2")
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is exc.OutdatedSchemaCacheError
    assert (clone.schema_name, clone.data_type_name, clone.position) == ("public", "mytype", "2")
    assert str(clone) == "stale"


# -- exception_class_for / exception_from_fields ---------------------------


@pytest.mark.parametrize(
    ("sqlstate", "expected"),
    [
        ("23505", "UniqueViolationError"),
        ("23999", "IntegrityConstraintViolationError"),  # unknown code, known class
        ("42ZZZ", "SyntaxOrAccessError"),
        ("ZZ123", "UnknownPostgresError"),  # unknown class
        ("", "UnknownPostgresError"),
        ("00000", "UnknownPostgresError"),
        ("01000", "UnknownPostgresError"),  # warnings are not errors
        ("2", "UnknownPostgresError"),
    ],
)
def test_exception_class_for(sqlstate: str, expected: str) -> None:
    assert exception_class_for(sqlstate) is getattr(exc, expected)


def test_exception_from_fields_sets_every_field() -> None:
    err = exception_from_fields(ALL_FIELDS, query="INSERT INTO t VALUES (1)")
    assert type(err) is exc.UniqueViolationError
    for name, value in ATTRIBUTES.items():
        assert getattr(err, name) == value, name
    assert err.as_dict() == ATTRIBUTES
    assert err.fields == ALL_FIELDS
    assert err.query == "INSERT INTO t VALUES (1)"
    assert err.args == (ALL_FIELDS["M"],)
    assert str(err) == (
        'duplicate key value violates unique constraint "t_pkey"\n'
        "DETAIL:  Key (id)=(1) already exists.\n"
        "HINT:  Use another key."
    )
    assert set(FIELD_NAMES.values()) == set(ATTRIBUTES)


def test_exception_from_fields_missing_fields_are_none() -> None:
    fields = {"S": "ERROR", "C": "42P01", "M": 'relation "nope" does not exist'}
    err = exception_from_fields(fields)
    assert type(err) is exc.UndefinedTableError
    assert str(err) == 'relation "nope" does not exist'
    assert err.message == 'relation "nope" does not exist'
    for name in ATTRIBUTES:
        if name not in ("severity", "sqlstate", "message"):
            assert getattr(err, name) is None, name
    assert err.query is None
    assert err.as_dict() == {
        "severity": "ERROR",
        "sqlstate": "42P01",
        "message": 'relation "nope" does not exist',
    }


def test_exception_from_fields_keeps_unknown_field_codes() -> None:
    fields = {"C": "XX000", "M": "boom", "Z": "future field"}
    err = exception_from_fields(fields)
    assert type(err) is exc.InternalServerError
    assert err.fields["Z"] == "future field"
    assert "Z" not in err.as_dict()


def test_exception_from_fields_copies_its_input() -> None:
    fields = {"C": "XX000", "M": "boom"}
    err = exception_from_fields(fields)
    fields["M"] = "changed"
    assert err.fields["M"] == "boom"


def test_exception_from_fields_unknown_sqlstate() -> None:
    err = exception_from_fields({"C": "U0001", "M": "custom"})
    assert type(err) is exc.UnknownPostgresError
    assert err.sqlstate == "U0001"
    err = exception_from_fields({"C": "23P99", "M": "new integrity code"})
    assert type(err) is exc.IntegrityConstraintViolationError
    assert err.sqlstate == "23P99"  # the server's code, not the class's
    err = exception_from_fields({})
    assert type(err) is exc.UnknownPostgresError
    assert str(err) == ""


def test_invalid_cached_statement_detected_by_server_function() -> None:
    fields = {
        "C": "0A000",
        "M": "la requête en cache ne doit pas changer le type du résultat",
        "R": "RevalidateCachedQuery",
    }
    err = exception_from_fields(fields)
    assert type(err) is exc.InvalidCachedStatementError
    assert isinstance(err, exc.FeatureNotSupportedError)
    assert isinstance(err, exc.NotSupportedError)
    assert err.sqlstate == "0A000"
    other = exception_from_fields({"C": "0A000", "M": "not supported", "R": "elsewhere"})
    assert type(other) is exc.FeatureNotSupportedError


def test_user_constructed_postgres_error() -> None:
    err = exc.UniqueViolationError("dup", detail="d")
    assert err.sqlstate == "23505"
    assert err.detail == "d"
    assert err.hint is None
    assert err.fields == {}
    assert str(err) == "dup\nDETAIL:  d"
    assert err.as_dict() == {"sqlstate": "23505", "detail": "d"}


# -- pickling -----------------------------------------------------------------


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_server_error_pickles_with_all_fields(protocol: int) -> None:
    err = exception_from_fields(ALL_FIELDS, query="INSERT INTO t VALUES (1)")
    clone = pickle.loads(pickle.dumps(err, protocol))
    assert type(clone) is exc.UniqueViolationError
    assert clone.args == err.args
    assert clone.fields == ALL_FIELDS
    assert clone.as_dict() == ATTRIBUTES
    assert clone.query == err.query
    assert str(clone) == str(err)


@pytest.mark.parametrize(
    "err",
    [
        exc.InterfaceError("x", detail="d", hint="h"),
        exc.ProtocolError("bad message"),
        exc.ClientConfigurationError("bad option", hint="h"),
        exc.ConnectionDoesNotExistError("closed", hint="h"),
        exc.DataError("bad data"),
        exc.UnknownPostgresError("?"),
        exception_from_fields({"C": "0A000", "M": "m", "R": "RevalidateCachedQuery"}),
        exception_from_fields({"C": "08003", "M": "gone"}),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_pickle_and_copy(err: BaseException) -> None:
    for clone in (pickle.loads(pickle.dumps(err)), copy.copy(err), copy.deepcopy(err)):
        assert type(clone) is type(err)
        assert clone.args == err.args
        assert str(clone) == str(err)
        assert clone.__dict__ == err.__dict__


# -- notices ----------------------------------------------------------------


def test_notice_plain() -> None:
    fields = {"S": "AVIS", "V": "NOTICE", "C": "00000", "M": "hello"}
    msg = notice_from_fields(fields)
    assert type(msg) is exc.PostgresLogMessage
    assert not isinstance(msg, BaseException)
    assert msg.message == "hello"
    assert msg.severity == "AVIS"
    assert msg.severity_en == "NOTICE"
    assert msg.sqlstate == "00000"
    assert msg.fields == fields
    assert str(msg) == "PostgresLogMessage: hello"
    assert msg.as_dict() == {
        "severity": "AVIS",
        "severity_en": "NOTICE",
        "sqlstate": "00000",
        "message": "hello",
    }


def test_notice_with_an_error_sqlstate_is_a_log_message() -> None:
    fields = {
        "S": "NOTICE",
        "V": "NOTICE",
        "C": "42P07",
        "M": 'relation "t" already exists, skipping',
    }
    msg = notice_from_fields(fields, query="CREATE TABLE IF NOT EXISTS t ()")
    assert type(msg) is exc.PostgresLogMessage
    assert msg.sqlstate == "42P07"
    assert msg.query == "CREATE TABLE IF NOT EXISTS t ()"


def test_notice_warning_severity() -> None:
    msg = notice_from_fields({"S": "WARNING", "V": "WARNING", "C": "XX000", "M": "careful"})
    assert type(msg) is exc.PostgresWarning
    assert isinstance(msg, builtins.Warning)
    assert isinstance(msg, exc.Warning)
    assert msg.args == ("careful",)
    assert str(msg) == "PostgresWarning: careful"
    # without 'V' (servers before 9.6) the localized 'S' is the fallback
    msg = notice_from_fields({"S": "WARNING", "C": "00000", "M": "old server"})
    assert type(msg) is exc.PostgresWarning
    msg = notice_from_fields({"S": "ATTENTION", "V": "WARNING", "C": "00000", "M": "fr"})
    assert type(msg) is exc.PostgresWarning


def test_notice_warning_sqlstate_classes() -> None:
    msg = notice_from_fields({"S": "WARNING", "V": "WARNING", "C": "01P01", "M": "old"})
    assert type(msg) is exc.DeprecatedFeature
    msg = notice_from_fields({"S": "WARNING", "V": "WARNING", "C": "01ZZZ", "M": "new"})
    assert type(msg) is exc.PostgresWarning
    msg = notice_from_fields({"S": "NOTICE", "V": "NOTICE", "C": "02000", "M": "no data"})
    assert type(msg) is exc.NoData
    deprecated = notice_from_fields({"C": "01P01", "M": "old"})
    assert isinstance(deprecated, exc.DeprecatedFeature)
    with pytest.warns(exc.DeprecatedFeature):
        warnings.warn(deprecated, stacklevel=1)


def test_notices_are_immutable() -> None:
    for msg in (
        notice_from_fields({"C": "00000", "M": "hello"}),
        notice_from_fields({"C": "01000", "M": "warn"}),
    ):
        with pytest.raises(TypeError):
            msg.message = "changed"
        with pytest.raises(TypeError):
            setattr(msg, "anything", 1)  # noqa: B010
        with pytest.raises(TypeError):
            del msg.message
        assert msg.message in ("hello", "warn")


def test_warning_notice_can_be_raised() -> None:
    msg = notice_from_fields({"C": "01000", "M": "warn"})
    assert isinstance(msg, exc.PostgresWarning)
    with pytest.raises(exc.PostgresWarning) as info:
        raise msg
    assert info.value.__traceback__ is not None


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_notices_pickle_and_copy(protocol: int) -> None:
    for fields in (
        {"S": "NOTICE", "V": "NOTICE", "C": "00000", "M": "hello", "W": "ctx"},
        {"S": "WARNING", "V": "WARNING", "C": "01P01", "M": "old", "Z": "?"},
        {"S": "WARNING", "V": "WARNING", "C": "00000", "M": "generic"},
    ):
        msg = notice_from_fields(fields, query="SELECT 1")
        for clone in (
            pickle.loads(pickle.dumps(msg, protocol)),
            copy.copy(msg),
            copy.deepcopy(msg),
        ):
            assert type(clone) is type(msg)
            assert clone.fields == fields
            assert clone.as_dict() == msg.as_dict()
            assert clone.query == "SELECT 1"
            assert str(clone) == str(msg)
            with pytest.raises(TypeError):
                clone.message = "x"


# -- the generator ------------------------------------------------------------


def _load_generator() -> ModuleType:
    path = ROOT / "scripts" / "gen_exceptions.py"
    spec = importlib.util.spec_from_file_location("gen_exceptions", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_generated_files_are_up_to_date() -> None:
    gen = _load_generator()
    if not gen.DEFAULT_ERRCODES.exists():
        pytest.skip(f"{gen.DEFAULT_ERRCODES} not available")
    assert gen.main(["--check"]) == 0


def test_generator_covers_every_named_sqlstate() -> None:
    gen = _load_generator()
    if not gen.DEFAULT_ERRCODES.exists():
        pytest.skip(f"{gen.DEFAULT_ERRCODES} not available")
    codes = gen.parse(gen.DEFAULT_ERRCODES)
    assert len(codes) > 200
    for code in codes:
        table = NOTICE_CLASSES if code.is_warning else ERROR_CLASSES
        assert code.sqlstate in table, code


def test_generator_name_rules() -> None:
    gen = _load_generator()

    def name(sqlstate: str, condition: str) -> str:
        return str(gen.class_name(gen.Code(sqlstate, condition, "")))

    assert name("23505", "unique_violation") == "UniqueViolationError"
    assert name("09000", "triggered_action_exception") == "TriggeredActionError"
    assert name("42803", "grouping_error") == "GroupingError"
    assert name("2F000", "sql_routine_exception") == "SQLRoutineError"
    assert name("0100C", "dynamic_result_sets_returned") == "DynamicResultSetsReturned"
    assert name("40001", "serialization_failure") == "SerializationError"
