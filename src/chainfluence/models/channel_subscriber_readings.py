"""Subscriber history: the subscriber count a stats refresh read, kept when it changed or a day
after the last kept reading (so about one row a day per channel). The trust score's subscriber
jump signal reads it (`channels.trust`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import UTCDateTime
from chainfluence.models.base import Base


class ChannelSubscriberReading(Base):
    __tablename__ = "channel_subscriber_readings"

    channel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    subscribers: Mapped[int] = mapped_column(BigInteger, nullable=False)
