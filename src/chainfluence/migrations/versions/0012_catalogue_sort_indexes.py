"""the catalogue's other sorts on indexes: each sort key of GET /v1/channels that had none
(average views, ER, price, CPM, each way; trust ascending) gets a partial index over listed
channels in the sort's own order (unknown figures last both ways, so one index per direction),
and a format's prices get the descending price and CPM orders. Over 100,000 channels these
sorts were a sequential scan and a sort of every listed channel, 100-250 ms a page on
PostgreSQL; now an index range scan of about a page (benchmarks/results/catalogue_sorts_*).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = "is_active AND is_verified"

# name suffix -> sort column of `channels` (ascending and descending, nulls last both ways)
CHANNEL_SORTS = {
    "avg_views": "avg_views",
    "er": "engagement_rate",
    "price": "min_price_nano",
    "cpm": "min_price_cpm_nano",
}


def upgrade() -> None:
    for name, column in CHANNEL_SORTS.items():
        op.create_index(
            f"ix_channels_listed_{name}",
            "channels",
            [column, "id"],
            unique=False,
            postgresql_where=sa.text(LISTED),
            sqlite_where=sa.text(LISTED),
        )
        op.create_index(
            f"ix_channels_listed_{name}_desc",
            "channels",
            [sa.column(column).desc().nulls_last(), sa.column("id").desc()],
            unique=False,
            postgresql_where=sa.text(LISTED),
            sqlite_where=sa.text(LISTED),
        )
    op.create_index(
        "ix_channels_listed_trust_asc",
        "channels",
        ["trust_score", "id"],
        unique=False,
        postgresql_where=sa.text(LISTED),
        sqlite_where=sa.text(LISTED),
    )
    for column, include in (("price_nano", "cpm_nano"), ("cpm_nano", "price_nano")):
        op.create_index(
            f"ix_channel_prices_format_{column.removesuffix('_nano')}_desc",
            "channel_prices",
            ["format", sa.column(column).desc().nulls_last(), sa.column("channel_id").desc()],
            unique=False,
            postgresql_where=sa.text("enabled"),
            sqlite_where=sa.text("enabled"),
            postgresql_include=[include],
        )


def downgrade() -> None:
    for name in ("price_desc", "cpm_desc"):
        op.drop_index(
            f"ix_channel_prices_format_{name}",
            table_name="channel_prices",
            postgresql_where=sa.text("enabled"),
            sqlite_where=sa.text("enabled"),
        )
    names = ["trust_asc", *(f"{n}{s}" for n in CHANNEL_SORTS for s in ("", "_desc"))]
    for name in names:
        op.drop_index(
            f"ix_channels_listed_{name}",
            table_name="channels",
            postgresql_where=sa.text(LISTED),
            sqlite_where=sa.text(LISTED),
        )
