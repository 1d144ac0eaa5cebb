"""/v1/deals: the caller's deals as either party, one deal, its timeline."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from chainfluence.auth.dependencies import CurrentUser
from chainfluence.deals import repository, schemas, service, timeline
from chainfluence.deals.dependencies import PartyDeal
from chainfluence.dependencies import DBSession
from chainfluence.kit.pagination import Page, paginate, set_total
from chainfluence.models import DealStatus

router = APIRouter(prefix="/deals", tags=["deals"])


@router.get("", response_model=list[schemas.Deal])
async def list_deals(
    user: CurrentUser,
    session: DBSession,
    page: Page,
    response: Response,
    status: Annotated[list[DealStatus] | None, Query(description="One or more statuses")] = None,
    role: Annotated[
        Literal["advertiser", "publisher"] | None, Query(description="Only deals on this side")
    ] = None,
) -> list[schemas.Deal]:
    statement = repository.of_party(user.id, role=role, statuses=status or ())
    deals, total = await paginate(session, statement, page)
    set_total(response, total)
    return await service.render(session, deals)


@router.get("/{deal_id}", response_model=schemas.Deal)
async def get_deal(deal: PartyDeal, session: DBSession) -> schemas.Deal:
    (rendered,) = await service.render(session, [deal])
    return rendered


@router.get("/{deal_id}/timeline", response_model=list[schemas.TimelineEvent])
async def get_timeline(deal: PartyDeal, session: DBSession) -> list[schemas.TimelineEvent]:
    return [
        schemas.TimelineEvent.model_validate(e) for e in await timeline.events(session, deal.id)
    ]
