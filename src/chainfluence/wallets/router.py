"""/v1/wallet/ton-proof/payload and /v1/users/me/wallet: link a TON wallet with TON Connect."""

from __future__ import annotations

from fastapi import APIRouter

from chainfluence.auth.dependencies import CurrentUser
from chainfluence.dependencies import DBSession, SettingsDep, writes
from chainfluence.users import schemas as user_schemas
from chainfluence.users import service as users
from chainfluence.wallets import schemas, service

router = APIRouter(tags=["wallet"])


@router.get("/wallet/ton-proof/payload", response_model=schemas.TonProofChallenge)
@writes
async def get_ton_proof_payload(
    user: CurrentUser, session: DBSession, settings: SettingsDep
) -> schemas.TonProofChallenge:
    """A single-use challenge for TON Connect's `ton_proof`, valid for this user only."""
    challenge = await service.issue_payload(session, user_id=user.id, settings=settings)
    return schemas.TonProofChallenge(payload=challenge.payload, expires_at=challenge.expires_at)


@router.post("/users/me/wallet", response_model=user_schemas.User)
async def link_wallet(
    body: schemas.WalletLink, user: CurrentUser, session: DBSession, settings: SettingsDep
) -> user_schemas.User:
    """Link the wallet a TON Connect ton_proof proves; it replaces the current one."""
    await service.link_wallet(session, user, body, settings)
    return await users.me(session, user, settings)
