"""Users: a Telegram user id is the primary key; registered on first login."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import UTCDateTime
from chainfluence.models.base import Base, TimestampMixin


def average_rating(rating_sum: int, rating_count: int) -> float | None:
    """The average review, to two decimals; none before the first review."""
    return round(rating_sum / rating_count, 2) if rating_count else None


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("rating_count >= 0", name="rating_count_non_negative"),
        CheckConstraint("rating_sum >= 0", name="rating_sum_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    first_name: Mapped[str] = mapped_column(String(256), default="", nullable=False)
    last_name: Mapped[str | None] = mapped_column(String(256))
    photo_url: Mapped[str | None] = mapped_column(Text)
    language_code: Mapped[str | None] = mapped_column(String(16))
    is_premium: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_publisher: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_advertiser: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    member_since: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The bot can message a user only after they started it; a 403 means they blocked it.
    bot_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    bot_blocked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Reviews received, as exact integers (average = sum / count).
    rating_sum: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rating_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    @property
    def rating(self) -> float | None:
        return average_rating(self.rating_sum, self.rating_count)

    @property
    def can_receive_pushes(self) -> bool:
        return self.bot_started_at is not None and self.bot_blocked_at is None
