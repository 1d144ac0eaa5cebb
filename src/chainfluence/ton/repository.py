"""Queries of the chain side: recorded transactions, cursors, payout orders (no deal tables)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.kit import dialect
from chainfluence.kit.time import utcnow
from chainfluence.models import (
    ACTIVE_ACTION_STATUSES,
    ChainCursor,
    ChainTransaction,
    ChainTxKind,
    EscrowAction,
    EscrowActionKind,
)

__all__ = [
    "active_action",
    "active_actions",
    "deposited_before",
    "get_cursor",
    "insert_transaction",
    "set_cursor",
]


async def insert_transaction(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Record a chain transaction unless its hash is already recorded; True if this call did.

    Concurrent writers of the same hash wait on the unique index and the loser inserts nothing,
    so "inserted" is exactly-once even without the watcher lock.
    """
    statement = dialect.upsert(
        session,
        ChainTransaction.__table__,  # type: ignore[arg-type]
        {"created_at": utcnow(), **values},
        index_elements=["hash"],
        update=[],
    ).returning(ChainTransaction.id)
    inserted = (await session.execute(statement)).scalar_one_or_none()
    return inserted is not None


async def deposited_before(session: AsyncSession, *, account: str, lt: int) -> int:
    """What deposits recorded for the escrow before ``lt`` left in it (returned ones excluded)."""
    statement = select(ChainTransaction.amount_nano, ChainTransaction.details).where(
        ChainTransaction.account == account,
        ChainTransaction.kind == ChainTxKind.deposit,
        ChainTransaction.lt < lt,
    )
    rows = (await session.execute(statement)).all()
    return sum(amount for amount, details in rows if not (details or {}).get("returned"))


async def get_cursor(session: AsyncSession, name: str) -> dict[str, Any] | None:
    row = await session.get(ChainCursor, name, populate_existing=True)
    return dict(row.position) if row is not None else None


async def set_cursor(
    session: AsyncSession, name: str, position: dict[str, Any], *, expected: dict[str, Any] | None
) -> bool:
    """Move the cursor from ``expected`` (None: it must not exist yet) to ``position``.

    A compare-and-set: False when another watcher moved it first, so the caller rolls back what
    it read instead of recording it a second time.
    """
    if expected is None:
        statement = dialect.upsert(
            session,
            ChainCursor.__table__,  # type: ignore[arg-type]
            {"name": name, "position": position, "updated_at": utcnow()},
            index_elements=["name"],
            update=[],
        ).returning(ChainCursor.name)
        return (await session.execute(statement)).scalar_one_or_none() is not None
    current = await session.get(ChainCursor, name, with_for_update=True, populate_existing=True)
    if current is None or current.position != expected:
        return False
    current.position = position
    await session.flush()
    return True


async def active_actions(session: AsyncSession, *, limit: int) -> Sequence[EscrowAction]:
    statement = (
        select(EscrowAction)
        .where(EscrowAction.status.in_(ACTIVE_ACTION_STATUSES))
        .order_by(EscrowAction.id)
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()


async def active_action(
    session: AsyncSession, deal_id: int, *, lock: bool = False
) -> EscrowAction | None:
    statement = select(EscrowAction).where(
        EscrowAction.deal_id == deal_id, EscrowAction.status.in_(ACTIVE_ACTION_STATUSES)
    )
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one_or_none()


async def action_for(
    session: AsyncSession, deal_id: int, kind: EscrowActionKind
) -> EscrowAction | None:
    statement = select(EscrowAction).where(
        EscrowAction.deal_id == deal_id, EscrowAction.kind == kind
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def lock_action(session: AsyncSession, action_id: int) -> EscrowAction | None:
    statement = (
        select(EscrowAction)
        .where(EscrowAction.id == action_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def action_by_query_id(session: AsyncSession, query_id: int) -> EscrowAction | None:
    statement = (
        select(EscrowAction)
        .where(EscrowAction.query_id == query_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def mark_broadcast(session: AsyncSession, action_ids: Collection[int], seqno: int) -> None:
    """Note when the attempt at ``seqno`` went out (only where it is still that attempt)."""
    await session.execute(
        update(EscrowAction)
        .where(
            and_(
                EscrowAction.id.in_(list(action_ids)),
                EscrowAction.wallet_seqno == seqno,
                EscrowAction.status.in_(ACTIVE_ACTION_STATUSES),
            )
        )
        .values(broadcast_at=utcnow())
        .execution_options(synchronize_session=False)
    )
