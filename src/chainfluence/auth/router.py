"""POST /v1/auth/login: exchange Mini App initData for an access token."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from chainfluence.auth.init_data import validate_init_data
from chainfluence.auth.schemas import LoginRequest, LoginResponse
from chainfluence.dependencies import RequestServices, app_services
from chainfluence.kit.db import statement_connection
from chainfluence.kit.security import issue_access_token
from chainfluence.users import repository as users_repository
from chainfluence.users import service as users

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={401: {"description": "The initData is invalid, expired or not signed for us."}},
)
async def login(body: LoginRequest, request: Request) -> Response:
    # The process's services read off the request, not solved as one more dependency.
    runtime: RequestServices = app_services(request)
    settings = runtime.settings
    identity = validate_init_data(body.init_data, settings)
    # Two statements on a plain connection, no ORM session and no transaction around them
    # (autocommit on PostgreSQL: BEGIN and COMMIT would cost more than both): the upsert, which
    # stands on its own, then the profile (user and wallet) as one row. Both have run before
    # the answer is sent.
    async with statement_connection(runtime.engine) as connection:
        await users.login(connection, identity)
        row = await users_repository.profile_row(connection, identity.id)
    assert row is not None  # upserted just above
    request.scope.setdefault("state", {})["user_id"] = identity.id
    token = issue_access_token(
        identity.id,
        secret=settings.auth.jwt_secret.get_secret_value(),
        ttl_seconds=settings.auth.jwt_ttl_seconds,
    )
    answer = LoginResponse(
        access_token=token.token,
        expires_in=token.expires_in,
        user=users.profile_from_row(row, settings),
    )
    # Built from the database's row just now: dumped as is, not validated a second time.
    return Response(answer.model_dump_json(by_alias=True), media_type="application/json")
