"""offers by author: GET /v1/offers/mine finds the caller's offers on each side's index (advertiser,
publisher, author, a managed channel) combined, instead of scanning the table; author_id had none
(benchmarks/results/offers_mine_explain_*.txt).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_offers_author_status", "offers", ["author_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_offers_author_status", table_name="offers")
