"""deal status edit_pending (a live post's edit waits for the advertiser) and the post_edited
notification: the CHECK constraints of the status columns and of the notification type list the
new values (the status columns also widen from 17 to 20 characters)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = (
    "pending",
    "in_escrow",
    "live",
    "verified",
    "released",
    "refunding",
    "refunded",
    "cancelled",
    "disputed",
    "splitting",
    "split",
)
_WITH_EDIT = (*_STATUSES[:3], "edit_pending", *_STATUSES[3:])
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
    "dispute_resolved",
    "channel_deactivated",
    "review_received",
    "system",
)
_WITH_EDITED = (*_NOTIFICATIONS[:21], "post_edited", *_NOTIFICATIONS[21:])

# (table, column, enum name, nullable)
_STATUS_COLUMNS = (
    ("deals", "status", "deal_status", False),
    ("deals", "disputed_from", "disputed_from", True),
    ("deal_timeline", "from_status", "from_status", True),
    ("deal_timeline", "to_status", "to_status", True),
)


def _enum(values: Sequence[str], name: str, length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _swap(
    columns: Sequence[tuple[str, str, str, bool]],
    old: Sequence[str],
    new: Sequence[str],
    old_length: int,
    new_length: int,
) -> None:
    for table in dict.fromkeys(table for table, *_ in columns):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for owner, column, name, nullable in columns:
                if owner != table:
                    continue
                batch_op.alter_column(
                    column,
                    existing_type=_enum(old, name, old_length),
                    type_=_enum(new, name, new_length),
                    existing_nullable=nullable,
                )


def upgrade() -> None:
    _swap(_STATUS_COLUMNS, _STATUSES, _WITH_EDIT, 17, 20)
    _swap(
        (("notifications", "type", "notification_type", False),),
        _NOTIFICATIONS,
        _WITH_EDITED,
        34,
        34,
    )


def downgrade() -> None:
    _swap(
        (("notifications", "type", "notification_type", False),),
        _WITH_EDITED,
        _NOTIFICATIONS,
        34,
        34,
    )
    _swap(_STATUS_COLUMNS, _WITH_EDIT, _STATUSES, 20, 17)
