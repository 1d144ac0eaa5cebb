"""Wallet and ton_proof challenge queries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.deals.repository import FINAL_STATUSES
from chainfluence.models import Channel, Deal, TonProofPayload, User, Wallet


async def add_payload(
    session: AsyncSession, *, payload: str, user_id: int, now: dt.datetime, expires_at: dt.datetime
) -> TonProofPayload:
    challenge = TonProofPayload(
        payload=payload, user_id=user_id, created_at=now, expires_at=expires_at
    )
    session.add(challenge)
    await session.flush()
    return challenge


async def get_payload(session: AsyncSession, payload: str) -> TonProofPayload | None:
    statement = select(TonProofPayload).where(TonProofPayload.payload == payload)
    return (await session.execute(statement)).scalar_one_or_none()


async def consume_payload(
    session: AsyncSession, *, payload_id: int, user_id: int, now: dt.datetime
) -> bool:
    """Mark the challenge used, if it still is usable; False if another request got there first.

    One conditional UPDATE: on PostgreSQL a concurrent one waits for this row lock and then finds
    `used_at` set; SQLite writers are serial. So of two submissions of one proof, one links.
    """
    statement = (
        update(TonProofPayload)
        .where(
            TonProofPayload.id == payload_id,
            TonProofPayload.user_id == user_id,
            TonProofPayload.used_at.is_(None),
            TonProofPayload.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def purge_payloads(session: AsyncSession, *, before: dt.datetime) -> int:
    """Delete challenges that expired before `before` (used or not): they can never verify."""
    result = await session.execute(
        delete(TonProofPayload).where(TonProofPayload.expires_at < before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def lock_user(session: AsyncSession, user_id: int) -> None:
    """Serialize wallet changes of one user (PostgreSQL row lock; SQLite writers are serial)."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())


async def current_wallet(session: AsyncSession, user_id: int) -> Wallet | None:
    statement = (
        select(Wallet)
        .where(Wallet.user_id == user_id, Wallet.unlinked_at.is_(None))
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def add_wallet(session: AsyncSession, wallet: Wallet) -> Wallet:
    session.add(wallet)
    await session.flush()
    return wallet


async def open_deals_paying(session: AsyncSession, *, user_id: int, address: str) -> list[int]:
    """Open deals whose frozen escrow terms send this user's money to `address`.

    The advertiser's refund address, or the payout address of a channel the user owns (payouts
    go to the owner even when a manager made the deal).
    """
    owned_channels = select(Channel.id).where(Channel.owner_id == user_id)
    statement = (
        select(Deal.id)
        .where(
            Deal.escrow_address.is_not(None),
            # Not closed yet: its escrow may still pay out to a wallet fixed in its terms.
            Deal.status.not_in(list(FINAL_STATUSES)),
            or_(
                (Deal.advertiser_id == user_id) & (Deal.advertiser_wallet == address),
                Deal.channel_id.in_(owned_channels) & (Deal.publisher_wallet == address),
            ),
        )
        .order_by(Deal.id)
    )
    return list((await session.execute(statement)).scalars())
