"""Request-scoped dependencies shared by every router: the runtime, settings, the DB session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.config import Settings
from chainfluence.runtime import Runtime

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings_dep(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_db_session(request: Request, runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    # Committed when the handler returns and before the response is sent ("function" scope):
    # a client never sees success for something that was not stored.
    async with runtime.session(write=request.method not in _READ_METHODS) as session:
        yield session


DBSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
