"""/v1/deals/{id}/payment: the advertiser's payment into the deal's escrow."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Request

from chainfluence.auth.dependencies import CurrentUser
from chainfluence.deals.dependencies import PartyDeal
from chainfluence.dependencies import DBSession, app_services
from chainfluence.escrow import schemas, service
from chainfluence.ports import Configured, PayoutWallet

router = APIRouter(prefix="/deals", tags=["escrow"])


class _Ports(Configured, PayoutWallet, Protocol):
    """What a payment request needs of the process: the settings and the platform wallet."""


async def _ports(request: Request) -> _Ports:
    ports: _Ports = app_services(request)
    return ports


@router.post("/{deal_id}/payment", response_model=schemas.PaymentRequest)
async def request_payment(
    deal: PartyDeal,
    user: CurrentUser,
    session: DBSession,
    services: Annotated[_Ports, Depends(_ports)],
) -> schemas.PaymentRequest:
    """A TON Connect `sendTransaction` (and a ton:// link) paying the deal's exact price.

    The first call fixes the escrow's terms; later calls return the same contract.
    """
    return await service.request_payment(session, deal_id=deal.id, user=user, runtime=services)
