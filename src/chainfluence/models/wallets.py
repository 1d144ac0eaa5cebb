"""Wallets: TON addresses a user proved to control with TON Connect ton_proof."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import BigIntPK, UTCDateTime
from chainfluence.models.base import Base, TimestampMixin


class Wallet(TimestampMixin, Base):
    __tablename__ = "wallets"
    __table_args__ = (
        # One current wallet per user; unlinked ones stay as history for past deals.
        Index(
            "uq_wallets_current_per_user",
            "user_id",
            unique=True,
            postgresql_where=text("unlinked_at IS NULL"),
            sqlite_where=text("unlinked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Raw form "0:<64 hex>"; the user-friendly form is derived when rendering.
    address: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    network: Mapped[str] = mapped_column(String(16), nullable=False)
    public_key: Mapped[str | None] = mapped_column(String(64))
    proof_domain: Mapped[str | None] = mapped_column(String(255))
    verified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    unlinked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
