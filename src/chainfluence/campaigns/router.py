"""/v1/campaigns: the public list, the caller's campaigns, editing, and matching channels.

Also `GET /v1/channels/{id}/matching-campaigns`, the publisher's side of the same matching.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from chainfluence.auth.dependencies import CurrentReader, CurrentUser
from chainfluence.campaigns import repository, schemas, service
from chainfluence.campaigns.exceptions import CampaignNotFound
from chainfluence.categories import CategoryIn
from chainfluence.channels.repository import decode_prices
from chainfluence.channels.verification import read_managed_channel
from chainfluence.dependencies import DBSession, RequestServices, app_services
from chainfluence.formats import AdFormat
from chainfluence.kit.db import read_connection
from chainfluence.kit.money import TonAmount
from chainfluence.kit.pagination import (
    Page,
    json_page,
    paginate,
    read_page,
    set_total,
)
from chainfluence.kit.schemas import IntId, Message, QueryText, TgId
from chainfluence.kit.time import utcnow
from chainfluence.models import CampaignStatus
from chainfluence.ports import CampaignEnd, CampaignEnds

router = APIRouter(tags=["campaigns"])


async def _close_offers(request: Request) -> CampaignEnd:
    """How a campaign's end closes its pending offers (the offers domain's, from the wiring)."""
    ports: CampaignEnds = app_services(request)
    return ports.close_campaign_offers


CloseOffers = Annotated[CampaignEnd, Depends(_close_offers)]


@router.get("/campaigns", response_model=list[schemas.Campaign])
async def list_campaigns(
    request: Request,
    page: Page,
    q: Annotated[
        QueryText | None, Query(max_length=100, description="Text in title or description")
    ] = None,
    category: Annotated[
        CategoryIn | None, Query(description="Any case: `crypto` = `Crypto`")
    ] = None,
    status: Annotated[CampaignStatus, Query()] = CampaignStatus.active,
    format: Annotated[AdFormat | None, Query(description="Campaigns that take this format")] = None,
    min_budget: Annotated[TonAmount | None, Query(alias="minBudget")] = None,
    max_budget: Annotated[TonAmount | None, Query(alias="maxBudget")] = None,
    advertiser_id: Annotated[TgId | None, Query(alias="advertiserId")] = None,
    sort: Annotated[schemas.CampaignSort, Query()] = schemas.CampaignSort.created_at_desc,
) -> Response:
    """Public. Active campaigns (past their deadline left out) unless `status` says otherwise."""
    filters = repository.ListFilters(
        status=status,
        q=q.strip() if q and q.strip() else None,
        category=category.value if category else None,
        format=format,
        min_budget_nano=min_budget,
        max_budget_nano=max_budget,
        advertiser_id=advertiser_id,
        sort=sort,
    )
    # The services without a dependency of their own: one fewer for FastAPI to solve per request.
    services: RequestServices = app_services(request)
    # X-Total-Count is exact without counting every page: see `repository.public_total`.
    today = utcnow().date()
    dialect = services.engine.dialect.name
    # Reads only: a plain pooled connection, no ORM session or transaction around them, and
    # one statement per shape of filters, its values bound (`repository.ListShape`).
    async with read_connection(services.engine) as connection:
        rows, total = await read_page(
            connection,
            repository.public_page(dialect, repository.list_shape(filters)),
            page,
            repository.list_params(filters, today=today),
            lambda: repository.public_total(
                connection, services.totals, dialect, filters, today=today
            ),
        )
    return json_page([service.list_item(row) for row in rows], total)


@router.get("/campaigns/mine", response_model=list[schemas.Campaign])
async def list_my_campaigns(
    reader: CurrentReader,
    page: Page,
    status: Annotated[CampaignStatus | None, Query()] = None,
) -> Response:
    rows, total = await repository.owned_page(reader.connection, reader.user_id, status, page)
    return json_page([service.list_item(row) for row in rows], total)


@router.post("/campaigns", response_model=schemas.Campaign, status_code=201)
async def create_campaign(
    body: schemas.CampaignCreate, user: CurrentUser, session: DBSession
) -> schemas.Campaign:
    campaign = await service.create(session, user=user, body=body)
    (rendered,) = await service.render(session, [campaign])
    return rendered


@router.get("/campaigns/{campaign_id}", response_model=schemas.Campaign)
async def get_campaign(campaign_id: IntId, session: DBSession) -> schemas.Campaign:
    """Public."""
    campaign = await repository.get(session, campaign_id)
    if campaign is None:
        raise CampaignNotFound()
    (rendered,) = await service.render(session, [campaign])
    return rendered


@router.patch("/campaigns/{campaign_id}", response_model=schemas.Campaign)
async def update_campaign(
    campaign_id: IntId,
    body: schemas.CampaignUpdate,
    user: CurrentUser,
    session: DBSession,
    close_offers: CloseOffers,
) -> schemas.Campaign:
    """The owner edits the brief or moves its status (active ⇄ paused → completed)."""
    campaign = await service.update(
        session, user=user, campaign_id=campaign_id, body=body, close_offers=close_offers
    )
    (rendered,) = await service.render(session, [campaign])
    return rendered


@router.delete("/campaigns/{campaign_id}", response_model=Message)
async def delete_campaign(
    campaign_id: IntId, user: CurrentUser, session: DBSession, close_offers: CloseOffers
) -> Message:
    """Soft delete; refused (409) while any of its deals is open. Pending offers are closed."""
    await service.delete(session, user=user, campaign_id=campaign_id, close_offers=close_offers)
    return Message(message="Campaign deleted.")


@router.get("/campaigns/{campaign_id}/matches", response_model=list[schemas.ChannelMatch])
async def list_matches(
    campaign_id: IntId, user: CurrentUser, session: DBSession, page: Page, response: Response
) -> list[schemas.ChannelMatch]:
    """Active, verified channels in the campaign's categories that meet its thresholds and sell
    one of its formats within its budget, largest audience first. For the campaign's owner."""
    campaign = await service.get_owned(session, user=user, campaign_id=campaign_id)
    channels, total = await paginate(session, repository.matching_channels(campaign), page)
    set_total(response, total)
    return await service.render_matches(session, campaign, channels)


