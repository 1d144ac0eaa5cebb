"""Offers as the API shows them: the related rows for a whole page in a few queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.campaigns import repository as campaigns
from chainfluence.campaigns.schemas import CampaignSummary
from chainfluence.deals import repository as deals
from chainfluence.kit.money import format_ton
from chainfluence.kit.time import utcnow
from chainfluence.models import Offer, OfferStatus
from chainfluence.offers import repository, schemas
from chainfluence.offers.service import closes_at, expires_at, is_expired


async def render(session: AsyncSession, offers: Sequence[Offer]) -> list[schemas.Offer]:
    """Offers as the API shows them; the related rows for a whole page in a few queries."""
    ids = [offer.id for offer in offers]
    deal_ids = await deals.ids_by_offer(session, ids)
    counters = await repository.counter_ids(session, ids)
    campaign_rows = await campaigns.get_many(
        session, {offer.campaign_id for offer in offers if offer.campaign_id is not None}
    )
    now = utcnow()
    result = []
    for offer in offers:
        campaign = campaign_rows.get(offer.campaign_id) if offer.campaign_id else None
        status = offer.status
        # A lapsed offer the sweep has not reached yet is shown as what it is.
        if status is OfferStatus.pending and is_expired(offer, campaign, now):
            status = OfferStatus.expired
        result.append(
            schemas.Offer(
                id=offer.id,
                campaign_id=offer.campaign_id,
                channel_id=offer.channel_id,
                publisher_id=offer.publisher_id,
                advertiser_id=offer.advertiser_id,
                author_id=offer.author_id,
                direction=offer.direction,
                status=status,
                amount=offer.amount_nano,
                amount_nano=offer.amount_nano,
                format=offer.format,
                proposed_date=offer.proposed_at,
                message=offer.message,
                version=offer.version,
                previous_offer_id=offer.previous_offer_id,
                counter_offer_id=counters.get(offer.id),
                expires_at=expires_at(offer, campaign),
                decided_at=offer.decided_at,
                deal_id=deal_ids.get(offer.id),
                campaign=CampaignSummary.model_validate(campaign) if campaign else None,
                created_at=offer.created_at,
                updated_at=offer.updated_at,
            )
        )
    return result


def list_item(row: tuple[Any, ...], now: dt.datetime) -> dict[str, Any]:
    """An offer as `schemas.Offer` puts it on the wire (what `render` gives, dumped), from a row
    of `repository.list_columns`: the lists build these directly. Its times stay aware UTC
    datetimes, which `kit.pagination.json_page` writes as the model does."""
    (
        id_, campaign_id, channel_id, publisher_id, advertiser_id, author_id, direction, status,
        amount_nano, format_, proposed_at, message, version, previous_offer_id, counter_offer_id,
        own_expiry, decided_at, deal_id, campaign_title, campaign_status, campaign_deadline,
        created_at, updated_at,
    ) = row  # fmt: skip
    campaign_lapse = closes_at(campaign_deadline) if campaign_id is not None else None
    known = [moment for moment in (own_expiry, campaign_lapse) if moment is not None]
    lapse = min(known) if known else None
    # A lapsed offer the sweep has not reached yet is shown as what it is.
    if status == OfferStatus.pending.value and lapse is not None and lapse <= now:
        status = OfferStatus.expired.value
    campaign = (
        {"id": campaign_id, "title": campaign_title.strip(), "status": campaign_status}
        if campaign_id is not None
        else None
    )
    # Response models strip their strings (kit.schemas.Schema); so does the wire shape.
    return {
        "id": id_,
        "campaignId": campaign_id,
        "channelId": str(channel_id),
        "publisherId": str(publisher_id),
        "advertiserId": str(advertiser_id),
        "authorId": str(author_id),
        "direction": direction,
        "status": status,
        "amount": format_ton(amount_nano),
        "amountNano": str(amount_nano),
        "format": format_,
        "proposedDate": proposed_at,
        "message": message.strip() if message is not None else None,
        "version": version,
        "previousOfferId": previous_offer_id,
        "counterOfferId": counter_offer_id,
        "expiresAt": lapse,
        "decidedAt": decided_at,
        "dealId": deal_id,
        "campaign": campaign,
        "createdAt": created_at,
        "updatedAt": updated_at,
    }
