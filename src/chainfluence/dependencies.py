"""Request-scoped dependencies shared by every router: the process's ports, settings, the DB
session.

The application (`chainfluence.app`) puts the process's runtime on `app.state.runtime`; a
request sees it only through the narrow ports below (`RequestServices`, or a router's own
Protocol over `app_services`), never as the whole runtime.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from chainfluence.config import Settings
from chainfluence.kit.ratelimit import RateLimiter
from chainfluence.kit.totals import Totals
from chainfluence.ports import Configured, Messenger, Sessions

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestServices(Sessions, Configured, Messenger, Protocol):
    """What a request handler may reach of the process."""

    @property
    def rate_limiter(self) -> RateLimiter: ...

    @property
    def engine(self) -> AsyncEngine: ...  # for a read on a plain pooled connection

    @property
    def totals(self) -> Totals | None: ...  # list totals kept between writes


def app_services(request: Request) -> Any:
    """The process's services the application was built with (untyped: a caller states the
    ports it uses by its own return type)."""
    return request.app.state.runtime


async def get_services(request: Request) -> RequestServices:
    services: RequestServices = app_services(request)
    return services


ServicesDep = Annotated[RequestServices, Depends(get_services)]


async def get_settings_dep(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


_WRITES_ATTR = "__chainfluence_writes__"
_F = TypeVar("_F", bound=Callable[..., Any])


def writes(endpoint: _F) -> _F:
    """Mark a GET endpoint that writes (e.g. issues a single-use challenge).

    Its session then starts as a writer like a POST's, so on SQLite it cannot fail half-way
    upgrading a read transaction after another request committed.
    """
    setattr(endpoint, _WRITES_ATTR, True)
    return endpoint


_OWN_UNITS_ATTR = "__chainfluence_own_units__"


def runs_own_units(endpoint: _F) -> _F:
    """Mark a POST endpoint that opens its own units of work (it calls Telegram or TON between
    them): its request session only reads the caller, so on SQLite it holds no write lock that
    the endpoint's own sessions would wait for."""
    setattr(endpoint, _OWN_UNITS_ATTR, True)
    return endpoint


async def get_db_session(request: Request, services: ServicesDep) -> AsyncIterator[AsyncSession]:
    # Committed when the handler returns and before the response is sent ("function" scope):
    # a client never sees success for something that was not stored.
    endpoint = request.scope.get("endpoint")
    write = (
        request.method not in _READ_METHODS or getattr(endpoint, _WRITES_ATTR, False)
    ) and not getattr(endpoint, _OWN_UNITS_ATTR, False)
    # A read (GET without @writes) runs its SELECTs without a transaction around them: see
    # `kit.db.session_scope`. Its only write is the one-statement user upsert of `tma` auth.
    async with services.session(write=write, autocommit=not write) as session:
        yield session


DBSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
