"""Uploads: images users attach to campaigns and creatives, stored on disk by file id."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import UTCDateTime
from chainfluence.kit.time import utcnow
from chainfluence.models.base import Base


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    # A random, unguessable id: the file is public to whoever holds it (GET is unauthenticated).
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    content_type: Mapped[str] = mapped_column(String(32), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    original_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
