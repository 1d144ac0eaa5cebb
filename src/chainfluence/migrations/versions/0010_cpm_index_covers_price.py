"""the enabled-price CPM index carries price_nano (PostgreSQL), so a format's price range sorted
by CPM walks that index in order and filters the price there: one index-only scan of a few
hundred entries for a page instead of reading the whole range and sorting it (~45 ms over
100,000 channels before, with the count)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recreate(include: list[str]) -> None:
    op.drop_index("ix_channel_prices_format_cpm", table_name="channel_prices")
    op.create_index(
        "ix_channel_prices_format_cpm",
        "channel_prices",
        ["format", "cpm_nano", "channel_id"],
        unique=False,
        postgresql_where=sa.text("enabled"),
        postgresql_include=include,
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no INCLUDE columns: its index stays as it was
    _recreate(["price_nano"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _recreate([])
