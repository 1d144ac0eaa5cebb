"""List totals kept between writes: exact counts a list does not recount on every page.

A total is stored with the version of its scope (e.g. "catalogue") read before it was counted.
Every commit that changed a table the scope counts bumps the version after the commit (the
domain's flush hook registers the bump as an after-commit callback, awaited before the response
is sent), so a stored total is used only while nothing it counts has changed since:

- a writer's own next request sees its change: the bump ran before its response went out;
- a total counted while a write committed is stored under the version read before counting,
  which that write's bump makes stale;
- another process's commit becomes visible a moment before its bump; a total read in that
  window is the one from just before the commit, the same as a reader a moment earlier got.
- Writes that bypass the sessions (bulk SQL by hand) bump nothing: entries expire after `ttl`
  seconds, bounding how long such a total can be off.

A list registers its scope and the tables it counts with `bump_on_writes`; `kept_total` answers
its full pages and `kit.pagination.total_on_page` the pages that prove their own total. A scope
whose totals depend on a few columns only (e.g. whether a channel is listed) registers them:
then only inserts, deletes and updates that set one of them bump it, and the frequent writes of
other columns (a stats refresh) leave its totals kept. With Redis (`CHAINFLUENCE_REDIS__URL`)
the versions and totals are shared by every process. Without it everything runs in one process
(the API refuses `--workers` then), and they live in its memory.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ORMExecuteState, Session

from chainfluence.kit.db import after_commit, on_rollback

if TYPE_CHECKING:
    from redis.asyncio import Redis

TOTALS_INFO_KEY = "chainfluence.totals"
DEFAULT_TTL = 300.0
_CHANGED_KEY = "chainfluence.totals.changed"
# Table name -> the scopes whose totals count its rows (`bump_on_writes`).
_SCOPES_OF: dict[str, frozenset[str]] = {}
# Table name -> scope -> the columns (attribute keys) its totals read, for scopes that need not
# hear of updates to the table's other columns.
_COLUMN_SCOPES_OF: dict[str, dict[str, frozenset[str]]] = {}


class Totals:
    """Versioned totals per scope. `namespace` keeps databases sharing a Redis apart."""

    def __init__(self, *, redis: Redis | None, namespace: str, ttl: float = DEFAULT_TTL) -> None:
        self._redis = redis
        self._prefix = f"chainfluence:totals:{namespace}"
        self._ttl = ttl
        self._versions: dict[str, int] = {}
        self._entries: dict[tuple[str, str], tuple[int, int, float]] = {}

    async def get(self, scope: str, key: str) -> tuple[int, int | None]:
        """The scope's version now, and the total stored for `key` if it is of that version."""
        if self._redis is None:
            version = self._versions.get(scope, 0)
            entry = self._entries.get((scope, key))
            if entry is None or entry[0] != version or entry[2] < time.monotonic():
                return version, None
            return version, entry[1]
        # One command (a pipeline of two GETs costs the same round trip and more Python).
        raw_version, raw_entry = await self._redis.mget(
            f"{self._prefix}:{scope}:version", f"{self._prefix}:{scope}:{key}"
        )
        version = int(raw_version or 0)
        if raw_entry is None:
            return version, None
        text = raw_entry.decode() if isinstance(raw_entry, bytes) else raw_entry
        stored_version, _, total = text.partition(":")
        return version, int(total) if int(stored_version) == version else None

    async def put(self, scope: str, key: str, version: int, total: int) -> None:
        """Store `total`, counted after `version` was read."""
        if self._redis is None:
            self._entries[(scope, key)] = (version, total, time.monotonic() + self._ttl)
            if len(self._entries) > 10_000:
                self._drop_expired()
            return
        await self._redis.set(
            f"{self._prefix}:{scope}:{key}", f"{version}:{total}", ex=max(1, int(self._ttl))
        )

    async def bump(self, scope: str) -> None:
        """Something the scope counts changed (call after the commit)."""
        if self._redis is None:
            self._versions[scope] = self._versions.get(scope, 0) + 1
            return
        await self._redis.incr(f"{self._prefix}:{scope}:version")

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for key in [key for key, entry in self._entries.items() if entry[2] < now]:
            del self._entries[key]


