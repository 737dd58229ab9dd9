"""The ``postgresql+pgwire`` SQLAlchemy dialect, as applications use it.

SQLAlchemy's own compliance suite runs separately (tests_sqlalchemy/, from
scripts/test.sh); these tests cover what it does not: the ORM on both
engines with pgwire's types, error translation, streaming through a real
portal, isolation levels sent with BEGIN, pre-ping after a killed
connection, pgbouncer in transaction mode, a custom JSON deserializer,
two-phase commit, and the URL's options.
"""

from __future__ import annotations

import datetime as dt
import enum
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)

import pgwire
from pgwire import dbapi, exceptions
from pgwire.sqlalchemy import PGDialect_pgwire, PGDialectAsync_pgwire
from pgwire.testing import TemporaryCluster


def _url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+pgwire://", 1)


class Mood(enum.Enum):
    happy = "happy"
    sad = "sad"


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "sa_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    price: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    ratio: Mapped[float] = mapped_column(sa.Float)
    tags: Mapped[list[str]] = mapped_column(pg.ARRAY(sa.Text), default=list)
    data: Mapped[Any] = mapped_column(pg.JSONB, nullable=True)
    ref: Mapped[uuid.UUID] = mapped_column(sa.Uuid, default=uuid.uuid4)
    mood: Mapped[Mood] = mapped_column(sa.Enum(Mood, name="sa_mood"), default=Mood.happy)
    during: Mapped[Any] = mapped_column(pg.TSTZRANGE, nullable=True)
    wait: Mapped[dt.timedelta] = mapped_column(sa.Interval, default=dt.timedelta(0))
    created: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now())


def _items() -> list[Item]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    return [
        Item(id=1, name="one", price=Decimal("1.50"), ratio=0.25, tags=["a", "b"],
             data={"k": [1, None, "x"]}, mood=Mood.sad,
             during=pg.Range(start, start + dt.timedelta(days=1)),
             wait=dt.timedelta(minutes=3)),
        Item(id=2, name="two", price=Decimal("20"), ratio=2.0, data="just a string"),
    ]


def _check_items(items: list[Item]) -> None:
    one, two = items
    assert one.price == Decimal("1.50") and isinstance(one.price, Decimal)
    assert one.ratio == 0.25 and one.tags == ["a", "b"]
    assert one.data == {"k": [1, None, "x"]} and two.data == "just a string"
    assert isinstance(one.ref, uuid.UUID) and one.mood is Mood.sad and two.mood is Mood.happy
    assert isinstance(one.during, pg.Range)
    assert one.during.lower == dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert one.during.bounds == "[)"
    assert one.wait == dt.timedelta(minutes=3) and two.tags == []
    assert one.created.tzinfo is not None


@pytest.fixture
def engine(dsn: str) -> Iterator[sa.Engine]:
    eng = sa.create_engine(_url(dsn))
    Base.metadata.drop_all(eng)
    Base.metadata.create_all(eng)
    yield eng
    Base.metadata.drop_all(eng)
    eng.dispose()


@pytest.fixture
async def async_engine(dsn: str) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(_url(dsn))
    async with eng.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    yield eng
    async with eng.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
    await eng.dispose()


def test_one_name_for_both_worlds(dsn: str) -> None:
    eng = sa.create_engine(_url(dsn))
    assert type(eng.dialect) is PGDialect_pgwire and eng.dialect.driver == "pgwire"
    async_eng = create_async_engine(_url(dsn))
    assert type(async_eng.sync_engine.dialect) is PGDialectAsync_pgwire
    assert async_eng.sync_engine.dialect.is_async
    with eng.connect() as conn:
        assert isinstance(conn.connection.dbapi_connection, dbapi.Connection)
        assert isinstance(conn.connection.driver_connection, dbapi.Connection)
        assert conn.dialect.server_version_info[0] >= 14  # type: ignore[index]
    eng.dispose()


