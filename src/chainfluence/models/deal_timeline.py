"""The deal timeline: append-only events, one per transition, check and chain observation."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import BigIntPK, JSONType, UTCDateTime
from chainfluence.kit.time import utcnow
from chainfluence.models.base import Base, enum_type
from chainfluence.models.deals import DealStatus


class ActorType(StrEnum):
    user = "user"
    operator = "operator"
    system = "system"
    chain = "chain"
    bot = "bot"


class DealEvent(Base):
    """One append-only entry of a deal's timeline: who did what, from which state to which."""

    __tablename__ = "deal_timeline"
    __table_args__ = (Index("ix_deal_timeline_deal_id_id", "deal_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    deal_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("deals.id", ondelete="RESTRICT"), nullable=False
    )
    event: Mapped[str] = mapped_column(String(48), nullable=False)
    actor_type: Mapped[ActorType] = mapped_column(
        enum_type(ActorType, "actor_type"), nullable=False
    )
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    from_status: Mapped[DealStatus | None] = mapped_column(enum_type(DealStatus, "from_status"))
    to_status: Mapped[DealStatus | None] = mapped_column(enum_type(DealStatus, "to_status"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    tx_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
