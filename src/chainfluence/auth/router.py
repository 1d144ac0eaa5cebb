"""POST /v1/auth/login: exchange Mini App initData for an access token."""

from __future__ import annotations

from fastapi import APIRouter, Request

from chainfluence.auth.init_data import validate_init_data
from chainfluence.auth.schemas import LoginRequest, LoginResponse
from chainfluence.dependencies import DBSession, RuntimeDep
from chainfluence.kit.security import issue_access_token
from chainfluence.users import service as users

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={401: {"description": "The initData is invalid, expired or not signed for us."}},
)
async def login(
    body: LoginRequest, session: DBSession, runtime: RuntimeDep, request: Request
) -> LoginResponse:
    settings = runtime.settings
    identity = validate_init_data(body.init_data, settings)
    user = await users.login(session, identity)
    request.scope.setdefault("state", {})["user_id"] = user.id
    token = issue_access_token(
        user.id,
        secret=settings.auth.jwt_secret.get_secret_value(),
        ttl_seconds=settings.auth.jwt_ttl_seconds,
    )
    return LoginResponse(
        access_token=token.token,
        expires_in=token.expires_in,
        user=await users.me(session, user, settings),
    )
