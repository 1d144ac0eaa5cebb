"""Deals: the agreement between advertiser and publisher, and its escrow."""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.formats import AdFormat
from chainfluence.kit.db import BigIntPK, JSONType, UTCDateTime
from chainfluence.models.base import Base, TimestampMixin, enum_type


class DealStatus(StrEnum):
    pending = "pending"  # waiting for the advertiser's deposit
    in_escrow = "in_escrow"  # funded; creative agreed and post scheduled inside this state
    live = "live"  # published; verification runs through the hold
    # the live post was edited: paused until the advertiser accepts the edit (or it refunds)
    edit_pending = "edit_pending"
    verified = "verified"  # hold passed; release sent, waiting for its confirmation
    released = "released"  # publisher paid (final)
    refunding = "refunding"  # refund sent, waiting for its confirmation
    refunded = "refunded"  # advertiser refunded (final)
    cancelled = "cancelled"  # ended before any money was held (final)
    disputed = "disputed"  # payout paused until an operator decides
    splitting = "splitting"  # an operator split the escrow; waiting for its confirmation
    split_paid = "split"  # both parties paid their shares after a dispute (final)


# Statuses a deal never leaves; every other one still holds, or waits for, money or a post.
FINAL_DEAL_STATUSES = frozenset(
    {DealStatus.released, DealStatus.refunded, DealStatus.cancelled, DealStatus.split_paid}
)
OPEN_DEAL_STATUSES = frozenset(DealStatus) - FINAL_DEAL_STATUSES


class Deal(TimestampMixin, Base):
    __tablename__ = "deals"
    __table_args__ = (
        CheckConstraint("price_nano > 0", name="price_positive"),
        CheckConstraint(
            "platform_fee_nano >= 0 AND platform_fee_nano <= price_nano", name="fee_within_price"
        ),
        CheckConstraint("deposited_nano >= 0", name="deposited_non_negative"),
        Index("ix_deals_status_next_check", "status", "next_check_at"),
        Index("ix_deals_publisher_status", "publisher_id", "status"),
        Index("ix_deals_advertiser_status", "advertiser_id", "status"),
        Index("ix_deals_views_due_at", "views_due_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    offer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("offers.id", ondelete="RESTRICT"), unique=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("campaigns.id", ondelete="RESTRICT"), index=True
    )
    channel_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("channels.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    publisher_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )
    advertiser_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )
    format: Mapped[AdFormat] = mapped_column(enum_type(AdFormat, "ad_format"), nullable=False)
    status: Mapped[DealStatus] = mapped_column(
        enum_type(DealStatus, "deal_status"), default=DealStatus.pending, nullable=False
    )
    # Money, in nanotons: the agreed price, the platform's cut of it, what reached the escrow.
    price_nano: Mapped[int] = mapped_column(BigInteger, nullable=False)
    platform_fee_nano: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    deposited_nano: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    # Escrow terms, frozen when the payment request is first made (they determine the address).
    escrow_address: Mapped[str | None] = mapped_column(String(80), unique=True)
    escrow_platform: Mapped[str | None] = mapped_column(String(80))
    # The StateInit (base64 BOC) the address was computed from: later payment requests hand out
    # exactly these bytes, even after the contract artifact changes.
    escrow_state_init: Mapped[str | None] = mapped_column(Text)
    advertiser_wallet: Mapped[str | None] = mapped_column(String(80))
    publisher_wallet: Mapped[str | None] = mapped_column(String(80))
    fee_recipient: Mapped[str | None] = mapped_column(String(80))
    refund_after: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Schedule and deadlines of the waiting states.
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deposit_deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    creative_deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    posting_deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When a sweep should look at this deal next (DESIGN §6); null when nothing is due.
    next_check_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The approved creative, frozen, and the post the bot published.
    creative_version: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str | None] = mapped_column(String(66))
    post_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # All messages of the post (an album is several), and what Telegram showed when it went out.
    post_message_ids: Mapped[list[int]] = mapped_column(JSONType, default=list, nullable=False)
    post_fingerprint: Mapped[str | None] = mapped_column(String(66))
    post_content_fingerprint: Mapped[str | None] = mapped_column(String(66))
    # Text and entities alone: what the MTProto probe compares (null before migration 0011).
    post_text_fingerprint: Mapped[str | None] = mapped_column(String(66))
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    hold_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    top_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Views of the ad post (`deals.views`): when its next reading is due (1 h, 24 h, end of the
    # hold), null when none is; when the report went to the advertiser (once, at the end).
    views_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    report_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    funded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Publishing: the lease of the attempt under way (so two never post twice), and the newest
    # channel message id known before it (to find a post whose send timed out).
    publish_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    publish_after_message_id: Mapped[int | None] = mapped_column(BigInteger)
    publish_failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # Verification: the remaining probe times (ISO), and checks in a row that could not run.
    probe_schedule: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    checks_unavailable: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # Chain references.
    deposit_tx_hash: Mapped[str | None] = mapped_column(String(64))
    payout_tx_hash: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Disputes: the state payout was paused in, who opened it and why, and the decision.
    disputed_from: Mapped[DealStatus | None] = mapped_column(enum_type(DealStatus, "disputed_from"))
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    disputed_by: Mapped[int | None] = mapped_column(BigInteger)
    dispute_outcome: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    close_reason: Mapped[str | None] = mapped_column(Text)
