"""Deal queries."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.channels import repository as channels
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
    user_id: int, *, role: str | None = None, statuses: Collection[DealStatus] = ()
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
