"""Campaign service: creating and editing briefs, their status, deletion, and matching.

Status moves: active ⇄ paused, either → completed (final). Completing or deleting a campaign
ends its pending offers; deleting is refused while any of its deals is still open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.campaigns import repository, schemas
from chainfluence.campaigns.exceptions import (
    CampaignHasOpenDeals,
    CampaignNotFound,
    CampaignStatusChangeRefused,
    InvalidCampaign,
    NotCampaignOwner,
    UnknownCreativeImage,
)
from chainfluence.categories import Category
from chainfluence.channels import service as channel_service
from chainfluence.deals import report as deal_report
from chainfluence.deals import repository as deals
from chainfluence.kit.money import format_ton
from chainfluence.kit.time import utcnow
from chainfluence.models import Campaign, CampaignStatus, Channel, ChannelPrice, User
from chainfluence.ports import CampaignEnd

S = CampaignStatus
STATUS_MOVES: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    # Pausing stops new offers without ending the talks already under way.
    S.active: frozenset({S.paused, S.completed}),
    S.paused: frozenset({S.active, S.completed}),
    # Completed is final: its offers were closed and a new brief is a new campaign.
    S.completed: frozenset(),
}


async def create(session: AsyncSession, *, user: User, body: schemas.CampaignCreate) -> Campaign:
    _check_deadline(body.deadline)
    await _check_images(session, user.id, body.creative_images)
    # Running a campaign is what an advertiser does: the role follows the act (as listing a
    # channel makes a publisher), rather than a refusal sending the person to settings.
    user.is_advertiser = True
    campaign = Campaign(
        advertiser_id=user.id,
        title=body.title,
        description=body.description,
        category=body.category.value if body.category else None,
        status=CampaignStatus.active,
        budget_nano=body.budget,
        total_budget_nano=body.total_budget,
        creative_text=body.creative_text,
        content_guidelines=body.content_guidelines,
        creative_images=body.creative_images,
        preferred_formats=[fmt.value for fmt in body.preferred_formats],
        preferred_categories=[category.value for category in body.preferred_categories],
        min_subscribers=body.min_subscribers,
        min_engagement=body.min_engagement,
        deadline=body.deadline,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def _owned_for_update(session: AsyncSession, user: User, campaign_id: int) -> Campaign:
    campaign = await repository.get_for_update(session, campaign_id)
    if campaign is None:
        raise CampaignNotFound()
    if campaign.advertiser_id != user.id:
        raise NotCampaignOwner()
    return campaign


async def update(
    session: AsyncSession,
    *,
    user: User,
    campaign_id: int,
    body: schemas.CampaignUpdate,
    close_offers: CampaignEnd,
) -> Campaign:
    """Edit the brief or move the status; completing it ends its pending offers
    (`close_offers`, the offers domain's, handed down by the wiring)."""
    campaign = await _owned_for_update(session, user, campaign_id)
    changes = body.model_dump(exclude_unset=True)
    new_status = changes.pop("status", None)
    moving = new_status is not None and new_status is not campaign.status
    if moving and new_status not in STATUS_MOVES[campaign.status]:
        raise CampaignStatusChangeRefused(
            f"A {campaign.status.value} campaign cannot become {new_status.value}."
        )
    # A client re-sending the whole brief must not trip on a deadline that has since passed.
    if "deadline" in changes and changes["deadline"] != campaign.deadline:
        _check_deadline(changes["deadline"])
    if changes.get("creative_images"):
        await _check_images(session, user.id, changes["creative_images"])
    columns = {"budget": "budget_nano", "total_budget": "total_budget_nano"}
    for name, value in changes.items():
        if name == "category":
            value = value.value if value is not None else None
        elif name in ("preferred_formats", "preferred_categories"):
            value = [item.value for item in value] if value is not None else []
        elif name == "creative_images" and value is None:
            value = []
        setattr(campaign, columns.get(name, name), value)
    if campaign.total_budget_nano is not None and campaign.total_budget_nano < campaign.budget_nano:
        raise InvalidCampaign("totalBudget cannot be smaller than the per-channel budget.")
    if moving:
        campaign.status = new_status
        if new_status is CampaignStatus.completed:
            await close_offers(session, campaign, reason="was completed")
    await session.flush()
    return campaign


async def delete(
    session: AsyncSession, *, user: User, campaign_id: int, close_offers: CampaignEnd
) -> None:
    """Soft delete: the row stays for the deals and offers that point at it; its pending offers
    end (`close_offers`)."""
    campaign = await _owned_for_update(session, user, campaign_id)
    open_deals = await deals.count_open(session, campaign_id=campaign.id)
    if open_deals:
        raise CampaignHasOpenDeals(open_deals)
    await close_offers(session, campaign, reason="was deleted")
    campaign.deleted_at = utcnow()
    await session.flush()


def _check_deadline(deadline: dt.date | None) -> None:
    if deadline is not None and deadline < utcnow().date():
        raise InvalidCampaign("The deadline cannot be in the past.")


async def _check_images(session: AsyncSession, user_id: int, file_ids: Collection[str]) -> None:
    owned = await repository.owned_upload_ids(session, user_id, file_ids)
    for file_id in file_ids:
        if file_id not in owned:
            raise UnknownCreativeImage(file_id)


async def render(session: AsyncSession, campaigns: Sequence[Campaign]) -> list[schemas.Campaign]:
    counts = await repository.counts(session, [c.id for c in campaigns])
    return [_to_schema(c, counts.get(c.id, repository.Counts())) for c in campaigns]


def list_item(row: tuple[Any, ...]) -> dict[str, Any]:
    """A campaign as `schemas.Campaign` puts it on the wire, from a row of
    `repository.LIST_COLUMNS` (lists build these directly; tested equal to the model's dump).

    For `kit.pagination.json_page`: the status (a string), the deadline (a date) and the times
    (aware UTC datetimes, as the database types return them) are written by orjson, in C, as
    the model writes them (`"2026-12-07T04:59:26.898767Z"`); the JSON lists are each row's own."""
    (id_, advertiser_id, title, description, category, status, budget_nano, total_nano,
     creative_text, guidelines, images, formats, min_subscribers, min_engagement, categories,
     deadline, offer_count, accepted, live, created_at, updated_at) = row  # fmt: skip
    return {
        "id": id_,
        "advertiserId": str(advertiser_id),
        "title": title,
        "description": description,
        "category": category or None,
        "status": status,
        "budget": format_ton(budget_nano),
        "budgetNano": str(budget_nano),
        "totalBudget": format_ton(total_nano) if total_nano is not None else None,
        "totalBudgetNano": str(total_nano) if total_nano is not None else None,
        "creativeText": creative_text,
        "contentGuidelines": guidelines,
        "creativeImages": images,
        "preferredFormats": formats,
        "minSubscribers": min_subscribers,
        "minEngagement": min_engagement,
        "preferredCategories": categories,
        "deadline": deadline,
        "offerCount": offer_count,
        "acceptedCount": accepted,
        "liveCount": live,
        "createdAt": created_at,
        "updatedAt": updated_at,
    }


def _to_schema(campaign: Campaign, counts: repository.Counts) -> schemas.Campaign:
    return schemas.Campaign(
        id=campaign.id,
        advertiser_id=campaign.advertiser_id,
        title=campaign.title,
        description=campaign.description,
        category=Category(campaign.category) if campaign.category else None,
        status=campaign.status,
        budget=campaign.budget_nano,
        budget_nano=campaign.budget_nano,
        total_budget=campaign.total_budget_nano,
        total_budget_nano=campaign.total_budget_nano,
        creative_text=campaign.creative_text,
        content_guidelines=campaign.content_guidelines,
        creative_images=list(campaign.creative_images),
        preferred_formats=list(campaign.preferred_formats),
        min_subscribers=campaign.min_subscribers,
        min_engagement=campaign.min_engagement,
        preferred_categories=[Category(c) for c in campaign.preferred_categories],
        deadline=campaign.deadline,
        offer_count=counts.offers,
        accepted_count=counts.accepted,
        live_count=counts.live,
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
    )


async def get_owned(
    session: AsyncSession,
    *,
    user: User,
    campaign_id: int,
    to: str = "see the channels matching this campaign",
) -> Campaign:
    campaign = await repository.get(session, campaign_id)
    if campaign is None:
        raise CampaignNotFound()
    if campaign.advertiser_id != user.id:
        raise NotCampaignOwner(to)
    return campaign


def _cpm(spent: int, views: int) -> int | None:
    return spent * 1000 // views if views > 0 else None


async def report(session: AsyncSession, campaign: Campaign) -> schemas.CampaignReport:
    """The campaign's deals summed up: spend, verified views and CPM, overall and by channel.

    Each deal's figures are its report's (`deals.report`): spend is what the advertiser paid in
    the end, verified views the end-of-hold reading. The CPM counts settled deals that have
    verified views: their spend × 1000 ÷ their views, rounded down."""
    built = await deal_report.build_many(session, await deals.of_campaign(session, campaign.id))
    channels: dict[int, list[Any]] = {}
    for item in built:
        channels.setdefault(item.channel_id, []).append(item)

    def totals(items: Sequence[Any]) -> tuple[int, int, int | None]:
        spent = sum(i.spent_nano or 0 for i in items)
        views = sum(i.verified_views or 0 for i in items)
        counted = [i for i in items if i.spent_nano is not None and i.verified_views]
        cpm = _cpm(sum(i.spent_nano for i in counted), sum(i.verified_views for i in counted))
        return spent, views, cpm

    by_channel = []
    for channel_id, items in channels.items():
        spent, views, cpm = totals(items)
        by_channel.append(
            schemas.ChannelReport(
                channel_id=channel_id,
                channel_username=items[0].channel_username,
                deals=len(items),
                spent_nano=spent,
                verified_views=views,
                effective_cpm_nano=cpm,
            )
        )
    by_channel.sort(key=lambda c: (-c.spent_nano, c.channel_id))
    spent, views, cpm = totals(built)
    return schemas.CampaignReport(
        campaign_id=campaign.id,
        deals=len(built),
        settled_deals=sum(1 for i in built if i.spent_nano is not None),
        spent_nano=spent,
        verified_views=views,
        effective_cpm_nano=cpm,
        by_channel=by_channel,
        deal_reports=[
            schemas.CampaignDealReport(
                deal_id=i.deal_id,
                channel_id=i.channel_id,
                status=i.status.value,
                price_nano=i.price_nano,
                spent_nano=i.spent_nano,
                verified_views=i.verified_views,
                effective_cpm_nano=i.effective_cpm_nano,
            )
            for i in built
        ],
        generated_at=utcnow(),
    )


async def render_matches(
    session: AsyncSession, campaign: Campaign, channels: Sequence[Channel]
) -> list[schemas.ChannelMatch]:
    prices = await repository.prices_of(session, [channel.id for channel in channels])
    return [_to_match(campaign, c, prices.get(c.id, [])) for c in channels]


def _to_match(
    campaign: Campaign, channel: Channel, prices: list[ChannelPrice]
) -> schemas.ChannelMatch:
    fitting = [
        price
        for price in prices
        if price.enabled
        and (not campaign.preferred_formats or price.format.value in campaign.preferred_formats)
        and (campaign.budget_nano == 0 or price.price_nano <= campaign.budget_nano)
    ]
    # The query only returns channels with a fitting price, so `fitting` is never empty.
    best = min(price.price_nano for price in fitting)
    listed = channel_service.to_schema(channel, prices)
    return schemas.ChannelMatch(
        **dict(listed),
        matching_formats=[price.format for price in fitting],
        best_price=best,
        best_price_nano=best,
    )
