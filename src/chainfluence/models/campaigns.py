"""Campaigns: an advertiser's brief, matched to channels by category and thresholds."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy import column as sa_column
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import BigIntPK, JSONType, UTCDateTime
from chainfluence.models.base import Base, TimestampMixin, enum_type

# Rows the public list and the sweeps look at: campaigns not deleted.
LISTED_SQL = "deleted_at IS NULL"


class CampaignStatus(StrEnum):
    active = "active"
    paused = "paused"
    completed = "completed"


class Campaign(TimestampMixin, Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("budget_nano >= 0", name="budget_non_negative"),
        CheckConstraint(
            "total_budget_nano IS NULL OR total_budget_nano >= 0",
            name="total_budget_non_negative",
        ),
        CheckConstraint(
            "min_subscribers IS NULL OR min_subscribers >= 0", name="min_subscribers_non_negative"
        ),
        CheckConstraint(
            "min_engagement IS NULL OR min_engagement >= 0", name="min_engagement_non_negative"
        ),
        # The public list: one partial index per sort, each ending with `id` (the tie-breaker of
        # every sort), so a page is an index range scan. Counting a list (X-Total-Count) reads
        # an index alone where it can: the deadline index for a status, and the INCLUDEd columns
        # for a category or a budget range (checked with EXPLAIN in benchmarks/bench_campaigns).
        Index(
            "ix_campaigns_listed_created_at",
            "status",
            "created_at",
            "id",
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
        Index(
            "ix_campaigns_listed_category_created_at",
            "status",
            "category",
            "created_at",
            "id",
            postgresql_include=["deadline", "budget_nano"],
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
        Index(
            "ix_campaigns_listed_budget",
            "status",
            "budget_nano",
            "id",
            postgresql_include=["deadline"],
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
        # Sorting by deadline, and the campaign_ending sweep (status, deadline = today).
        Index(
            "ix_campaigns_listed_deadline",
            "status",
            "deadline",
            "id",
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
        # "-deadline": latest first, no deadline still last, so not the index above backwards.
        Index(
            "ix_campaigns_listed_deadline_desc",
            "status",
            sa_column("deadline").desc().nulls_last(),
            sa_column("id").desc(),
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
        # Substring search (ILIKE '%q%') on PostgreSQL: trigram GIN indexes (pg_trgm is created
        # by the migration environment). On SQLite they are empty partial indexes (WHERE 0).
        *(
            Index(
                f"ix_campaigns_{column}_trgm",
                column,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
                sqlite_where=text("0"),
            )
            for column in ("title", "description")
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    advertiser_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    category: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[CampaignStatus] = mapped_column(
        enum_type(CampaignStatus, "campaign_status"), default=CampaignStatus.active, nullable=False
    )
    # Budget per channel placement, and optionally for the whole campaign.
    budget_nano: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total_budget_nano: Mapped[int | None] = mapped_column(BigInteger)
    creative_text: Mapped[str | None] = mapped_column(Text)
    content_guidelines: Mapped[str | None] = mapped_column(Text)
    creative_images: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    preferred_formats: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    preferred_categories: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    min_subscribers: Mapped[int | None] = mapped_column(BigInteger)
    min_engagement: Mapped[float | None] = mapped_column(Float)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    ending_notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