async def kept_total(
    totals: Totals | None, scope: str, key: str, count: Callable[[], Awaitable[int]]
) -> int:
    """The total of the list `key` names in `scope` (its filters, never its sort): kept, or
    counted with `count` and kept under the version read before counting."""
    if totals is None:
        return await count()
    digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    version, kept = await totals.get(scope, digest)
    if kept is not None:
        return kept
    counted = await count()
    await totals.put(scope, digest, version, counted)
    return counted


def bump_on_writes(scope: str, *tables: str, columns: Collection[str] | None = None) -> None:
    """Bump `scope`'s version after every commit that writes one of `tables` (ORM objects
    flushed, and INSERT/UPDATE/DELETE statements, upserts included); with `columns` (attribute
    keys, which are the column names here), only after inserts, deletes, and updates that set
    one of them (an UPDATE statement whose columns cannot be told bumps). Idempotent; the wiring
    calls it through each list's `install`."""
    for table in tables:
        if columns is None:
            _SCOPES_OF[table] = _SCOPES_OF.get(table, frozenset()) | {scope}
        else:
            _COLUMN_SCOPES_OF.setdefault(table, {})[scope] = frozenset(columns)
    for name, hook in (("after_flush", _after_flush), ("do_orm_execute", _do_orm_execute)):
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


def _changed(session: Session, scopes: frozenset[str]) -> None:
    totals: Totals | None = session.info.get(TOTALS_INFO_KEY)
    if totals is None:
        return
    pending: set[str] = session.info.setdefault(_CHANGED_KEY, set())
    new = scopes - pending
    if not new:
        return
    first = not pending
    pending.update(new)
    if not first:
        return  # the bump registered for this transaction takes the new scopes too

    async def bump() -> None:
        for scope in sorted(session.info.pop(_CHANGED_KEY, set())):
            await totals.bump(scope)

    after_commit(session, bump)
    on_rollback(session, lambda: session.info.pop(_CHANGED_KEY, None))


def _after_flush(session: Session, _flush: Any) -> None:
    # Still the state before the flush: the lists and each attribute's history (what changed).
    scopes: frozenset[str] = frozenset()
    for objects in (session.new, session.deleted):
        for obj in objects:
            table = getattr(obj, "__tablename__", "")
            scopes |= _SCOPES_OF.get(table, frozenset())
            scopes |= frozenset(_COLUMN_SCOPES_OF.get(table, ()))
    for obj in session.dirty:
        table = getattr(obj, "__tablename__", "")
        scopes |= _SCOPES_OF.get(table, frozenset())
        by_columns = _COLUMN_SCOPES_OF.get(table)
        if by_columns:
            attrs = sa_inspect(obj).attrs
            scopes |= {
                scope
                for scope, columns in by_columns.items()
                if any(attrs[key].history.has_changes() for key in columns)
            }
    if scopes:
        _changed(session, scopes)


def _do_orm_execute(state: ORMExecuteState) -> None:
    # Statements that write a counted table (ORM-enabled or on the Table, upserts included).
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None) or ""
    scopes = _SCOPES_OF.get(name, frozenset())
    by_columns = _COLUMN_SCOPES_OF.get(name)
    if by_columns:
        updated = _updated_columns(state) if state.is_update else None
        scopes |= {
            scope
            for scope, columns in by_columns.items()
            if updated is None or not updated.isdisjoint(columns)
        }
    if scopes:
        _changed(state.session, scopes)


def _updated_columns(state: ORMExecuteState) -> set[str] | None:
    """The columns an UPDATE statement sets (names), or None when they cannot be told. Its
    parameters are counted in too (those of an executemany by primary key, and any other bound
    value: more names only bump more)."""
    statement: Any = state.statement
    names: set[str] = set()
    for key in getattr(statement, "_values", None) or {}:  # `.values()`, ordered or not
        name = key if isinstance(key, str) else getattr(key, "key", None)
        if not isinstance(name, str):
            return None
        names.add(name)
    if getattr(statement, "_multi_values", None):
        return None
    parameters: Any = state.parameters
    rows = parameters if isinstance(parameters, list | tuple) else [parameters or {}]
    for row in rows:
        names.update(row)
    return names or None
