"""the catalogue's language filter on an index: listed channels by language, subscribers and id
(as the category's index). Its count (X-Total-Count) read every channel row: at 100,000
channels a table scan of 3,958 buffers; now an index-only range of the language
(benchmarks/results/catalogue_language_explain_*.txt).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = "is_active AND is_verified"


def upgrade() -> None:
    op.create_index(
        "ix_channels_listed_language_subscribers",
        "channels",
        ["language", "subscribers", "id"],
        unique=False,
        postgresql_where=sa.text(LISTED),
        sqlite_where=sa.text(LISTED),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_channels_listed_language_subscribers",
        table_name="channels",
        postgresql_where=sa.text(LISTED),
        sqlite_where=sa.text(LISTED),
    )
