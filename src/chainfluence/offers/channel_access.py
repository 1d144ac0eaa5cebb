"""Who may act for a channel.

SEAM (issue 3): the channels package will own this check as
`chainfluence.channels.service.require_channel_manager(user, channel, *, fresh=True)`, which
re-asks Telegram. Until it lands, "manages the channel" is read from our own tables: the owner,
or a synced `channel_admins` row with the right to post. Swap `is_channel_manager` for that call
(and `managed_channel_ids` for its query form, if it offers one); nothing else in offers reads
channel administration.
"""

from __future__ import annotations

from sqlalchemy import Select, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.models import Channel, ChannelAdmin


async def is_channel_manager(session: AsyncSession, user_id: int, channel: Channel) -> bool:
    if channel.owner_id == user_id:
        return True
    admin = await session.get(ChannelAdmin, (channel.id, user_id))
    return admin is not None and admin.can_post_messages


def managed_channel_ids(user_id: int) -> Select[tuple[int]]:
    """The ids of the channels `user_id` may act for, as a subquery."""
    owned = select(Channel.id).where(Channel.owner_id == user_id)
    administered = select(ChannelAdmin.channel_id).where(
        ChannelAdmin.user_id == user_id, ChannelAdmin.can_post_messages.is_(True)
    )
    return select(union(owned, administered).subquery().c[0])
