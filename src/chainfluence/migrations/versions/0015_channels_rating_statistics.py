"""statistics of the catalogue's average rating (PostgreSQL): the minRating filter is now the
rating indexes' own expression (models/channels.py RATING), but PostgreSQL keeps no statistics
for the expressions of partial indexes, so it guessed a third of the channels for any bound and
read the whole table to count a format with minRating. Extended statistics on the expression
give it the real distribution (benchmarks/results/catalogue_min_rating_explain_*.txt).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 08:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Exactly the expression of models/channels.py RATING, as SQLAlchemy writes it for PostgreSQL
# (as in 0014).
RATING = (
    "(CASE WHEN (rating_count > 0) "
    "THEN CAST(rating_sum AS FLOAT) / CAST(rating_count AS NUMERIC) END)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE STATISTICS st_channels_rating ON {RATING} FROM channels")
    # Gathered now rather than at the next autovacuum's ANALYZE.
    op.execute("ANALYZE channels")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP STATISTICS st_channels_rating")
