"""/v1/deals/{id}/payment: the advertiser's payment into the deal's escrow."""

from __future__ import annotations

from fastapi import APIRouter

from chainfluence.auth.dependencies import CurrentUser
from chainfluence.deals.dependencies import PartyDeal
from chainfluence.dependencies import DBSession, RuntimeDep
from chainfluence.escrow import schemas, service

router = APIRouter(prefix="/deals", tags=["escrow"])


@router.post("/{deal_id}/payment", response_model=schemas.PaymentRequest)
async def request_payment(
    deal: PartyDeal, user: CurrentUser, session: DBSession, runtime: RuntimeDep
) -> schemas.PaymentRequest:
    """A TON Connect `sendTransaction` (and a ton:// link) paying the deal's exact price.

    The first call fixes the escrow's terms; later calls return the same contract.
    """
    return await service.request_payment(session, deal_id=deal.id, user=user, runtime=runtime)
