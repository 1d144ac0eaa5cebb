"""Channels (Telegram chat id as key), their per-format prices and their Telegram administrators."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.formats import AdFormat
from chainfluence.kit.db import JSONType, UTCDateTime
from chainfluence.models.base import Base, TimestampMixin, enum_type


class Channel(TimestampMixin, Base):
    __tablename__ = "channels"
    __table_args__ = (
        CheckConstraint("subscribers IS NULL OR subscribers >= 0", name="subscribers_non_negative"),
        CheckConstraint("avg_views IS NULL OR avg_views >= 0", name="avg_views_non_negative"),
        CheckConstraint("rating_count >= 0", name="rating_count_non_negative"),
        CheckConstraint("rating_sum >= 0", name="rating_sum_non_negative"),
        Index("ix_channels_active_subscribers", "is_active", "subscribers"),
        Index("ix_channels_active_category", "is_active", "category", "subscribers"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(256), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(16))
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # Who promoted the bot in the channel (from my_chat_member), when we know it.
    bot_added_by: Mapped[int | None] = mapped_column(BigInteger)
    bot_status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Stats: each figure is null until observed; `stats_sources` says where each came from.
    subscribers: Mapped[int | None] = mapped_column(BigInteger)
    avg_views: Mapped[int | None] = mapped_column(BigInteger)
    engagement_rate: Mapped[float | None] = mapped_column(Float)
    posts_per_week: Mapped[float | None] = mapped_column(Float)
    language_distribution: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    top_posts_views: Mapped[list[Any] | None] = mapped_column(JSONType)
    stats_sources: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    stats_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rating_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


class ChannelPrice(TimestampMixin, Base):
    """One row per channel and format, so the catalogue filters and sorts by price on indexes."""

    __tablename__ = "channel_prices"
    __table_args__ = (
        CheckConstraint("price_nano >= 0", name="price_non_negative"),
        Index("ix_channel_prices_format_price", "format", "enabled", "price_nano"),
    )

    channel_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    format: Mapped[AdFormat] = mapped_column(enum_type(AdFormat, "ad_format"), primary_key=True)
    price_nano: Mapped[int] = mapped_column(BigInteger, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)


class ChannelAdmin(Base):
    """A Telegram administrator of a channel, as last synced from getChatAdministrators.

    Not every administrator is one of our users, so `user_id` has no foreign key.
    """

    __tablename__ = "channel_admins"

    channel_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    is_creator: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    can_post_messages: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    can_edit_messages: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    can_delete_messages: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    synced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