@router.get("/campaigns/{campaign_id}/report", response_model=schemas.CampaignReport)
async def get_report(
    campaign_id: IntId, user: CurrentUser, session: DBSession
) -> schemas.CampaignReport:
    """For the campaign's owner: spend, verified views and effective CPM over its deals, overall
    and by channel, with each deal's figures (docs/reports.md)."""
    campaign = await service.get_owned(
        session, user=user, campaign_id=campaign_id, to="see this campaign's report"
    )
    return await service.report(session, campaign)


@router.get("/channels/{channel_id}/matching-campaigns", response_model=list[schemas.Campaign])
async def list_matching_campaigns(
    request: Request, channel_id: TgId, reader: CurrentReader, page: Page
) -> Response:
    """Active campaigns this channel fits, largest budget first. For the channel's managers."""
    (
        owner_id,
        category,
        subscribers,
        engagement_rate,
        pricing,
        _managed,
    ) = await read_managed_channel(reader.connection, user_id=reader.user_id, channel_id=channel_id)
    channel = repository.MatchedChannel(
        owner_id=owner_id,
        category=category,
        subscribers=subscribers,
        engagement_rate=engagement_rate,
        prices=[(fmt, price, enabled) for fmt, price, enabled, *_ in decode_prices(pricing)],
    )
    services: RequestServices = app_services(request)
    rows, total = await repository.matching_page(
        reader.connection, services.totals, channel, page, today=utcnow().date()
    )
    return json_page([service.list_item(row) for row in rows], total)
