"""views of the ad post and the deal report: deals.views_due_at (the next reading of the ad post
at 1 h, 24 h or the end of the hold; indexed for the sweep) and deals.report_sent_at (the report
goes to the advertiser once, as the deal_report notification: the CHECK constraint of the
notification type lists it); live deals get a reading due now

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chainfluence.kit.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOTIFICATIONS = (
    "booking_request",
    "deposit_received",
    "deal_accepted",
    "deal_declined",
    "creative_submitted",
    "creative_approved",
    "creative_changes_requested",
    "posting_reminder",
    "post_verified",
    "funds_released",
    "funds_refunded",
    "dispute_opened",
    "campaign_offer",
    "offer_accepted",
    "offer_declined",
    "campaign_ending",
    "offer_countered",
    "offer_withdrawn",
    "deal_cancelled",
    "post_published",
    "post_violation",
    "post_edited",
    "dispute_resolved",
    "channel_deactivated",
    "review_received",
    "system",
)
_WITH_REPORT = (*_NOTIFICATIONS[:-1], "deal_report", "system")


def _notification_type(old: Sequence[str], new: Sequence[str]) -> None:
    def enum(values: Sequence[str]) -> sa.Enum:
        return sa.Enum(
            *values, name="notification_type", native_enum=False, create_constraint=True, length=34
        )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column(
            "type", existing_type=enum(old), type_=enum(new), existing_nullable=False
        )


def upgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("views_due_at", chainfluence.kit.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "report_sent_at", chainfluence.kit.db.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index("ix_deals_views_due_at", ["views_due_at"], unique=False)
    # Posts already running are read from the next sweep on (the marks they passed stay empty).
    op.execute(
        "UPDATE deals SET views_due_at = posted_at "
        "WHERE posted_at IS NOT NULL AND status IN ('live', 'edit_pending', 'verified')"
    )
    _notification_type(_NOTIFICATIONS, _WITH_REPORT)


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE type = 'deal_report'")
    _notification_type(_WITH_REPORT, _NOTIFICATIONS)
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index("ix_deals_views_due_at")
        batch_op.drop_column("report_sent_at")
        batch_op.drop_column("views_due_at")
