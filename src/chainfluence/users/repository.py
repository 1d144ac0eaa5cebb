"""User queries."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import Insert

from chainfluence.kit.db import DirectRead
from chainfluence.kit.dialect import dialect_name, upsert_statement
from chainfluence.kit.text import clean_text
from chainfluence.kit.time import utcnow
from chainfluence.models import Campaign, Channel, Deal, DealStatus, User, Wallet
from chainfluence.users.identity import TelegramIdentity

_REFRESHED_ON_LOGIN = (
    "username",
    "first_name",
    "last_name",
    "photo_url",
    "language_code",
    "is_premium",
    "last_login_at",
)


async def _upsert_row(
    executor: AsyncSession | AsyncConnection,
    user_id: int,
    values: Mapping[str, object],
    update: tuple[str, ...],
) -> None:
    """Insert the user, or update `update` columns if they exist: one race-free statement, so
    concurrent first contacts of the same person yield one row. `member_since` and the roles
    are written only by the insert."""
    now = utcnow()
    # Names come from Telegram (initData, updates): stored, never refused, but cleaned of what
    # the databases cannot hold or people should not see (see kit.text).
    values = {k: clean_text(v) if isinstance(v, str) else v for k, v in values.items()}
    row = {
        "id": user_id,
        "is_publisher": False,
        "is_advertiser": False,
        "member_since": now,
        "rating_sum": 0,
        "rating_count": 0,
        "created_at": now,
        "updated_at": now,
        **values,
    }
    statement = upsert_statement(
        executor.dialect.name if isinstance(executor, AsyncConnection) else dialect_name(executor),
        User.__table__,
        tuple(row),
        index_elements=("id",),
        update=(*update, "updated_at"),
    )
    if isinstance(executor, AsyncConnection):
        # A plain connection (the login's): sent as kit.db.DirectRead sends it.
        await _direct(statement).execute(executor, **row)
    else:
        await executor.execute(statement, row)


@functools.lru_cache(maxsize=16)
def _direct(statement: Insert) -> DirectRead:
    """One `DirectRead` per upsert shape (`upsert_statement` builds each shape once)."""
    return DirectRead(statement)


async def _upsert(
    session: AsyncSession, user_id: int, values: Mapping[str, object], update: tuple[str, ...]
) -> User:
    """`_upsert_row`, then the user as stored."""
    await _upsert_row(session, user_id, values, update)
    user = await session.get(User, user_id, populate_existing=True)
    assert user is not None
    return user


def _login_values(identity: TelegramIdentity) -> dict[str, object]:
    return {
        "username": identity.username,
        "first_name": identity.first_name,
        "last_name": identity.last_name,
        "photo_url": identity.photo_url,
        "language_code": identity.language_code,
        "is_premium": identity.is_premium,
        "last_login_at": utcnow(),
    }


async def upsert_from_identity(session: AsyncSession, identity: TelegramIdentity) -> User:
    """Register the user on first login, refresh names and photo on later ones."""
    return await _upsert(session, identity.id, _login_values(identity), _REFRESHED_ON_LOGIN)


async def record_login(connection: AsyncConnection, identity: TelegramIdentity) -> None:
    """`upsert_from_identity` without reading the user back (the caller reads what it needs),
    on a plain connection (see `kit.db.statement_connection`): the upsert is one statement."""
    await _upsert_row(connection, identity.id, _login_values(identity), _REFRESHED_ON_LOGIN)


async def get(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


_users = User.__table__
_wallets = Wallet.__table__
# Built once: SQLAlchemy then finds its compiled form by the statement's memoised cache key.
_PROFILE = (
    select(
        _users.c.id,
        _users.c.username,
        _users.c.first_name,
        _users.c.last_name,
        _users.c.photo_url,
        _users.c.language_code,
        _users.c.is_publisher,
        _users.c.is_advertiser,
        _users.c.rating_sum,
        _users.c.rating_count,
        _users.c.member_since,
        _users.c.created_at,
        _users.c.updated_at,
        _wallets.c.address.label("wallet_address"),
        _wallets.c.network.label("wallet_network"),
    )
    .select_from(
        _users.outerjoin(
            _wallets, and_(_wallets.c.user_id == _users.c.id, _wallets.c.unlinked_at.is_(None))
        )
    )
    .where(_users.c.id == bindparam("user_id"))
)


_PROFILE_READ = DirectRead(_PROFILE)
_EXISTS_READ = DirectRead(select(_users.c.id).where(_users.c.id == bindparam("user_id")))
_PROFILE_COLUMNS = tuple(_PROFILE.selected_columns.keys())


async def profile_row(connection: AsyncConnection, user_id: int) -> Mapping[str, Any] | None:
    """The columns of the caller's profile, their linked wallet's address and network (none if
    unlinked), in one SELECT on a plain connection (see `kit.db.read_connection`), sent as
    `kit.db.DirectRead` sends it."""
    row = await _PROFILE_READ.first(connection, user_id=user_id)
    return None if row is None else dict(zip(_PROFILE_COLUMNS, row, strict=True))


async def exists(connection: AsyncConnection, user_id: int) -> bool:
    """The user is registered (one SELECT on a plain connection, as `profile_row`)."""
    return await _EXISTS_READ.first(connection, user_id=user_id) is not None


async def current_wallet(session: AsyncSession, user_id: int) -> Wallet | None:
    statement = select(Wallet).where(Wallet.user_id == user_id, Wallet.unlinked_at.is_(None))
    return (await session.execute(statement)).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class PublisherTotals:
    channels_listed: int
    earned_nano: int
    deals_completed: int


@dataclass(frozen=True, slots=True)
class AdvertiserTotals:
    spent_nano: int
    deals_completed: int
    campaigns_created: int


async def publisher_totals(session: AsyncSession, user_id: int) -> PublisherTotals:
    channels = await session.scalar(
        select(func.count())
        .select_from(Channel)
        .where(Channel.owner_id == user_id, Channel.deleted_at.is_(None))
    )
    earned, completed = (
        await session.execute(
            select(
                func.coalesce(func.sum(Deal.price_nano - Deal.platform_fee_nano), 0),
                func.count(),
            ).where(Deal.publisher_id == user_id, Deal.status == DealStatus.released)
        )
    ).one()
    return PublisherTotals(int(channels or 0), int(earned), int(completed))


async def advertiser_totals(session: AsyncSession, user_id: int) -> AdvertiserTotals:
    spent, completed = (
        await session.execute(
            select(func.coalesce(func.sum(Deal.price_nano), 0), func.count()).where(
                Deal.advertiser_id == user_id, Deal.status == DealStatus.released
            )
        )
    ).one()
    campaigns = await session.scalar(
        select(func.count())
        .select_from(Campaign)
        .where(Campaign.advertiser_id == user_id, Campaign.deleted_at.is_(None))
    )
    return AdvertiserTotals(int(spent), int(completed), int(campaigns or 0))


async def upsert_from_telegram(
    session: AsyncSession,
    *,
    user_id: int,
    first_name: str,
    last_name: str | None,
    username: str | None,
    language_code: str | None,
    is_premium: bool,
) -> User:
    """Register someone who wrote to the bot (or refresh their names); not a login, so
    `last_login_at` and the photo stay as they are."""
    values = {
        "username": username,
        "first_name": first_name,
        "last_name": last_name,
        "language_code": language_code,
        "is_premium": is_premium,
    }
    return await _upsert(
        session,
        user_id,
        values,
        ("username", "first_name", "last_name", "language_code", "is_premium"),
    )
