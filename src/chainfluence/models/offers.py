"""Offers: a priced proposal for one channel and format on a date, in either direction."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.formats import AdFormat
from chainfluence.kit.db import BigIntPK, UTCDateTime
from chainfluence.models.base import Base, TimestampMixin, enum_type


class OfferDirection(StrEnum):
    # A publisher applies to an advertiser's campaign.
    application = "application"
    # An advertiser books a publisher's channel directly.
    booking = "booking"


class OfferStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    countered = "countered"
    withdrawn = "withdrawn"
    expired = "expired"


class Offer(TimestampMixin, Base):
    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("amount_nano > 0", name="amount_positive"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_offers_publisher_status", "publisher_id", "status"),
        Index("ix_offers_advertiser_status", "advertiser_id", "status"),
        Index("ix_offers_author_status", "author_id", "status"),
        Index("ix_offers_status_expires", "status", "expires_at"),
        # One open negotiation per channel and campaign: a second application (or a booking under
        # the campaign) for the same channel waits until the first is decided.
        Index(
            "uq_offers_pending_campaign_channel",
            "campaign_id",
            "channel_id",
            unique=True,
            postgresql_where=text("status = 'pending' AND campaign_id IS NOT NULL"),
            sqlite_where=text("status = 'pending' AND campaign_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
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
    # Who proposed this version; the other party is the one who may accept, reject or counter.
    author_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )
    direction: Mapped[OfferDirection] = mapped_column(
        enum_type(OfferDirection, "offer_direction"), nullable=False
    )
    status: Mapped[OfferStatus] = mapped_column(
        enum_type(OfferStatus, "offer_status"), default=OfferStatus.pending, nullable=False
    )
    amount_nano: Mapped[int] = mapped_column(BigInteger, nullable=False)
    format: Mapped[AdFormat] = mapped_column(enum_type(AdFormat, "ad_format"), nullable=False)
    proposed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str | None] = mapped_column(Text)
    # A counter-offer is a new version pointing back at the one it countered. NO ACTION rather
    # than RESTRICT: checked at the end of a statement, so a chain of versions can be deleted
    # together (SQLite checks RESTRICT row by row).
    previous_offer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("offers.id"), index=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
