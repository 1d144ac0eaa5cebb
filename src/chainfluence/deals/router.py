"""/v1/deals: the caller's deals, one deal and its timeline, and what the parties do to it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.auth.dependencies import CurrentReader, CurrentUser
from chainfluence.channels.verification import require_channel_manager
from chainfluence.deals import (
    actions,
    creative_schemas,
    creatives,
    edits,
    publishing,
    report,
    repository,
    schemas,
    service,
    timeline,
)
from chainfluence.deals.dependencies import PartyDeal
from chainfluence.deals.exceptions import DealNotFound, NotADealParty
from chainfluence.deals.state_machine import Actor, Role, TransitionForbidden
from chainfluence.dependencies import (
    DBSession,
    RequestServices,
    ServicesDep,
    SettingsDep,
    runs_own_units,
)
from chainfluence.kit.pagination import Page, json_item, json_page
from chainfluence.kit.schemas import Count, IntId
from chainfluence.models import Channel, Deal, DealStatus

router = APIRouter(prefix="/deals", tags=["deals"])


@router.get("", response_model=list[schemas.Deal])
async def list_deals(
    reader: CurrentReader,
    page: Page,
    settings: SettingsDep,
    status: Annotated[list[DealStatus] | None, Query(description="One or more statuses")] = None,
    role: Annotated[
        Literal["advertiser", "publisher"] | None, Query(description="Only deals on this side")
    ] = None,
) -> Response:
    connection = reader.connection
    rows, total = await repository.party_page(
        connection, reader.user_id, role=role, statuses=status or (), page=page
    )
    events = await timeline.rows_of(connection, [row[0] for row in rows])
    testnet = settings.ton.testnet
    return json_page(
        [service.list_item(row, events.get(row[0], []), testnet=testnet) for row in rows], total
    )


@router.get("/{deal_id}", response_model=schemas.Deal)
async def get_deal(deal_id: IntId, reader: CurrentReader, settings: SettingsDep) -> Response:
    # PartyDeal's rule (its parties, a manager of its channel, an operator; 404 for anyone
    # else), read with the deal's row as the list reads it.
    connection = reader.connection
    found = await repository.party_row(connection, deal_id, reader.user_id)
    if found is None or not (found[1] or settings.is_operator(reader.user_id)):
        raise DealNotFound()
    row = found[0]
    events = (await timeline.rows_of(connection, [deal_id])).get(deal_id, [])
    return json_item(service.list_item(row, events, testnet=settings.ton.testnet))


@router.get("/{deal_id}/timeline", response_model=list[schemas.TimelineEvent])
async def get_timeline(deal: PartyDeal, session: DBSession) -> list[schemas.TimelineEvent]:
    return [
        schemas.TimelineEvent.model_validate(e) for e in await timeline.events(session, deal.id)
    ]


@router.get("/{deal_id}/report", response_model=schemas.DealReport)
async def get_report(deal: PartyDeal, session: DBSession) -> schemas.DealReport:
    """For the deal's parties: the ad post's views at 1 h, 24 h and the end of the hold (each
    with its source and time, or null with the reason), forwards, reactions, the effective CPM
    on the end-of-hold views, and the checks of the post (docs/reports.md)."""
    return await report.build(session, deal)


# --- what the parties do --------------------------------------------------------------------


async def _party_actor(
    session: AsyncSession, deal: Deal, user_id: int, services: RequestServices
) -> Actor:
    actor = await actions.actor_for(session, deal, user_id, services.settings)
    if actor.role not in (Role.advertiser, Role.publisher):
        raise NotADealParty()
    if actor.role is Role.publisher and user_id != deal.publisher_id:
        # A manager acts on money and on what gets published: Telegram confirms now that they
        # still administer the channel with post/edit/delete rights (our copy may be stale).
        await require_channel_manager(
            session, services.bot, user_id=user_id, channel=deal.channel_id, fresh=True
        )
    return actor


@router.get("/{deal_id}/creatives", response_model=list[creative_schemas.Creative])
async def list_creatives(deal: PartyDeal, session: DBSession) -> list[creative_schemas.Creative]:
    return [
        creative_schemas.Creative.model_validate(c)
        for c in await creatives.history(session, deal.id)
    ]


@router.post("/{deal_id}/creatives", response_model=creative_schemas.Creative, status_code=201)
async def submit_creative(
    body: creative_schemas.CreativeDraft,
    deal: PartyDeal,
    user: CurrentUser,
    session: DBSession,
    services: ServicesDep,
) -> creative_schemas.Creative:
    actor = await _party_actor(session, deal, user.id, services)
    creative = await creatives.submit(session, deal.id, actor, body)
    return creative_schemas.Creative.model_validate(creative)


@router.post("/{deal_id}/creatives/{version}/approve", response_model=creative_schemas.Creative)
async def approve_creative(
    version: Count,
    deal: PartyDeal,
    user: CurrentUser,
    session: DBSession,
    services: ServicesDep,
) -> creative_schemas.Creative:
    actor = await _party_actor(session, deal, user.id, services)
    creative = await creatives.approve(session, deal.id, version, actor)
    return creative_schemas.Creative.model_validate(creative)


@router.post(
    "/{deal_id}/creatives/{version}/request-changes",
    response_model=creative_schemas.Creative,
)
async def request_creative_changes(
    version: Count,
    body: creative_schemas.ChangeRequest,
    deal: PartyDeal,
    user: CurrentUser,
    session: DBSession,
    services: ServicesDep,
) -> creative_schemas.Creative:
    actor = await _party_actor(session, deal, user.id, services)
    creative = await creatives.request_changes(session, deal.id, version, actor, body.comment)
    return creative_schemas.Creative.model_validate(creative)


@router.post("/{deal_id}/post", response_model=schemas.PostResult)
@runs_own_units
async def publish_now(
    deal: PartyDeal,
    user: CurrentUser,
    session: DBSession,
    services: ServicesDep,
) -> schemas.PostResult:
    actor = await actions.actor_for(session, deal, user.id, services.settings)
    if actor.role is not Role.publisher:
        raise TransitionForbidden("Only the publisher can publish the post.")
    published = await publishing.publish_deal(services, deal.id, actor)
    async with services.session(write=False) as fresh:
        channel = await fresh.get(Channel, published.channel_id)
        (rendered,) = await service.render(
            fresh, [published], testnet=services.settings.ton.testnet
        )
    return schemas.PostResult(
        success=True,
        message_id=published.post_message_id,
        channel_username=channel.username if channel else None,
        deal=rendered,
    )


async def _render_one(session: AsyncSession, deal: Deal, services: RequestServices) -> schemas.Deal:
    (rendered,) = await service.render(session, [deal], testnet=services.settings.ton.testnet)
    return rendered


@router.post("/{deal_id}/reject", response_model=schemas.Deal)
async def reject_deal(
    deal: PartyDeal,
    user: CurrentUser,
    session: DBSession,
    services: ServicesDep,
    body: schemas.ReasonBody | None = None,
) -> schemas.Deal:
    actor = await _party_actor(session, deal, user.id, services)
    moved = await actions.decline(session, deal.id, actor, body.reason if body else None)
    return await _render_one(session, moved, services)


@router.post("/{deal_id}/cancel", response_model=schemas.Deal)
async def cancel_deal(
    deal: PartyDeal,
    user: CurrentUser,
    session: DBSession,
    services: ServicesDep,
    body: schemas.ReasonBody | None = None,
) -> schemas.Deal:
    actor = await _party_actor(session, deal, user.id, services)
    moved = await actions.cancel(session, deal.id, actor, body.reason if body else None)
    return await _render_one(session, moved, services)


@router.post("/{deal_id}/dispute", response_model=schemas.Deal)
async def dispute_deal(
    body: schemas.DisputeBody,
    deal: PartyDeal,
    user: CurrentUser,
    session: DBSession,
    services: ServicesDep,
) -> schemas.Deal:
    actor = await _party_actor(session, deal, user.id, services)
    moved = await actions.open_dispute(session, deal.id, actor, body.reason, services.settings)
    return await _render_one(session, moved, services)


@router.post("/{deal_id}/edit/accept", response_model=schemas.Deal)
async def accept_edit(
    deal: PartyDeal, user: CurrentUser, session: DBSession, services: ServicesDep
) -> schemas.Deal:
    """The advertiser accepts the edit of the live post: the hold goes on with the edited post.

    409 when no edit is waiting (also for a second accept), 403 for the publisher."""
    actor = await _party_actor(session, deal, user.id, services)
    moved = await edits.accept(session, deal.id, actor)
    return await _render_one(session, moved, services)


@router.post("/{deal_id}/edit/refuse", response_model=schemas.Deal)
async def refuse_edit(
    deal: PartyDeal, user: CurrentUser, session: DBSession, services: ServicesDep
) -> schemas.Deal:
    """The advertiser refuses the edit of the live post: the advertiser is refunded."""
    actor = await _party_actor(session, deal, user.id, services)
    moved = await edits.refuse(session, deal.id, actor)
    return await _render_one(session, moved, services)
