"""deals.post_text_fingerprint: the fingerprint of a live post's text and entities alone, which
both the forward probe and the MTProto probe (`channels.getMessages`, which shows no Bot API file
ids or keyboards the same way) can compute; null for posts published before it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deals", sa.Column("post_text_fingerprint", sa.String(length=66), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deals") as batch:
        batch.drop_column("post_text_fingerprint")