def test_orm_round_trip(engine: sa.Engine) -> None:
    with Session(engine) as session:
        session.add_all(_items())
        session.commit()
        _check_items(list(session.scalars(sa.select(Item).order_by(Item.id))))
        one = session.get(Item, 1)
        assert one is not None
        one.tags = [*one.tags, "c"]
        one.data = {"k": "changed"}
        session.commit()
    with Session(engine) as session:
        found = session.scalars(sa.select(Item).where(Item.tags.contains(["c"]))).one()
        assert found.data == {"k": "changed"}
        assert session.scalar(sa.select(Item.data["k"].astext).where(Item.id == 1)) == "changed"


async def test_async_orm_round_trip(async_engine: AsyncEngine) -> None:
    async with AsyncSession(async_engine) as session:
        session.add_all(_items())
        await session.commit()
        result = await session.scalars(sa.select(Item).order_by(Item.id))
        _check_items(list(result))
    async with async_engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, pgwire.Connection)
        value = await conn.scalar(sa.select(sa.func.count()).select_from(Item))
        assert value == 2


def _assert_unique_violation(error: sa_exc.IntegrityError) -> None:
    assert isinstance(error.orig, exceptions.UniqueViolationError)
    assert isinstance(error.orig, dbapi.IntegrityError)
    assert "sa_items_name_key" in str(error)


def test_errors_are_translated(engine: sa.Engine) -> None:
    with Session(engine) as session:
        session.add(Item(id=1, name="dup", price=1, ratio=1))
        session.commit()
        session.add(Item(id=2, name="dup", price=1, ratio=1))
        with pytest.raises(sa_exc.IntegrityError) as caught:
            session.commit()
        _assert_unique_violation(caught.value)
        session.rollback()
        assert session.scalar(sa.select(sa.func.count()).select_from(Item)) == 1
    with engine.connect() as conn:
        with pytest.raises(sa_exc.DataError) as data_error:
            conn.execute(sa.text("SELECT 1 / 0"))
        assert isinstance(data_error.value.orig, exceptions.DivisionByZeroError)
        conn.rollback()
        with pytest.raises(sa_exc.ProgrammingError):
            conn.execute(sa.text("SELECT nosuchcolumn FROM sa_items"))
        conn.rollback()
        with pytest.raises(sa_exc.StatementError):
            conn.execute(sa.select(Item).where(Item.id == "not a number"))
        conn.rollback()
        assert conn.execute(sa.text("SELECT 41 + 1")).scalar() == 42


async def test_async_errors_are_translated(async_engine: AsyncEngine) -> None:
    async with AsyncSession(async_engine) as session:
        session.add(Item(id=1, name="dup", price=1, ratio=1))
        await session.commit()
        session.add(Item(id=2, name="dup", price=1, ratio=1))
        with pytest.raises(sa_exc.IntegrityError) as caught:
            await session.commit()
        _assert_unique_violation(caught.value)
        await session.rollback()
        assert await session.scalar(sa.select(sa.func.count()).select_from(Item)) == 1


def _portals(conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql("SELECT count(*) FROM pg_cursors WHERE name <> ''").scalar_one())


def test_stream_results_reads_through_a_portal(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(Item), [dict(id=i, name=f"n{i}", price=i, ratio=i)
                                       for i in range(1, 301)])
    with engine.connect() as conn:
        # (Connection.execution_options would stream every later statement too.)
        result = conn.execute(sa.select(Item.id).order_by(Item.id).execution_options(
            stream_results=True, max_row_buffer=50))
        assert isinstance(result.cursor, dbapi.ServerCursor)
        first = result.fetchmany(10)
        assert [r.id for r in first] == list(range(1, 11))
        assert _portals(conn) == 1  # the rest is still on the server
        assert [r.id for r in result] == list(range(11, 301))
        result.close()
        assert _portals(conn) == 0
        ids = [row.id for part in conn.execute(sa.select(Item.id).order_by(Item.id)
                                               .execution_options(yield_per=64)).partitions()
               for row in part]
        assert ids == list(range(1, 301))


async def test_async_stream(async_engine: AsyncEngine) -> None:
    async with async_engine.begin() as conn:
        await conn.execute(sa.insert(Item), [dict(id=i, name=f"n{i}", price=i, ratio=i)
                                             for i in range(1, 121)])
    async with async_engine.connect() as conn:
        result = await conn.stream(sa.select(Item.id).order_by(Item.id))
        seen = [row.id async for row in result]
        assert seen == list(range(1, 121))
    async with AsyncSession(async_engine) as session:
        scalars = await session.stream_scalars(
            sa.select(Item).order_by(Item.id).execution_options(yield_per=25))
        names = [item.name async for item in scalars]
        assert names == [f"n{i}" for i in range(1, 121)]


