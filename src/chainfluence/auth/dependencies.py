"""Auth dependencies: `CurrentUser` (Bearer JWT or `tma` initData), `CurrentUserAndWallet`
and `Operator`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.auth.exceptions import InvalidAccessToken, NotAuthenticated, OperatorOnly
from chainfluence.auth.init_data import validate_init_data
from chainfluence.dependencies import DBSession, RuntimeDep
from chainfluence.kit.security import InvalidToken, read_access_token
from chainfluence.models import User, Wallet
from chainfluence.runtime import Runtime
from chainfluence.users import repository as users

# Declared for the OpenAPI page, so the docs' "Authorize" button works with either scheme.
authorization_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    description="`Bearer <access_token>` from POST /v1/auth/login, or `tma <initData>`.",
)


@dataclass(frozen=True, slots=True)
class UserAndWallet:
    user: User
    wallet: Wallet | None  # the linked (current) wallet


async def _authenticate(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    authorization: str | None,
    *,
    with_wallet: bool,
) -> UserAndWallet:
    if not authorization:
        raise NotAuthenticated()
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    settings = runtime.settings
    wallet = None
    if scheme.lower() == "bearer" and credentials:
        try:
            user_id = read_access_token(
                credentials,
                secret=settings.auth.jwt_secret.get_secret_value(),
                previous_secrets=[s.get_secret_value() for s in settings.auth.jwt_previous_secrets],
            )
        except InvalidToken as exc:
            raise InvalidAccessToken(str(exc)) from None
        if with_wallet:
            # The user and their wallet in one SELECT: one round trip for GET /users/me.
            found = await users.get_with_wallet(session, user_id)
            user, wallet = found if found is not None else (None, None)
        else:
            user = await users.get(session, user_id)
        if user is None:
            raise InvalidAccessToken("the access token's user no longer exists; log in again")
    elif scheme.lower() == "tma" and credentials:
        identity = validate_init_data(credentials, settings)
        user = await users.get(session, identity.id) or await users.upsert_from_identity(
            session, identity
        )
        if with_wallet:
            wallet = await users.current_wallet(session, user.id)
    else:
        raise NotAuthenticated()
    request.scope.setdefault("state", {})["user_id"] = user.id
    if settings.rate_limit.enabled:
        await runtime.rate_limiter.hit(settings.rate_limit.per_user, "user", str(user.id))
    return UserAndWallet(user, wallet)


async def get_current_user(
    request: Request,
    session: DBSession,
    runtime: RuntimeDep,
    authorization: Annotated[str | None, Depends(authorization_header)],
) -> User:
    found = await _authenticate(request, session, runtime, authorization, with_wallet=False)
    return found.user


async def get_current_user_and_wallet(
    request: Request,
    session: DBSession,
    runtime: RuntimeDep,
    authorization: Annotated[str | None, Depends(authorization_header)],
) -> UserAndWallet:
    """`CurrentUser` with the user's linked wallet, read together."""
    return await _authenticate(request, session, runtime, authorization, with_wallet=True)


CurrentUser = Annotated[User, Depends(get_current_user)]
CurrentUserAndWallet = Annotated[UserAndWallet, Depends(get_current_user_and_wallet)]


async def get_operator(user: CurrentUser, runtime: RuntimeDep) -> User:
    if not runtime.settings.is_operator(user.id):
        raise OperatorOnly()
    return user


Operator = Annotated[User, Depends(get_operator)]


async def authenticated_user_id(
    request: Request, runtime: Runtime, authorization: str | None
) -> int:
    """`CurrentUser`'s check in a unit of work of its own, for a long response (a stream) that
    must not hold the request's database session open."""
    async with runtime.session() as session:
        found = await _authenticate(request, session, runtime, authorization, with_wallet=False)
        return found.user.id
