"""the channels out of the catalogue, indexed (a partial index of their ids): X-Total-Count of a
format and price range counts that format's prices and leaves out those of unlisted channels
with this index, instead of joining every listed channel (the listed state lives on channels,
not on their prices). 100,000 channels: the CPM bench case's count read 460 buffers in a hash
join of all 95,346 listed channels; now about 108 (benchmarks/results/catalogue_price_count_*).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNLISTED = "NOT (is_active AND is_verified)"


def upgrade() -> None:
    op.create_index(
        "ix_channels_unlisted_id",
        "channels",
        ["id"],
        unique=False,
        postgresql_where=sa.text(UNLISTED),
        sqlite_where=sa.text(UNLISTED),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_channels_unlisted_id",
        table_name="channels",
        postgresql_where=sa.text(UNLISTED),
        sqlite_where=sa.text(UNLISTED),
    )
