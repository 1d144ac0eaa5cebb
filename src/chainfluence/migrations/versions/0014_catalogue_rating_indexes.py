"""the catalogue's rating sorts on indexes (PostgreSQL): the average rating (null while a channel
has none) as the catalogue computes it, each way with unrated channels last, over listed
channels. Over 100,000 channels these sorts were a sequential scan and a sort, 60-90 ms a page
(135-250 ms with a format); now an index range scan (benchmarks/results/catalogue_sorts_*).
SQLite keeps sorting without them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 06:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Exactly the expression of models/channels.py RATING, as SQLAlchemy writes it for PostgreSQL.
RATING = (
    "(CASE WHEN (rating_count > 0) "
    "THEN CAST(rating_sum AS FLOAT) / CAST(rating_count AS NUMERIC) END)"
)
LISTED = "is_active AND is_verified"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX ix_channels_listed_rating ON channels ({RATING}, id) WHERE {LISTED}")
    op.execute(
        f"CREATE INDEX ix_channels_listed_rating_desc ON channels "
        f"({RATING} DESC NULLS LAST, id DESC) WHERE {LISTED}"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_channels_listed_rating_desc")
    op.execute("DROP INDEX ix_channels_listed_rating")
