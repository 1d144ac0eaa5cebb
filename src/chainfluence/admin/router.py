"""/v1/admin: operators list and decide disputes, and watch deals and payouts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from chainfluence.admin import schemas, service
from chainfluence.auth.dependencies import Operator
from chainfluence.deals import actions
from chainfluence.deals import schemas as deal_schemas
from chainfluence.deals import service as deal_service
from chainfluence.deals.state_machine import Actor, Role
from chainfluence.dependencies import DBSession, SettingsDep
from chainfluence.kit.pagination import Page, paginate, set_total
from chainfluence.kit.schemas import IntId, TgId
from chainfluence.models import DealStatus

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/disputes", response_model=list[deal_schemas.Deal])
async def list_disputes(
    operator: Operator,
    session: DBSession,
    page: Page,
    response: Response,
    settings: SettingsDep,
) -> list[deal_schemas.Deal]:
    rows, total = await paginate(session, service.disputes(), page)
    set_total(response, total)
    return await deal_service.render(session, rows, testnet=settings.ton.testnet)


@router.post("/disputes/{deal_id}/resolve", response_model=deal_schemas.Deal)
async def resolve_dispute(
    deal_id: IntId,
    body: schemas.Resolution,
    operator: Operator,
    session: DBSession,
    settings: SettingsDep,
) -> deal_schemas.Deal:
    deal = await actions.resolve_dispute(
        session,
        deal_id,
        Actor(Role.operator, operator.id),
        outcome=body.outcome,
        publisher_share_bps=body.publisher_share_bps,
        note=body.note,
    )
    (rendered,) = await deal_service.render(session, [deal], testnet=settings.ton.testnet)
    return rendered


@router.get("/deals", response_model=list[deal_schemas.Deal])
async def list_deals(
    operator: Operator,
    session: DBSession,
    page: Page,
    response: Response,
    settings: SettingsDep,
    status: Annotated[list[DealStatus] | None, Query()] = None,
    user_id: Annotated[TgId | None, Query(alias="userId")] = None,
    channel_id: Annotated[TgId | None, Query(alias="channelId")] = None,
) -> list[deal_schemas.Deal]:
    statement = service.deals(statuses=status or (), user_id=user_id, channel_id=channel_id)
    rows, total = await paginate(session, statement, page)
    set_total(response, total)
    return await deal_service.render(session, rows, testnet=settings.ton.testnet)


@router.get("/overview", response_model=schemas.Overview)
async def overview(operator: Operator, session: DBSession) -> schemas.Overview:
    return await service.overview(session)
