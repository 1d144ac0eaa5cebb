"""Deal queries."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    String,
    bindparam,
    func,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chainfluence.channels import repository as channels
from chainfluence.kit.db import DirectRead
from chainfluence.kit.pagination import PagedRead, PageParams
from chainfluence.models import Creative, Deal, DealStatus
from chainfluence.models.deals import FINAL_DEAL_STATUSES

FINAL_STATUSES = FINAL_DEAL_STATUSES
# The ad post is up and its hold runs (an edited one waits for the advertiser's decision).
LIVE_STATUSES = frozenset({DealStatus.live, DealStatus.edit_pending})
# The advertiser's post is (or was) up and the deal was not unwound.
PUBLISHED_STATUSES = LIVE_STATUSES | {DealStatus.verified, DealStatus.released}


async def get(session: AsyncSession, deal_id: int) -> Deal | None:
    return await session.get(Deal, deal_id)


async def get_for_update(session: AsyncSession, deal_id: int) -> Deal | None:
    """The deal, row-locked until the transaction ends (PostgreSQL; SQLite writers are serial)."""
    statement = (
        select(Deal)
        .where(Deal.id == deal_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def of_campaign(session: AsyncSession, campaign_id: int) -> Sequence[Deal]:
    """The campaign's deals, oldest first."""
    statement = select(Deal).where(Deal.campaign_id == campaign_id).order_by(Deal.id)
    return (await session.execute(statement)).scalars().all()


def of_party(
    user_id: int | ColumnElement[int],
    *,
    role: str | None = None,
    statuses: Collection[DealStatus] | Sequence[ColumnElement[Any]] = (),
) -> Select[Deal]:
    """A user's deals as advertiser, publisher (`role`) or either, newest first.

    The publisher side includes deals of channels the user manages for their owner.
    """
    publisher_side = (Deal.publisher_id == user_id) | Deal.channel_id.in_(
        channels.acting_admin_of(user_id)
    )
    if role == "advertiser":
        statement = select(Deal).where(Deal.advertiser_id == user_id)
    elif role == "publisher":
        statement = select(Deal).where(publisher_side)
    else:
        statement = select(Deal).where((Deal.advertiser_id == user_id) | publisher_side)
    if statuses:
        statement = statement.where(Deal.status.in_(list(statuses)))
    return statement.order_by(Deal.id.desc())


def _shown_creative(column: Any) -> Any:
    """A column of the creative a deal shows: the approved version once there is one, else the
    latest draft (null without any), read for each row of the deal list. (Two lookups: SQLite
    takes no outer column in a subquery's ORDER BY.) The column must be NOT NULL."""
    of_deal = select(column).where(Creative.deal_id == Deal.id).correlate(Deal)
    approved = of_deal.where(Creative.version == Deal.creative_version).scalar_subquery()
    latest = of_deal.order_by(Creative.version.desc()).limit(1).scalar_subquery()
    return func.coalesce(approved, latest, type_=column.type)


# What the deal list reads of each deal (and answers, with its timeline): `service.list_item`'s
# row. Enums as their text (the wire wants the text).
LIST_COLUMNS: tuple[Any, ...] = (
    Deal.id,
    Deal.campaign_id,
    Deal.offer_id,
    Deal.channel_id,
    Deal.publisher_id,
    Deal.advertiser_id,
    type_coerce(Deal.format, String()).label("format"),
    type_coerce(Deal.status, String()).label("status"),
    Deal.price_nano,
    Deal.platform_fee_nano,
    Deal.deposited_nano,
    Deal.escrow_address,
    Deal.advertiser_wallet,
    Deal.publisher_wallet,
    Deal.scheduled_at,
    Deal.deposit_deadline_at,
    Deal.creative_deadline_at,
    Deal.posting_deadline_at,
    Deal.hold_until,
    Deal.top_until,
    Deal.refund_after,
    Deal.post_message_id,
    Deal.posted_at,
    Deal.content_hash,
    Deal.creative_version,
    _shown_creative(Creative.text).label("creative_text"),
    _shown_creative(Creative.images).label("creative_images"),
    Deal.deposit_tx_hash,
    Deal.payout_tx_hash,
    Deal.released_at,
    Deal.refunded_at,
    Deal.cancelled_at,
    Deal.dispute_reason,
    Deal.disputed_by,
    Deal.dispute_outcome,
    Deal.close_reason,
    Deal.created_at,
    Deal.updated_at,
)


async def party_page(
    connection: AsyncConnection,
    user_id: int,
    *,
    role: str | None,
    statuses: Collection[DealStatus],
    page: PageParams,
) -> tuple[list[tuple[Any, ...]], int]:
    """A page of `of_party`'s deals (`LIST_COLUMNS`), newest first, and their total."""
    wanted = sorted(set(statuses))
    params = {f"status_{i}": status for i, status in enumerate(wanted)}
    return await _party(role, len(wanted)).read(connection, page, user_id=user_id, **params)


@functools.cache
def _party(role: str | None, statuses: int) -> PagedRead:
    """`of_party` as one shape per side and number of statuses, its values bound."""
    wanted: list[BindParameter[Any]] = [bindparam(f"status_{i}") for i in range(statuses)]
    return PagedRead(of_party(bindparam("user_id"), role=role, statuses=wanted), LIST_COLUMNS)


async def count_open(session: AsyncSession, *, campaign_id: int) -> int:
    statement = (
        select(func.count())
        .select_from(Deal)
        .where(Deal.campaign_id == campaign_id, Deal.status.not_in(list(FINAL_STATUSES)))
    )
    return int((await session.execute(statement)).scalar_one())


async def ids_by_offer(session: AsyncSession, offer_ids: Collection[int]) -> dict[int, int]:
    """Deal id per offer id, for the offers among `offer_ids` that were accepted."""
    if not offer_ids:
        return {}
    statement = select(Deal.offer_id, Deal.id).where(Deal.offer_id.in_(list(offer_ids)))
    rows = (await session.execute(statement)).all()
    return {int(offer_id): deal_id for offer_id, deal_id in rows if offer_id is not None}


async def creatives_of(session: AsyncSession, deal_ids: Collection[int]) -> Sequence[Creative]:
    """Every creative version of the given deals, oldest first."""
    if not deal_ids:
        return []
    statement = (
        select(Creative)
        .where(Creative.deal_id.in_(list(deal_ids)))
        .order_by(Creative.deal_id, Creative.version)
    )
    return (await session.execute(statement)).scalars().all()


async def party_row(
    connection: AsyncConnection, deal_id: int, user_id: int
) -> tuple[tuple[Any, ...], bool] | None:
    """The deal's `LIST_COLUMNS` row and whether `user_id` is one of its parties (`of_party`'s
    sides), or None when there is no such deal."""
    row = await _PARTY_ROW.first(connection, deal_id=deal_id, user_id=user_id)
    return None if row is None else (row[:-1], bool(row[-1]))


def _party_row() -> DirectRead:
    user_id: BindParameter[int] = bindparam("user_id")
    party = (
        (Deal.advertiser_id == user_id)
        | (Deal.publisher_id == user_id)
        | Deal.channel_id.in_(channels.acting_admin_of(user_id))
    )
    statement = select(*LIST_COLUMNS, party.label("party")).where(Deal.id == bindparam("deal_id"))
    return DirectRead(statement)


_PARTY_ROW = _party_row()
