"""Database plumbing: engine and session factories, portable column types, the unit of work.

One code base runs on PostgreSQL (asyncpg) and SQLite (aiosqlite). SQLite connections get
foreign keys, WAL and a busy timeout; write transactions on SQLite start with `BEGIN IMMEDIATE`
so that two writers queue up instead of failing half-way (PostgreSQL uses row locks instead).

Only the code that opens a session commits it (`session_scope`): request dependency, job wrapper,
bot middleware. Work that must happen after the data is durable (jobs, Telegram messages) is
registered with `after_commit` and runs only once the commit succeeded; a rollback drops it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, Select, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as sa_create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.compiler import DDLCompiler, SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util.concurrency import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

from chainfluence.kit.time import UTC

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware timestamp stored in UTC; naive datetimes are refused on the way in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: times must carry a timezone")
        value = value.astimezone(UTC)
        # SQLite has no timezone type; store naive UTC text that sorts correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON everywhere, JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, echo: bool = False
) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa_create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    engine = sa_create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # asyncpg decodes json/jsonb with the dialect's codec (stdlib json unless told).
        json_deserializer=orjson.loads,
        poolclass=SurplusKeepingPool,
    )
    _ping_idle_connections(engine)
    return engine


class _IdleConnections(AsyncAdaptedQueue[ConnectionPoolEntry]):
    """The pool's idle connections, handed out first come, first served, and never full: how
    many connections exist is bounded by the pool's overflow count, how many stay idle by
    `SurplusKeepingPool`.

    SQLAlchemy's asyncio queue lets a checkout barge: a connection coming back wakes the
    longest waiter, but before that waiter runs, any request arriving in the meantime takes the
    connection from the queue, and the waiter, finding it empty again, queues at the back.
    Under sustained load some requests lost that race over and over: the catalogue at 64
    connections (pool 20 + 10) waited 0.1 ms for a connection at the median and 389 ms at the
    99th percentile. Here a connection that comes back while requests wait goes straight to
    the longest waiter, and a checkout finds an idle connection only when nobody waits.
    """

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._idle: collections.deque[ConnectionPoolEntry] = collections.deque()
        self._waiters: collections.deque[asyncio.Future[ConnectionPoolEntry]] = collections.deque()

    def empty(self) -> bool:
        return not self._idle

    def full(self) -> bool:
        return False

    def qsize(self) -> int:
        return len(self._idle)

    def put_nowait(self, item: ConnectionPoolEntry) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        self._idle.append(item)

    def put(
        self, item: ConnectionPoolEntry, block: bool = True, timeout: float | None = None
    ) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> ConnectionPoolEntry:
        if not self._idle:
            raise Empty()
        return self._idle.pop() if self.use_lifo else self._idle.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> ConnectionPoolEntry:
        if self._idle or not block:
            return self.get_nowait()
        waiter: asyncio.Future[ConnectionPoolEntry] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return await_(self._wait(waiter, timeout))

    async def _wait(
        self, waiter: asyncio.Future[ConnectionPoolEntry], timeout: float | None
    ) -> ConnectionPoolEntry:
        try:
            async with asyncio.timeout(timeout):
                # Shielded: a timeout or a cancelled request must not lose a connection
                # handed over at the same moment; it is passed on below instead.
                return await asyncio.shield(waiter)
        except BaseException as error:
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            if isinstance(error, TimeoutError):
                raise Empty() from error
            raise


# A connection beyond `pool_size` is closed once it has been idle this long (see below).
SURPLUS_IDLE_SECONDS = 10.0
_RETURNED_AT = "chainfluence.returned_at"


class SurplusKeepingPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool, except that the connections beyond `pool_size` (the
    overflow) are closed once they have sat idle for `SURPLUS_IDLE_SECONDS`, not as they
    come back.

    SQLAlchemy's pool keeps at most `pool_size` connections idle and closes any other as it
    comes back. Under sustained load the number in use swings around `pool_size` from one turn
    of the event loop to the next (and more than `pool_size` can come back in one turn while
    requests wait for one), so overflow connections were opened and closed all the time: each
    one a PostgreSQL backend started and a connection set up (our TLS attempt, its start-up
    messages, its prepared statements again) for a handful of requests. GET /v1/users/me at 64
    connections (pool 20 + 10) opened a new connection for one request in 15 to 25.

    Here a connection that comes back always waits in the pool; a checkout that draws one
    idle for `SURPLUS_IDLE_SECONDS` while at least `pool_size` others are idle closes it (it
    is surplus: the pool has had more than it needed all that while) and draws again. The
    limit is unchanged (at most `pool_size + max_overflow` connections); a pool left idle
    keeps its surplus until its next checkouts (never more than that limit).
    """

    _queue_class = _IdleConnections

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()
        self._pool.put(record, False)

    def _do_get(self) -> ConnectionPoolEntry:
        while True:
            record = super()._do_get()
            returned_at = record.info.get(_RETURNED_AT)
            if (
                returned_at is None
                or self._pool.qsize() < self._pool.maxsize
                or time.monotonic() - returned_at < SURPLUS_IDLE_SECONDS
            ):
                return record
            try:
                record.close()
            finally:
                self._dec_overflow()


