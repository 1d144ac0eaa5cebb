"""Creatives: versioned drafts of a deal's ad post."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import BigIntPK, JSONType, UTCDateTime
from chainfluence.kit.time import utcnow
from chainfluence.models.base import Base, enum_type


class CreativeStatus(StrEnum):
    submitted = "submitted"
    changes_requested = "changes_requested"
    approved = "approved"
    superseded = "superseded"


class Creative(Base):
    """A versioned draft of the ad post; the approved one's content hash is frozen in the deal."""

    __tablename__ = "creatives"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        UniqueConstraint("deal_id", "version"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    deal_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("deals.id", ondelete="RESTRICT"), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    author_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT")
    )
    text: Mapped[str] = mapped_column(Text, nullable=False)
    entities: Mapped[list[Any]] = mapped_column(JSONType, default=list, nullable=False)
    images: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    buttons: Mapped[list[Any]] = mapped_column(JSONType, default=list, nullable=False)
    status: Mapped[CreativeStatus] = mapped_column(
        enum_type(CreativeStatus, "creative_status"),
        default=CreativeStatus.submitted,
        nullable=False,
    )
    content_hash: Mapped[str] = mapped_column(String(66), nullable=False)
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(BigInteger)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
