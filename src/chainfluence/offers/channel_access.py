"""Who may act for a channel, as offers ask it: through the channels package's own check.

`channels.verification.require_channel_manager` decides (the owner, or one of the channel's
Telegram administrators as last synced). Offers read the synced copy (`fresh=False`): applying,
booking and deciding on terms move no money; the escrow and publishing steps re-ask Telegram.
"""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.channels import repository as channels
from chainfluence.channels.exceptions import ChannelNotFound, NotChannelManager
from chainfluence.channels.verification import require_channel_manager
from chainfluence.models import Channel


async def is_channel_manager(session: AsyncSession, user_id: int, channel: Channel) -> bool:
    try:
        await require_channel_manager(session, None, user_id=user_id, channel=channel, fresh=False)
    except (NotChannelManager, ChannelNotFound):
        # A deleted channel has no managers left; its offers' parties still see them.
        return False
    return True


def managed_channel_ids(user_id: int) -> Select[tuple[int]]:
    """The ids of the channels `user_id` may act for, as a subquery."""
    return channels.managed_ids(user_id)
