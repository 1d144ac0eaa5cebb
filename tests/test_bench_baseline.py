"""`make bench`'s bare baseline runs the same SQL as the API for the pages it stands for.

The speed goals are ratios of the API to the baseline (benchmarks/baseline.py), so the baseline
must do the same database work: if the API's catalogue or campaign-list statement changes, the
baseline's hand-written SQL has to follow, or the ratios would compare different queries.
"""

from __future__ import annotations

import datetime as dt
import re

from benchmarks import baseline
from sqlalchemy import Select
from sqlalchemy.dialects import postgresql

from chainfluence.campaigns import repository as campaigns
from chainfluence.categories import Category
from chainfluence.channels import catalogue
from chainfluence.channels.schemas import CatalogueSort


def _api_sql(statement: Select[object]) -> str:
    compiled = statement.compile(
        dialect=postgresql.dialect(),
        compile_kwargs={"literal_binds": True, "render_postcompile": True},
    )
    return str(compiled)


def _baseline_sql(sql: str, *values: str) -> str:
    # $n -> the literal the bench sends, as the API's statement is compiled with literals.
    return re.sub(r"\$(\d+)", lambda m: values[int(m.group(1)) - 1], sql)


def _normal(sql: str) -> str:
    sql = re.sub(r"\s+AS\s+(json_agg|count)_\d+", "", sql)  # SQLAlchemy's own labels
    sql = re.sub(r"\s+", " ", sql)
    sql = re.sub(r"\s*([(),])\s*", r"\1", sql).strip()
    # An IN list's order is a set's order on the API's side.
    return re.sub(r"IN\(([^()]*)\)", lambda m: f"IN({','.join(sorted(m[1].split(',')))})", sql)


def test_the_catalogue_page_baseline_runs_the_apis_sql() -> None:
    filters = catalogue.Filters(
        category=Category.crypto, min_subscribers=20000, sort=CatalogueSort("-subscribers")
    )
    statement = catalogue.statement(filters).with_only_columns(
        *catalogue.page_columns("postgresql")
    )
    ours = _api_sql(statement.limit(50).offset(0))
    assert _normal(_baseline_sql(baseline._CHANNELS, "'crypto'", "20000")) == _normal(ours)


def test_the_campaigns_page_baseline_runs_the_apis_sql() -> None:
    today = dt.date(2026, 12, 7)
    statement = campaigns.public_list(
        "postgresql", campaigns.ListFilters(), today=today
    ).with_only_columns(*campaigns.LIST_COLUMNS)
    ours = _api_sql(statement.limit(50).offset(0))
    assert _normal(_baseline_sql(baseline._CAMPAIGNS, f"'{today}'")) == _normal(ours)


def test_the_comparison_notices_a_different_statement() -> None:
    """The normalisation is not so loose that a missing column or filter passes."""
    filters = catalogue.Filters(category=Category.crypto, min_subscribers=20000)
    statement = catalogue.statement(filters).with_only_columns(
        *catalogue.page_columns("postgresql")
    )
    ours = _normal(_api_sql(statement.limit(50).offset(0)))
    rows_only = _normal(_baseline_sql(baseline._CHANNEL_ROWS, "'crypto'", "20000"))
    assert rows_only != ours
    without_filter = _baseline_sql(baseline._CHANNELS, "'crypto'", "20000").replace(
        " AND channels.subscribers >= 20000", ""
    )
    assert _normal(without_filter) != ours
