"""/v1/users: the caller's profile, roles and statistics; public profiles.

Mounted from `auth` rather than `users`: these routes need the authenticated caller, and `auth`
finds the caller in the users' records, so `users` stays below `auth` (no import cycle).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from chainfluence.auth.dependencies import CurrentProfile, CurrentUser
from chainfluence.dependencies import DBSession, SettingsDep
from chainfluence.kit.schemas import TgId
from chainfluence.users import schemas, service

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=schemas.User)
async def get_me(profile: CurrentProfile) -> Response:
    # Built from the database's row just now: dumped as is, not validated a second time.
    return Response(profile.model_dump_json(by_alias=True), media_type="application/json")


@router.patch("/me", response_model=schemas.User)
async def update_me(
    body: schemas.UserUpdate, user: CurrentUser, session: DBSession, settings: SettingsDep
) -> schemas.User:
    await service.update_roles(session, user, body)
    return await service.me(session, user, settings)


@router.get("/me/stats", response_model=schemas.UserStats)
async def get_my_stats(user: CurrentUser, session: DBSession) -> schemas.UserStats:
    return await service.stats(session, user)


@router.get("/{user_id}", response_model=schemas.PublicUser)
async def get_user(user_id: TgId, session: DBSession) -> schemas.PublicUser:
    return await service.public_profile(session, user_id)
