"""Channel posts the bot has seen (channel_post / edited_channel_post) or a stats provider read.

Keyed by Telegram chat id without a foreign key: the bot observes a channel from the moment it is
made an administrator, usually before the channel is listed, and those posts already count for
the listing's stats. Views are not part of Bot API updates; they are filled in when a provider
knows them. The deal verification reads this table for the top-hours rule (nothing newer posted).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import UTCDateTime
from chainfluence.kit.time import utcnow
from chainfluence.models.base import Base


class ChannelPost(Base):
    __tablename__ = "channel_posts"
    __table_args__ = (Index("ix_channel_posts_channel_date", "channel_id", "posted_at"),)

    channel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Length (characters) and sha256 of the text or caption; the text itself is not kept.
    text_length: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    text_hash: Mapped[str | None] = mapped_column(String(64))
    has_media: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    media_group_id: Mapped[str | None] = mapped_column(String(64))
    # ISO 639-1 code detected from the text; null when too short or unsure.
    language: Mapped[str | None] = mapped_column(String(8))
    views: Mapped[int | None] = mapped_column(BigInteger)
    views_source: Mapped[str | None] = mapped_column(String(32))
    views_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # "update" (the bot received it) or a provider's name.
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    observed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
