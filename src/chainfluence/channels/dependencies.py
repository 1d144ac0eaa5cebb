"""Channel loaders for routes: 404 for a missing channel, 403 for someone who may not manage it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from chainfluence.auth.dependencies import CurrentUser
from chainfluence.channels import repository
from chainfluence.channels.exceptions import ChannelNotFound
from chainfluence.channels.verification import require_channel_manager
from chainfluence.dependencies import DBSession, ServicesDep
from chainfluence.kit.schemas import TgId
from chainfluence.models import Channel


async def get_channel(channel_id: TgId, session: DBSession) -> Channel:
    channel = await repository.get(session, channel_id)
    if channel is None:
        raise ChannelNotFound()
    return channel


async def get_managed_channel(
    channel_id: TgId, user: CurrentUser, session: DBSession, services: ServicesDep
) -> Channel:
    """The channel, for its owner or a synced Telegram administrator (no Telegram call)."""
    return await require_channel_manager(
        session, services.bot, user_id=user.id, channel=channel_id, fresh=False
    )


PublicChannel = Annotated[Channel, Depends(get_channel)]
ChannelManager = Annotated[Channel, Depends(get_managed_channel)]
