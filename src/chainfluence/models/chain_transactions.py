"""Chain transactions touching our escrows, each recorded once (unique by hash)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import BigIntPK, JSONType, UTCDateTime
from chainfluence.kit.time import utcnow
from chainfluence.models.base import Base, enum_type


class ChainTxKind(StrEnum):
    deposit = "deposit"
    release = "release"
    refund = "refund"
    dispute_split = "split"
    bounce = "bounce"
    other = "other"


class ChainTransaction(Base):
    __tablename__ = "chain_transactions"
    __table_args__ = (Index("ix_chain_transactions_account_lt", "account", "lt"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    lt: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The escrow (raw address) the transaction belongs to.
    account: Mapped[str] = mapped_column(String(80), nullable=False)
    deal_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("deals.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[ChainTxKind] = mapped_column(
        enum_type(ChainTxKind, "chain_tx_kind"), nullable=False
    )
    # Value of the incoming message (a deposit) or total sent out, in nanotons.
    amount_nano: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    source: Mapped[str | None] = mapped_column(String(80))
    comment: Mapped[str | None] = mapped_column(Text)
    aborted: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    utime: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