# A pooled connection unused for longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 5.0
_CHECKED_IN_AT = "chainfluence.checked_in_at"


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only when it has been idle a while.

    SQLAlchemy's `pool_pre_ping` checks every checkout, and on asyncpg its ping is three round
    trips (BEGIN, an empty statement, ROLLBACK): more than most requests spend on their own
    queries. A connection handed back moments ago is almost surely alive; one that sat idle may
    have been closed by the server, a proxy or a restart, so that one is pinged and, if dead,
    replaced before any statement runs on it. A server lost while a connection is busy fails
    that statement as it would anyway, and SQLAlchemy then invalidates the whole pool.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_PING_SECONDS:
            return  # new, or back in the pool moments ago
        try:
            dbapi_connection.ping()
        except Exception as error:
            # The pool discards this connection and checks out another (a fresh one if need be).
            raise sa_exc.DisconnectionError(f"idle connection is gone: {error}") from error


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("sqlite_immediate", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


AfterCommit = Callable[[], Awaitable[None]]
_AFTER_COMMIT_KEY = "chainfluence.after_commit"
_ON_ROLLBACK_KEY = "chainfluence.on_rollback"


def after_commit(session: AsyncSession | Session, callback: AfterCommit) -> None:
    """Run `callback` once the session's transaction has committed; dropped on rollback.

    Either side of an async session may register (they share `info`): the sync one is what
    SQLAlchemy's flush hooks receive."""
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


def on_rollback(session: AsyncSession | Session, callback: Callable[[], None]) -> None:
    """Run `callback` if the session's transaction is rolled back (e.g. remove a written file)."""
    session.info.setdefault(_ON_ROLLBACK_KEY, []).append(callback)


async def begin_write(session: AsyncSession) -> None:
    """Start the session's transaction as a writer.

    On SQLite this emits `BEGIN IMMEDIATE`, taking the write lock up front so a read-then-write
    sequence cannot fail half-way; on PostgreSQL it is a plain BEGIN (rows are locked explicitly).
    Must be called before the session runs its first statement.
    """
    await session.connection(execution_options={"sqlite_immediate": True})


async def commit(session: AsyncSession) -> None:
    """Commit, then run the after-commit callbacks (failures there are logged, not raised)."""
    try:
        await session.commit()
    except BaseException:
        await rollback(session)
        raise
    session.info.pop(_ON_ROLLBACK_KEY, None)
    callbacks: list[AfterCommit] = session.info.pop(_AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            # The data is committed; anything queued here is re-found by a periodic sweep.
            log.exception("after-commit callback failed")


async def rollback(session: AsyncSession) -> None:
    session.info.pop(_AFTER_COMMIT_KEY, None)
    callbacks: list[Callable[[], None]] = session.info.pop(_ON_ROLLBACK_KEY, [])
    try:
        await session.rollback()
    finally:
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("on-rollback callback failed")


@contextlib.asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    write: bool = True,
    autocommit: bool = False,
    info: dict[str, Any] | None = None,
) -> AsyncIterator[AsyncSession]:
    """A session and its transaction: committed when the block succeeds, rolled back otherwise.

    `autocommit` (reads only): on PostgreSQL the statements run without BEGIN and COMMIT around
    them, two round trips fewer. Under READ COMMITTED, PostgreSQL's level here, every statement
    takes its own snapshot even inside a transaction, so a reader sees exactly what it would
    have seen in one. A statement that writes commits by itself: use it only where nothing
    writes, or where every write is one statement that stands on its own. SQLite ignores it.
    """
    async with sessionmaker() as session:
        if info:
            session.info.update(info)
        if write:
            await begin_write(session)
        elif autocommit and session.bind is not None and session.bind.dialect.name != "sqlite":
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        try:
            yield session
        except BaseException:
            await rollback(session)
            raise
        await commit(session)


@contextlib.asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection for one read outside any session: no ORM, no unit of work.

    On PostgreSQL its statements run without BEGIN and COMMIT around them (autocommit, as a
    reader's session in `session_scope`); SQLite wraps them in a transaction rolled back at the
    end. For the hottest reads (e.g. GET /v1/users/me), whose rows go straight to the wire.
    """
    if engine.dialect.name == "sqlite":
        async with engine.connect() as connection:
            yield connection
        return
    async with engine.connect() as connection:
        # asyncpg itself runs each statement on its own unless a transaction is started, and
        # `DirectRead` starts none; the DBAPI adapter starts one before any other statement
        # unless told it is in autocommit. Told directly, for the block only: the isolation
        # level as an execution option did the same through the connection's events on every
        # checkout and reset it on every return, more CPU than the read it wraps.
        sync = connection.sync_connection
        assert sync is not None
        adapter = sync.connection.dbapi_connection
        assert adapter is not None
        adapter.autocommit = True
        try:
            yield connection
        finally:
            adapter.autocommit = False


# PostgreSQL's timestamptz: asyncpg already returns it aware, in UTC (`UTCDateTime` adds nothing).
_TIMESTAMPTZ_OID = 1184


class DirectRead:
    """A read compiled once, whose rows go straight to the wire: for the hottest lists and
    lookups (a catalogue page, the current user), where SQLAlchemy's per-execution work (cache
    key, compiled-cache lookup, execution context, `Result` and `Row` objects) costs more than
    the database does.

    Build it once per statement *shape* (module level, or cached per combination of filters),
    with `bindparam("name")` for every value that changes between executions, and run it with
    `await read.all(connection, name=value, ...)` on a `read_connection`.

    On PostgreSQL (asyncpg) the statement is compiled once per dialect and sent as it is on the
    pooled connection's asyncpg connection (positional `$n` arguments, asyncpg's own prepared
    statement cache). Rows are what SQLAlchemy would have returned, as plain tuples: bind values
    go through their types' bind processors, and result columns through their types' result
    processors where asyncpg's value differs (found once, from the statement's real column
    types); json/jsonb are decoded by the connection's codec (orjson, `create_engine`), enums
    come back as SQLAlchemy returns them, timestamptz as aware UTC datetimes. Elsewhere
    (SQLite) it is a normal `connection.execute`, rows as tuples: the same values.

    A value the plan depends on (a search pattern, LIMIT and OFFSET) can be bound with
    `bindparam(name, type_=..., literal_execute=True)`: it is written into the SQL at each
    execution (its type renders it), so each value is its own prepared statement and PostgreSQL
    plans knowing it. Bound, such a value leaves the plan cache a generic plan that guesses (a
    LIKE pattern matches 0.5 % of rows) or, for LIMIT, one it never takes: every execution is
    planned again.

    One kind of write too, with `execute`: a statement that returns no rows and stands on its
    own (the login's user upsert), on a `statement_connection`, with a value for every column
    that has a Python-side default (refused otherwise). Not for: other writes (in a
    transaction, or reading back rows); statements with expanding IN lists (refused when
    compiled); anything relying on SQLAlchemy's other statement events or echo (the raw path
    fires only `before_cursor_execute`, without a cursor or an execution context) or on its
    wrapped errors (asyncpg's own exceptions come through; a connection the server closed is
    invalidated). ORM entities are not loaded: select columns.
    """

    __slots__ = ("_compiled", "_statement")

    def __init__(self, statement: Select[Any] | Insert) -> None:
        self._statement = statement
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()

    async def all(self, connection: AsyncConnection, /, **params: Any) -> list[tuple[Any, ...]]:
        """Every row, as tuples in the statement's column order."""
        dialect = connection.dialect
        if dialect.driver != "asyncpg":
            result = await connection.execute(self._statement, params)
            return [tuple(row) for row in result.all()]
        compiled, driver, sql, arguments = await self._prepare(connection, params)
        try:
            if compiled.processors is None:
                compiled.processors = await compiled.find_processors(driver, sql, arguments)
            records = await driver.fetch(sql, *arguments)
        except Exception as error:
            if driver.is_closed():
                await connection.invalidate(error)
            raise
        processors = compiled.processors
        if not any(processors):
            return [tuple(record) for record in records]
        return [
            tuple(value if process is None or value is None else process(value)
                  for process, value in zip(processors, record, strict=True))
            for record in records
        ]  # fmt: skip

    async def first(self, connection: AsyncConnection, /, **params: Any) -> tuple[Any, ...] | None:
        """The first row, or None (the statement should limit itself to one row)."""
        rows = await self.all(connection, **params)
        return rows[0] if rows else None

    async def execute(self, connection: AsyncConnection, /, **params: Any) -> None:
        """Run a write that returns no rows and stands on its own as one statement (an
        upsert), on a connection whose statements each commit (`statement_connection`)."""
        if connection.dialect.driver != "asyncpg":
            await connection.execute(self._statement, params)
            return
        _compiled, driver, sql, arguments = await self._prepare(connection, params)
        try:
            await driver.execute(sql, *arguments)
        except Exception as error:
            if driver.is_closed():
                await connection.invalidate(error)
            raise

    async def _prepare(
        self, connection: AsyncConnection, params: dict[str, Any]
    ) -> tuple[_Compiled, Any, str, list[Any]]:
        """The compiled statement, the asyncpg connection, the SQL and its arguments."""
        dialect = connection.dialect
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = self._compiled[dialect] = _Compiled.of(self._statement, dialect)
        sync = connection.sync_connection
        if sync is not None and not (sync.invalidated or sync.closed):
            # Checked out already: read it off the connection, without the greenlet that
            # `get_raw_connection` spawns for the same attribute (its path may reconnect).
            driver = sync.connection.driver_connection
        else:
            driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        sql, arguments = compiled.sql_and_arguments(params)
        events = connection.sync_connection.dispatch if connection.sync_connection else None
        if events is not None and events.before_cursor_execute:
            # Whoever listens for the statements a connection sends (tests that check how a
            # read is sent, tracing) still sees this one; it has no cursor or context.
            for listener in events.before_cursor_execute:
                listener(connection.sync_connection, None, sql, arguments, None, False)
        return compiled, driver, sql, arguments


