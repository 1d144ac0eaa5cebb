"""GET /v1/deals/{id}/evidence (the deal's parties and operators) and the published keys."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Response

from chainfluence.config import decode_key_bytes
from chainfluence.deals.dependencies import PartyDeal
from chainfluence.dependencies import DBSession, SettingsDep
from chainfluence.evidence import schemas, service
from chainfluence.evidence.signing import KEY_PATH, published_keys

router = APIRouter(prefix="/deals", tags=["deals"])


@router.get(
    "/{deal_id}/evidence",
    response_model=schemas.EvidencePack,
    summary="The deal's signed evidence pack",
)
async def get_evidence(deal: PartyDeal, session: DBSession, settings: SettingsDep) -> Response:
    """Terms, escrow (recomputable address), timeline, creatives, post checks, views and chain
    transactions in one document signed with the platform's Ed25519 key. For the deal's parties
    and operators; `chainfluence evidence verify FILE` checks it offline."""
    pack = await service.build_pack(session, deal, settings)
    name = service.evidence_file_name(deal.id)
    return Response(
        service.pack_bytes(pack),
        media_type="application/json",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


def add_key_route(app: FastAPI) -> None:
    """The public keys evidence packs are signed with, at a well-known URL (no login)."""

    @app.get(KEY_PATH, tags=["evidence"], response_model=schemas.EvidenceKeys)
    async def evidence_keys(settings: SettingsDep) -> dict[str, object]:
        current = service.signer(settings).public_key
        previous = [decode_key_bytes(key) for key in settings.evidence.previous_public_keys]
        return published_keys(current, previous)
