"""channels' ratios in percent, as on the wire: engagement_rate 28.63 (was 0.2863) and
language_distribution {"en": 80.0} (was 0.8)

Campaigns state `min_engagement` in percent and the catalogue's `minEr` filter is percent, so the
stored figure is compared with them directly and exactly as shown.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 00:40:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import chainfluence.kit.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_channels = sa.table(
    "channels",
    sa.column("id", sa.BigInteger()),
    sa.column("engagement_rate", sa.Float()),
    sa.column("language_distribution", chainfluence.kit.db.JSONType),
)


def _rescale(factor: float, digits: int, share_digits: int) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_channels.c.id, _channels.c.engagement_rate, _channels.c.language_distribution)
    ).all()
    for channel_id, rate, languages in rows:
        values: dict[str, Any] = {}
        if rate is not None:
            values["engagement_rate"] = round(rate * factor, digits)
        if languages:
            values["language_distribution"] = {
                code: round(share * factor, share_digits) for code, share in languages.items()
            }
        if values:
            connection.execute(
                sa.update(_channels).where(_channels.c.id == channel_id).values(**values)
            )


def upgrade() -> None:
    _rescale(100, 2, 1)


def downgrade() -> None:
    _rescale(0.01, 4, 3)