@dataclass(slots=True)
class _Compiled:
    """A statement as asyncpg takes it: SQL text, argument order, bind and result processing."""

    compiled: SQLCompiler
    sql: str
    names: tuple[str, ...]
    bind_processors: dict[str, Callable[[Any], Any]]
    # Some values are written into the SQL at each execution (`literal_execute`).
    rendered: bool = False
    # One per result column (None: asyncpg's value is SQLAlchemy's); found on first execution.
    processors: list[Callable[[Any], Any] | None] | None = None

    @classmethod
    def of(cls, statement: Select[Any] | Insert, dialect: Dialect) -> _Compiled:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if compiled.post_compile_params - compiled.literal_execute_params:
            raise ValueError("DirectRead takes no expanding parameters")
        if compiled.insert_prefetch or compiled.update_prefetch:
            # SQLAlchemy's execution computes these; the raw path would send NULL instead.
            raise ValueError("DirectRead computes no column defaults: give every column a value")
        return cls(
            compiled=compiled,
            sql=compiled.string,
            names=tuple(compiled.positiontup or ()),
            bind_processors=dict(compiled._bind_processors),  # type: ignore[arg-type]
            rendered=bool(compiled.literal_execute_params),
        )

    def sql_and_arguments(self, params: dict[str, Any]) -> tuple[str, list[Any]]:
        """The SQL to send and its positional arguments: the compiled SQL as it is, or, with
        `literal_execute` values, the SQL with this execution's values written in."""
        if not self.rendered:
            return self.sql, self.arguments(params)
        values = self.compiled.construct_params(params)
        state = self.compiled.construct_expanded_state(values)
        arguments = []
        for name in state.positiontup or ():
            value = values[name]
            process = self.bind_processors.get(name)
            arguments.append(value if process is None else process(value))
        return state.statement, arguments

    def arguments(self, params: dict[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(params)
        arguments = []
        for name in self.names:
            value = values[name]
            process = self.bind_processors.get(name)
            arguments.append(value if process is None else process(value))
        return arguments

    async def find_processors(
        self, driver: Any, sql: str, arguments: Sequence[Any]
    ) -> list[Callable[[Any], Any] | None]:
        # The result processors of some types depend on the column's real type (numeric vs
        # float8), which only the server knows: ask it once, as SQLAlchemy reads each cursor's.
        prepared = await driver.prepare(sql)
        oids = [attribute.type.oid for attribute in prepared.get_attributes()]
        dialect = self.compiled.dialect
        processors: list[Callable[[Any], Any] | None] = []
        for column, oid in zip(self.compiled._result_columns, oids, strict=True):
            if isinstance(column.type, UTCDateTime) and oid == _TIMESTAMPTZ_OID:
                processors.append(None)
                continue
            processors.append(column.type._cached_result_processor(dialect, oid))
        return processors


@contextlib.asynccontextmanager
async def statement_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """`read_connection` for a block whose writes each stand on their own as one statement
    (the login's user upsert): on PostgreSQL every statement commits by itself, no BEGIN and
    COMMIT round trips; SQLite runs the block in one transaction, committed at the end."""
    if engine.dialect.name == "sqlite":
        async with engine.begin() as connection:
            yield connection
        return
    async with read_connection(engine) as connection:
        yield connection


@compiles(CreateIndex, "sqlite")
def _sqlite_index_without_nulls_order(create: CreateIndex, compiler: DDLCompiler, **kw: Any) -> str:
    """SQLite takes no NULLS FIRST/LAST in an index (its NULLs already sort first ascending and
    last descending, as PostgreSQL's NULLS LAST indexes here say); drop the words there."""
    ddl: str = compiler.visit_create_index(create, **kw)  # type: ignore[no-untyped-call]
    return ddl.replace(" NULLS LAST", "")
