"""channel trust score (channels.trust_score, indexed for the catalogue) and subscriber history
(channel_subscriber_readings)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 01:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chainfluence.kit.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = "is_active AND is_verified"


def upgrade() -> None:
    op.create_table(
        "channel_subscriber_readings",
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("taken_at", chainfluence.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("subscribers", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "channel_id", "taken_at", name=op.f("pk_channel_subscriber_readings")
        ),
    )
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trust_score", sa.Integer(), nullable=True))
    op.create_index(
        "ix_channels_listed_trust",
        "channels",
        ["trust_score", "id"],
        unique=False,
        postgresql_where=sa.text(LISTED),
        sqlite_where=sa.text(LISTED),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_channels_listed_trust",
        table_name="channels",
        postgresql_where=sa.text(LISTED),
        sqlite_where=sa.text(LISTED),
    )
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("trust_score")
    op.drop_table("channel_subscriber_readings")
