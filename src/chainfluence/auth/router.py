"""POST /v1/auth/login: exchange Mini App initData for an access token."""

from __future__ import annotations

from fastapi import APIRouter, Request

from chainfluence.auth.init_data import validate_init_data
from chainfluence.auth.schemas import LoginRequest, LoginResponse
from chainfluence.dependencies import ServicesDep
from chainfluence.kit.security import issue_access_token
from chainfluence.users import repository as users_repository
from chainfluence.users import service as users

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={401: {"description": "The initData is invalid, expired or not signed for us."}},
)
async def login(body: LoginRequest, runtime: ServicesDep, request: Request) -> LoginResponse:
    settings = runtime.settings
    identity = validate_init_data(body.init_data, settings)
    # Two statements and no transaction around them (autocommit on PostgreSQL: BEGIN and COMMIT
    # would cost more than both): the upsert, which stands on its own, then the profile (user
    # and wallet) as one row. Both have run before the answer is sent.
    async with runtime.session(write=False, autocommit=True) as session:
        await users.login(session, identity)
        row = await users_repository.profile_row(await session.connection(), identity.id)
    assert row is not None  # upserted just above
    request.scope.setdefault("state", {})["user_id"] = identity.id
    token = issue_access_token(
        identity.id,
        secret=settings.auth.jwt_secret.get_secret_value(),
        ttl_seconds=settings.auth.jwt_ttl_seconds,
    )
    return LoginResponse(
        access_token=token.token,
        expires_in=token.expires_in,
        user=users.profile_from_row(row, settings),
    )
