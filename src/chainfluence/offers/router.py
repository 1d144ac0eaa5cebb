"""Offer routes: applications (/campaigns), bookings (/channels), decisions (/offers)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from chainfluence.auth.dependencies import CurrentReader, CurrentUser
from chainfluence.campaigns import repository as campaigns
from chainfluence.campaigns.exceptions import CampaignNotFound
from chainfluence.dependencies import DBSession, SettingsDep
from chainfluence.kit.pagination import Page, json_page
from chainfluence.kit.schemas import IntId, TgId
from chainfluence.kit.time import utcnow
from chainfluence.models import Channel, OfferDirection, OfferStatus
from chainfluence.offers import repository, schemas, service, views
from chainfluence.offers.exceptions import NotCampaignOwner, OfferNotFound

router = APIRouter(tags=["offers"])


@router.get("/campaigns/{campaign_id}/offers", response_model=list[schemas.Offer])
async def list_campaign_offers(
    campaign_id: IntId,
    reader: CurrentReader,
    page: Page,
    status: Annotated[OfferStatus | None, Query()] = None,
) -> Response:
    """Every offer on the campaign, newest first: for the campaign's advertiser only."""
    advertiser_id = await campaigns.advertiser_of(reader.connection, campaign_id)
    if advertiser_id is None:
        raise CampaignNotFound()
    if advertiser_id != reader.user_id:
        raise NotCampaignOwner()
    rows, total = await repository.of_campaign_page(reader.connection, campaign_id, status, page)
    now = utcnow()
    return json_page([views.list_item(row, now) for row in rows], total)


@router.post(
    "/campaigns/{campaign_id}/offers",
    response_model=schemas.Offer,
    status_code=201,
)
async def apply_to_campaign(
    campaign_id: IntId, body: schemas.ApplicationCreate, user: CurrentUser, session: DBSession
) -> schemas.Offer:
    """A publisher applies for a channel they manage."""
    offer = await service.apply(session, user=user, campaign_id=campaign_id, body=body)
    (rendered,) = await views.render(session, [offer])
    return rendered


@router.post(
    "/channels/{channel_id}/offers",
    response_model=schemas.Offer,
    status_code=201,
)
async def book_channel(
    channel_id: TgId, body: schemas.BookingCreate, user: CurrentUser, session: DBSession
) -> schemas.Offer:
    """An advertiser books one of the channel's formats on a date."""
    offer = await service.book(session, user=user, channel_id=channel_id, body=body)
    (rendered,) = await views.render(session, [offer])
    return rendered


@router.get("/offers/mine", response_model=list[schemas.Offer])
async def list_my_offers(
    reader: CurrentReader,
    page: Page,
    role: Annotated[Literal["advertiser", "publisher"] | None, Query()] = None,
    status: Annotated[OfferStatus | None, Query()] = None,
    direction: Annotated[OfferDirection | None, Query()] = None,
    campaign_id: Annotated[IntId | None, Query(alias="campaignId")] = None,
    channel_id: Annotated[TgId | None, Query(alias="channelId")] = None,
) -> Response:
    """Offers the caller is a party to, on either side, newest first."""
    filters = repository.MineFilters(role, status, direction, campaign_id, channel_id)
    rows, total = await repository.involving_page(reader.connection, reader.user_id, filters, page)
    now = utcnow()
    return json_page([views.list_item(row, now) for row in rows], total)


@router.get("/offers/{offer_id}", response_model=schemas.Offer)
async def get_offer(offer_id: IntId, user: CurrentUser, session: DBSession) -> schemas.Offer:
    offer = await repository.get(session, offer_id)
    channel = await session.get(Channel, offer.channel_id) if offer else None
    if (
        offer is None
        or channel is None
        or not await service.sides_of(session, user.id, offer, channel)
    ):
        raise OfferNotFound()
    (rendered,) = await views.render(session, [offer])
    return rendered


@router.post("/offers/{offer_id}/accept", response_model=schemas.Offer)
async def accept_offer(
    offer_id: IntId, user: CurrentUser, session: DBSession, settings: SettingsDep
) -> schemas.Offer:
    """The counterpart accepts: the deal is created (status `pending`) and its id returned."""
    offer, _deal = await service.accept(session, user=user, offer_id=offer_id, settings=settings)
    (rendered,) = await views.render(session, [offer])
    return rendered


@router.post("/offers/{offer_id}/reject", response_model=schemas.Offer)
async def reject_offer(offer_id: IntId, user: CurrentUser, session: DBSession) -> schemas.Offer:
    """The counterpart declines (status `declined`)."""
    offer = await service.reject(session, user=user, offer_id=offer_id)
    (rendered,) = await views.render(session, [offer])
    return rendered


@router.post(
    "/offers/{offer_id}/counter",
    response_model=schemas.Offer,
    status_code=201,
)
async def counter_offer(
    offer_id: IntId, body: schemas.CounterCreate, user: CurrentUser, session: DBSession
) -> schemas.Offer:
    """The counterpart proposes new terms; returns the new version."""
    offer = await service.counter(session, user=user, offer_id=offer_id, body=body)
    (rendered,) = await views.render(session, [offer])
    return rendered


@router.post("/offers/{offer_id}/withdraw", response_model=schemas.Offer)
async def withdraw_offer(offer_id: IntId, user: CurrentUser, session: DBSession) -> schemas.Offer:
    """The author takes the offer back."""
    offer = await service.withdraw(session, user=user, offer_id=offer_id)
    (rendered,) = await views.render(session, [offer])
    return rendered
