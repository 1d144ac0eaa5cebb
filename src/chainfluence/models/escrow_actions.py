"""Release / refund / split orders the platform wallet sends to an escrow, tracked to the chain.

The order is recorded before anything is signed, and every signed attempt (wallet seqno, expiry,
the exact message) is recorded before it is broadcast, so after a crash the sender knows whether a
message may still land and rebroadcasts the same bytes instead of signing a second payout.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import BigIntPK, JSONType, UTCDateTime
from chainfluence.models.base import Base, TimestampMixin, enum_type


class EscrowActionKind(StrEnum):
    release = "release"
    refund = "refund"
    dispute_split = "split"  # (not `split`: that name is str.split)


class EscrowActionStatus(StrEnum):
    pending = "pending"  # to be signed and sent (first time, or again after a failed attempt)
    sent = "sent"  # an attempt is signed and recorded; it may be on its way
    confirmed = "confirmed"  # the escrow's payout transaction is recorded (final)
    failed = "failed"  # will not happen: the escrow closed otherwise, or it was refused (final)


ACTIVE_ACTION_STATUSES = (EscrowActionStatus.pending, EscrowActionStatus.sent)


class EscrowAction(TimestampMixin, Base):
    __tablename__ = "escrow_actions"
    __table_args__ = (
        # Asking twice for the same outcome of a deal returns the first order.
        UniqueConstraint("deal_id", "kind"),
        # At most one order in flight per escrow: it can pay out only once anyway.
        Index(
            "uq_escrow_actions_active_per_deal",
            "deal_id",
            unique=True,
            postgresql_where=text("status IN ('pending', 'sent')"),
            sqlite_where=text("status IN ('pending', 'sent')"),
        ),
        Index("ix_escrow_actions_status", "status"),
        CheckConstraint(
            "publisher_share_bps IS NULL OR (publisher_share_bps >= 0 AND "
            "publisher_share_bps <= 10000)",
            name="share_in_range",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    deal_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("deals.id", ondelete="RESTRICT"), nullable=False
    )
    kind: Mapped[EscrowActionKind] = mapped_column(
        enum_type(EscrowActionKind, "escrow_action_kind"), nullable=False
    )
    publisher_share_bps: Mapped[int | None] = mapped_column(Integer)
    escrow_address: Mapped[str] = mapped_column(String(80), nullable=False)
    status: Mapped[EscrowActionStatus] = mapped_column(
        enum_type(EscrowActionStatus, "escrow_action_status"),
        default=EscrowActionStatus.pending,
        nullable=False,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # The current attempt: the op's query_id, the wallet message carrying it and its validity.
    query_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    wallet_address: Mapped[str | None] = mapped_column(String(80))
    wallet_seqno: Mapped[int | None] = mapped_column(BigInteger)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    value_nano: Mapped[int | None] = mapped_column(BigInteger)
    message_boc: Mapped[str | None] = mapped_column(Text)  # base64, rebroadcast as is
    message_hash: Mapped[str | None] = mapped_column(String(64))  # normalized, hex
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    broadcast_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Outcome.
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    tx_hash: Mapped[str | None] = mapped_column(String(64))
    exit_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list, nullable=False)
