"""The bot's own standing in each channel or group, as my_chat_member updates report it.

Remembered for every chat, listed or not: a channel owner adds the bot as an administrator before
listing the channel, and that update is the only place Telegram says who promoted it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import UTCDateTime
from chainfluence.models.base import Base


class BotChat(Base):
    __tablename__ = "bot_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_type: Mapped[str] = mapped_column(String(16), nullable=False)
    title: Mapped[str | None] = mapped_column(String(256))
    username: Mapped[str | None] = mapped_column(String(64))
    # ChatMember status: creator, administrator, member, restricted, left, kicked.
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    can_post_messages: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    can_edit_messages: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    can_delete_messages: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Who made the bot an administrator, and since when it has been one without interruption.
    promoted_by: Mapped[int | None] = mapped_column(BigInteger)
    admin_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
