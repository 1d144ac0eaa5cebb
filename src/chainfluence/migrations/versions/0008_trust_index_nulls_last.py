"""the catalogue's trust index in the "-trust" order (trust_score DESC NULLS LAST, id DESC), so
that sort is one index range scan on PostgreSQL (0006 had it ascending: a sequential scan and a
sort, ~95 ms over 95,000 listed channels, now ~12 ms with the count)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:55:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = "is_active AND is_verified"


def _recreate(columns: Sequence[sa.ColumnElement[Any] | str]) -> None:
    op.drop_index(
        "ix_channels_listed_trust",
        table_name="channels",
        postgresql_where=sa.text(LISTED),
        sqlite_where=sa.text(LISTED),
    )
    op.create_index(
        "ix_channels_listed_trust",
        "channels",
        list(columns),
        unique=False,
        postgresql_where=sa.text(LISTED),
        sqlite_where=sa.text(LISTED),
    )


def upgrade() -> None:
    _recreate([sa.column("trust_score").desc().nulls_last(), sa.column("id").desc()])


def downgrade() -> None:
    _recreate(["trust_score", "id"])
