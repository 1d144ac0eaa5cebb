"""post view series (post_view_snapshots) and the channel figures derived from it

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 22:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chainfluence.kit.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "post_view_snapshots",
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("taken_at", chainfluence.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("age_seconds", sa.Integer(), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("forwards", sa.Integer(), nullable=True),
        sa.Column("reactions", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint(
            "channel_id", "message_id", "taken_at", name=op.f("pk_post_view_snapshots")
        ),
    )
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("avg_views_24h", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("err24_percent", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("er_percent", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("er_percent")
        batch_op.drop_column("err24_percent")
        batch_op.drop_column("avg_views_24h")
    op.drop_table("post_view_snapshots")
