"""Auth dependencies: `CurrentUser` (Bearer JWT or `tma` initData), `CurrentReader`,
`CurrentProfile` and `Operator`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chainfluence.auth.exceptions import InvalidAccessToken, NotAuthenticated, OperatorOnly
from chainfluence.auth.init_data import validate_init_data
from chainfluence.dependencies import DBSession, RequestServices, ServicesDep, app_services
from chainfluence.kit.db import read_connection
from chainfluence.kit.security import InvalidToken, read_access_token
from chainfluence.models import User, Wallet
from chainfluence.users import repository as users
from chainfluence.users import schemas as users_schemas
from chainfluence.users import service as users_service

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
    runtime: RequestServices,
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
        user = await users.get(session, _bearer_user_id(credentials, runtime))
        if user is None:
            raise _user_gone()
    elif scheme.lower() == "tma" and credentials:
        identity = validate_init_data(credentials, settings)
        user = await users.get(session, identity.id) or await users.upsert_from_identity(
            session, identity
        )
    else:
        raise NotAuthenticated()
    if with_wallet:
        wallet = await users.current_wallet(session, user.id)
    await _admit(request, runtime, user.id)
    return UserAndWallet(user, wallet)


def _user_gone() -> InvalidAccessToken:
    return InvalidAccessToken("the access token's user no longer exists; log in again")


def _bearer_token(authorization: str | None) -> str | None:
    """The token of a `Bearer` Authorization header (None for `tma` or none at all)."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    return credentials if scheme.lower() == "bearer" and credentials else None


def _bearer_user_id(token: str, runtime: RequestServices) -> int:
    settings = runtime.settings
    try:
        return read_access_token(
            token,
            secret=settings.auth.jwt_secret.get_secret_value(),
            previous_secrets=[s.get_secret_value() for s in settings.auth.jwt_previous_secrets],
        )
    except InvalidToken as exc:
        raise InvalidAccessToken(str(exc)) from None


async def _admit(request: Request, runtime: RequestServices, user_id: int) -> None:
    """The caller is known: their id goes to the request's log line, and their request counts
    against their own rate limit."""
    request.scope.setdefault("state", {})["user_id"] = user_id
    limits = runtime.settings.rate_limit
    if limits.enabled:
        await runtime.rate_limiter.hit(limits.per_user, "user", str(user_id))


async def get_current_user(
    request: Request,
    session: DBSession,
    runtime: ServicesDep,
    authorization: Annotated[str | None, Depends(authorization_header)],
) -> User:
    found = await _authenticate(request, session, runtime, authorization, with_wallet=False)
    return found.user


async def get_current_profile(
    request: Request, authorization: Annotated[str | None, Depends(authorization_header)]
) -> users_schemas.User:
    """The caller's own profile (GET /v1/users/me), the hottest authenticated read.

    With a Bearer token: the token names the user, and one SELECT of the user and their wallet
    both proves the user still exists and is the answer, on a plain pooled connection (no ORM
    session, no transaction). Nothing else can make a valid token's user unwelcome: there is no
    blocking or revocation of users, only expiry (checked with the token) and deletion (the
    SELECT finds nothing: 401 as for any request). `tma` initData goes the usual way, since it
    may register the user. The process's services are read off the request, not solved as one
    more dependency."""
    runtime: RequestServices = app_services(request)
    token = _bearer_token(authorization)
    if token is not None:
        user_id = _bearer_user_id(token, runtime)
        async with read_connection(runtime.engine) as connection:
            row = await users.profile_row(connection, user_id)
        if row is None:
            raise _user_gone()
        await _admit(request, runtime, user_id)
        return users_service.profile_from_row(row, runtime.settings)
    async with runtime.session(write=False, autocommit=True) as session:
        found = await _authenticate(request, session, runtime, authorization, with_wallet=True)
    return users_service.profile(found.user, found.wallet, runtime.settings)


@dataclass(frozen=True, slots=True)
class Reader:
    """The caller, by id, and a pooled connection for the request's reads (`read_connection`:
    no ORM session, no transaction on PostgreSQL), for lists read as `kit.db.DirectRead` reads."""

    user_id: int
    connection: AsyncConnection


async def get_current_reader(
    request: Request, authorization: Annotated[str | None, Depends(authorization_header)]
) -> AsyncIterator[Reader]:
    """`CurrentUser`'s check for a handler that only reads, with the connection it reads on.

    With a Bearer token the token names the user and one SELECT on that connection proves they
    still exist (401 otherwise, as `CurrentUser`); no ORM session is opened and no User loaded.
    `tma` initData goes the usual way first (it may register the user), in a unit of work of
    its own. The process's services are read off the request, not solved as a dependency."""
    runtime: RequestServices = app_services(request)
    token = _bearer_token(authorization)
    if token is None:
        async with runtime.session(write=False, autocommit=True) as session:
            found = await _authenticate(request, session, runtime, authorization, with_wallet=False)
        user_id = found.user.id
    else:
        user_id = _bearer_user_id(token, runtime)
    async with read_connection(runtime.engine) as connection:
        if token is not None:
            if not await users.exists(connection, user_id):
                raise _user_gone()
            await _admit(request, runtime, user_id)
        yield Reader(user_id, connection)


CurrentUser = Annotated[User, Depends(get_current_user)]
CurrentReader = Annotated[Reader, Depends(get_current_reader, scope="function")]
CurrentProfile = Annotated[users_schemas.User, Depends(get_current_profile)]


async def get_operator(user: CurrentUser, runtime: ServicesDep) -> User:
    if not runtime.settings.is_operator(user.id):
        raise OperatorOnly()
    return user


Operator = Annotated[User, Depends(get_operator)]


async def authenticated_user_id(
    request: Request, runtime: RequestServices, authorization: str | None
) -> int:
    """`CurrentUser`'s check in a unit of work of its own, for a long response (a stream) that
    must not hold the request's database session open."""
    async with runtime.session() as session:
        found = await _authenticate(request, session, runtime, authorization, with_wallet=False)
        return found.user.id
