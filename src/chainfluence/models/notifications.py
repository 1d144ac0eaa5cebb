"""In-app notifications; each is also pushed by the bot to users who started it."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import BigIntPK, UTCDateTime
from chainfluence.kit.time import utcnow
from chainfluence.models.base import Base, enum_type


class NotificationType(StrEnum):
    booking_request = "booking_request"
    deposit_received = "deposit_received"
    deal_accepted = "deal_accepted"
    deal_declined = "deal_declined"
    creative_submitted = "creative_submitted"
    creative_approved = "creative_approved"
    creative_changes_requested = "creative_changes_requested"
    posting_reminder = "posting_reminder"
    post_verified = "post_verified"
    funds_released = "funds_released"
    funds_refunded = "funds_refunded"
    dispute_opened = "dispute_opened"
    campaign_offer = "campaign_offer"
    offer_accepted = "offer_accepted"
    offer_declined = "offer_declined"
    campaign_ending = "campaign_ending"
    # Added for flows the Mini App's list did not cover.
    offer_countered = "offer_countered"
    offer_withdrawn = "offer_withdrawn"
    deal_cancelled = "deal_cancelled"
    post_published = "post_published"
    post_violation = "post_violation"
    post_edited = "post_edited"
    dispute_resolved = "dispute_resolved"
    channel_deactivated = "channel_deactivated"
    review_received = "review_received"
    deal_report = "deal_report"  # the finished deal's views and CPM, for the advertiser
    system = "system"


class RelatedType(StrEnum):
    deal = "deal"
    offer = "offer"
    campaign = "campaign"
    channel = "channel"
    review = "review"


class PushStatus(StrEnum):
    pending = "pending"  # not yet attempted (or retrying)
    sent = "sent"
    skipped = "skipped"  # user never started the bot, or blocked it
    failed = "failed"  # gave up after retries


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_push_pending", "push_status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[NotificationType] = mapped_column(
        enum_type(NotificationType, "notification_type"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, default="", nullable=False)
    related_type: Mapped[RelatedType | None] = mapped_column(enum_type(RelatedType, "related_type"))
    related_id: Mapped[int | None] = mapped_column(BigInteger)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    push_status: Mapped[PushStatus] = mapped_column(
        enum_type(PushStatus, "push_status"), default=PushStatus.pending, nullable=False
    )
    push_attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    pushed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