def test_stream_in_autocommit_is_refused_clearly(engine: sa.Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        with pytest.raises(sa_exc.ProgrammingError, match="autocommit"):
            conn.execute(sa.select(Item.id).execution_options(stream_results=True))
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1


def _isolation(conn: sa.Connection) -> str:
    return str(conn.exec_driver_sql("SHOW transaction_isolation").scalar_one())


def test_isolation_levels(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert _isolation(conn) == "read committed"
        assert conn.get_isolation_level() == "READ COMMITTED"
    for level in ("SERIALIZABLE", "REPEATABLE READ", "READ UNCOMMITTED"):
        with engine.connect().execution_options(isolation_level=level) as conn:
            assert _isolation(conn) == level.lower()
    with engine.connect() as conn:  # back to the default on the pooled connection
        assert _isolation(conn) == "read committed"
        # Nothing was set for the session: each BEGIN carries its level.
        assert conn.exec_driver_sql("SHOW default_transaction_isolation").scalar() == \
            "read committed"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM sa_items")  # refused inside a transaction
    with engine.connect() as conn:
        with pytest.raises(sa_exc.InternalError):
            conn.exec_driver_sql("VACUUM sa_items")


def test_engine_wide_isolation_level_and_readonly(dsn: str, engine: sa.Engine) -> None:
    serial = sa.create_engine(_url(dsn), isolation_level="SERIALIZABLE")
    with serial.connect() as conn:
        assert _isolation(conn) == "serializable"
    serial.dispose()
    with engine.connect().execution_options(postgresql_readonly=True) as conn:
        with pytest.raises(sa_exc.InternalError) as caught:
            conn.execute(sa.insert(Item).values(id=1, name="x", price=1, ratio=1))
        assert isinstance(caught.value.orig, exceptions.ReadOnlySQLTransactionError)
    with engine.connect().execution_options(
            isolation_level="SERIALIZABLE", postgresql_readonly=True,
            postgresql_deferrable=True) as conn:
        row = conn.exec_driver_sql(
            "SELECT current_setting('transaction_read_only'), "
            "current_setting('transaction_deferrable')").one()
        assert tuple(row) == ("on", "on")


async def test_async_isolation_level(async_engine: AsyncEngine) -> None:
    async with async_engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        value = await conn.scalar(sa.text("SHOW transaction_isolation"))
        assert value == "repeatable read"


def _kill(dsn: str, pid: int) -> None:
    with pgwire.sync.connect(dsn) as admin:
        admin.execute("SELECT pg_terminate_backend($1)", pid)


def _pid(conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def test_killed_connection_is_invalidated_and_pre_ping_replaces_it(dsn: str) -> None:
    eng = sa.create_engine(_url(dsn), pool_size=1, max_overflow=0)
    with eng.connect() as conn:
        pid = _pid(conn)
    _kill(dsn, pid)
    time.sleep(0.2)
    with eng.connect() as conn:
        with pytest.raises(sa_exc.DBAPIError) as caught:
            conn.exec_driver_sql("SELECT 1")
        assert caught.value.connection_invalidated
    with eng.connect() as conn:  # the pool opened a new one
        assert _pid(conn) != pid
    eng.dispose()

    pinged = sa.create_engine(_url(dsn), pool_size=1, max_overflow=0, pool_pre_ping=True)
    with pinged.connect() as conn:
        pid = _pid(conn)
    _kill(dsn, pid)
    time.sleep(0.2)
    with pinged.connect() as conn:  # the ping noticed; no error reaches the caller
        assert _pid(conn) != pid
    pinged.dispose()


async def test_async_pre_ping(dsn: str) -> None:
    eng = create_async_engine(_url(dsn), pool_size=1, max_overflow=0, pool_pre_ping=True)
    async with eng.connect() as conn:
        pid = await conn.scalar(sa.text("SELECT pg_backend_pid()"))
    async with await pgwire.connect(dsn) as admin:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    async with eng.connect() as conn:
        assert await conn.scalar(sa.text("SELECT pg_backend_pid()")) != pid
    await eng.dispose()


def test_behind_pgbouncer_in_transaction_mode(pgbouncer: Any) -> None:
    eng = sa.create_engine(_url(pgbouncer.dsn()), pool_size=3)
    Base.metadata.drop_all(eng)
    Base.metadata.create_all(eng)
    try:
        with Session(eng) as session:
            session.add_all(_items())
            session.commit()
        for _ in range(3):  # server connections are shared: nothing may stick
            with Session(eng) as session:
                _check_items(list(session.scalars(sa.select(Item).order_by(Item.id))))
            with eng.connect().execution_options(isolation_level="SERIALIZABLE") as conn:
                assert _isolation(conn) == "serializable"
            with eng.connect() as conn:
                assert _isolation(conn) == "read committed"
                result = conn.execute(sa.select(Item.name).order_by(Item.id)
                                      .execution_options(stream_results=True))
                assert [r.name for r in result] == ["one", "two"]
    finally:
        Base.metadata.drop_all(eng)
        eng.dispose()


def test_custom_json_deserializer(dsn: str, engine: sa.Engine) -> None:
    calls: list[str] = []

    def loads(text: str) -> Any:
        calls.append(text)
        return ("decoded", text)

    eng = sa.create_engine(_url(dsn), json_deserializer=loads)
    with eng.connect() as conn:
        value = conn.execute(sa.select(sa.cast(sa.literal('{"a": 1}'), pg.JSONB))).scalar()
        assert value == ("decoded", '{"a": 1}') and calls == ['{"a": 1}']
    eng.dispose()


def test_url_options(cluster: TemporaryCluster) -> None:
    kwargs = cluster.connect_kwargs()
    url = sa.engine.URL.create(
        "postgresql+pgwire", username=kwargs["user"], host=kwargs["host"],
        port=int(kwargs["port"]), database=kwargs["database"],
        query={"application_name": "sa-test", "statement_cache_size": "0",
               "command_timeout": "30", "sslmode": "disable"})
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("SHOW application_name").scalar() == "sa-test"
        driver = conn.connection.dbapi_connection.sync_connection  # type: ignore[union-attr]
        assert driver.get_settings().application_name == "sa-test"
    eng.dispose()
    bad = sa.create_engine(url.update_query_dict({"no_such_option": "1"}))
    with pytest.raises((sa_exc.DBAPIError, pgwire.InterfaceError, TypeError)):
        bad.connect()


def test_several_hosts_are_tried_in_order(cluster: TemporaryCluster) -> None:
    kwargs = cluster.connect_kwargs()
    host, port = kwargs["host"], int(kwargs["port"])
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    base = f"postgresql+pgwire://{kwargs['user']}@/{kwargs['database']}"
    for url in (f"{base}?host=127.0.0.1:{dead}&host={host}:{port}&sslmode=disable",
                f"{base}?host=127.0.0.1,{host}&port={dead},{port}&sslmode=disable"):
        eng = sa.create_engine(url)
        with eng.connect() as conn:
            assert conn.exec_driver_sql("SELECT inet_server_port()").scalar() == port
        eng.dispose()


def test_exec_driver_sql_uses_pyformat(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT %s::int * 2", (21,)).scalar() == 42
        assert conn.exec_driver_sql("SELECT %(x)s::text || '%%'", {"x": "5"}).scalar() == "5%"


@pytest.fixture(scope="module")
def tpc_engine(cluster: TemporaryCluster) -> Iterator[sa.Engine]:
    server = TemporaryCluster(ssl=False, extra_config={"max_prepared_transactions": 5})
    server.start()
    eng = sa.create_engine(_url(server.dsn()))
    try:
        yield eng
    finally:
        eng.dispose()
        server.stop()


def test_two_phase_commit(tpc_engine: sa.Engine) -> None:
    with tpc_engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS tpc_t")
        conn.exec_driver_sql("CREATE TABLE tpc_t (x int)")
    with tpc_engine.connect() as conn:
        xact = conn.begin_twophase()
        conn.exec_driver_sql("INSERT INTO tpc_t VALUES (1)")
        xact.prepare()
        assert tpc_engine.dialect.do_recover_twophase(conn) == [xact.xid]
        xact.commit()
    with tpc_engine.connect() as conn:
        xact = conn.begin_twophase()
        conn.exec_driver_sql("INSERT INTO tpc_t VALUES (2)")
        xact.prepare()
        xact.rollback()
        assert conn.exec_driver_sql("SELECT array_agg(x) FROM tpc_t").scalar() == [1]
        assert tpc_engine.dialect.do_recover_twophase(conn) == []


# -- an ORM application: models with relationships, create_all, queries, stream()


class Shelf(DeclarativeBase):
    pass


class Author(Shelf):
    __tablename__ = "sa_authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    books: Mapped[list[Book]] = relationship(back_populates="author",
                                             cascade="all, delete-orphan",
                                             order_by="Book.id")


class Book(Shelf):
    __tablename__ = "sa_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    year: Mapped[int]
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("sa_authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


def _library() -> list[Author]:
    return [Author(name="Le Guin", books=[Book(title="The Dispossessed", year=1974),
                                          Book(title="The Lathe of Heaven", year=1971)]),
            Author(name="Lem", books=[Book(title="Solaris", year=1961)])]


_BY_AUTHOR = (sa.select(Author.name, sa.func.count(Book.id).label("n"))
              .join(Author.books).group_by(Author.name).order_by(Author.name))


def test_orm_application_with_relationships(dsn: str) -> None:
    eng = sa.create_engine(_url(dsn))
    Shelf.metadata.drop_all(eng)
    Shelf.metadata.create_all(eng)
    try:
        with Session(eng) as session:
            session.add_all(_library())
            session.commit()
        with Session(eng) as session:
            authors = session.scalars(sa.select(Author).options(selectinload(Author.books))
                                      .order_by(Author.id)).all()
            assert [[b.title for b in a.books] for a in authors] == [
                ["The Dispossessed", "The Lathe of Heaven"], ["Solaris"]]
            assert [tuple(r) for r in session.execute(_BY_AUTHOR)] == [("Le Guin", 2), ("Lem", 1)]
            book = session.scalars(sa.select(Book).where(Book.year < 1970)).one()
            assert book.author.name == "Lem"  # lazy load
            streamed = [b.title for b in session.scalars(
                sa.select(Book).order_by(Book.year).execution_options(yield_per=1))]
            assert streamed == ["Solaris", "The Lathe of Heaven", "The Dispossessed"]
            session.delete(authors[1])
            session.commit()
            assert session.scalar(sa.select(sa.func.count(Book.id))) == 2
    finally:
        Shelf.metadata.drop_all(eng)
        eng.dispose()


async def test_async_orm_application_with_relationships(dsn: str) -> None:
    eng = create_async_engine(_url(dsn))
    async with eng.begin() as conn:
        await conn.run_sync(Shelf.metadata.drop_all)
        await conn.run_sync(Shelf.metadata.create_all)
    try:
        async with AsyncSession(eng, expire_on_commit=False) as session:
            session.add_all(_library())
            await session.commit()
        async with AsyncSession(eng) as session:
            authors = (await session.scalars(
                sa.select(Author).options(selectinload(Author.books)).order_by(Author.id))).all()
            assert [[b.title for b in a.books] for a in authors] == [
                ["The Dispossessed", "The Lathe of Heaven"], ["Solaris"]]
            assert [tuple(r) for r in await session.execute(_BY_AUTHOR)] == [
                ("Le Guin", 2), ("Lem", 1)]
            result = await session.stream_scalars(
                sa.select(Book).options(joinedload(Book.author)).order_by(Book.year))
            seen = [(b.title, b.author.name) async for b in result]
            assert seen == [("Solaris", "Lem"), ("The Lathe of Heaven", "Le Guin"),
                            ("The Dispossessed", "Le Guin")]
            await session.delete(authors[1])
            await session.commit()
            assert await session.scalar(sa.select(sa.func.count(Book.id))) == 2
    finally:
        async with eng.begin() as conn:
            await conn.run_sync(Shelf.metadata.drop_all)
        await eng.dispose()
