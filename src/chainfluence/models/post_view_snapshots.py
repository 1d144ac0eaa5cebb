"""Post view series: what a views provider read for one post at one time.

One row per post and age bucket (the first reading a stats refresh got at 0, 1 h, 6 h, 24 h,
48 h, 72 h, 7 d, 14 d and 30 d of age: `channels.stats.SERIES_AGES`). `age_seconds` is the
post's age at the reading, so "views at 24 h" is a lookup, not a guess. Keyed like
`channel_posts` (Telegram chat id, message id), without a foreign key for the same reason.
Views are noisy (counted per session, recounted after a cooldown, forwards add views); a series
is what makes them usable.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import UTCDateTime
from chainfluence.models.base import Base


class PostViewSnapshot(Base):
    __tablename__ = "post_view_snapshots"

    channel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    age_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    views: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Null when the provider does not see them (only MTProto does).
    forwards: Mapped[int | None] = mapped_column(Integer)
    reactions: Mapped[int | None] = mapped_column(Integer)
    # The provider's name ("mtproto", "emulator").
    source: Mapped[str] = mapped_column(String(32), nullable=False)
