"""the price-range index carries channel_id and cpm_nano (index-only scans on PostgreSQL)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 22:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no INCLUDE columns: its index stays as it was
    op.drop_index("ix_channel_prices_format_price", table_name="channel_prices")
    op.create_index(
        "ix_channel_prices_format_price",
        "channel_prices",
        ["format", "enabled", "price_nano"],
        unique=False,
        postgresql_include=["channel_id", "cpm_nano"],
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_channel_prices_format_price", table_name="channel_prices")
    op.create_index(
        "ix_channel_prices_format_price",
        "channel_prices",
        ["format", "enabled", "price_nano"],
        unique=False,
    )
