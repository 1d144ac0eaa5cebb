"""The live-events outbox: one row per person told about a change (GET /v1/events).

Written in the same transaction as the change (a notification, a deal timeline entry, an offer's
new status), so the ids are the order a person sees, a reconnecting client replays from its
`Last-Event-ID`, and nothing is announced that was rolled back.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import BigIntPK, JSONType, UTCDateTime
from chainfluence.kit.time import utcnow
from chainfluence.models.base import Base, enum_type


class UserEventType(StrEnum):
    notification = "notification"
    deal = "deal"
    offer = "offer"


class UserEvent(Base):
    __tablename__ = "user_events"
    __table_args__ = (Index("ix_user_events_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[UserEventType] = mapped_column(
        enum_type(UserEventType, "user_event_type"), nullable=False
    )
    subject_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
