"""EXPLAIN ANALYZE of the catalogue's queries as the API sends them, at a chosen size.

Seeds a fresh PostgreSQL database with `--channels` channels (as `bench_catalogue` does: two
prices each, 5 % inactive, then VACUUM ANALYZE), or takes `--database-url`, and for every
catalogue case of `make bench`, every sort and a few more filters (minRating) runs the API's own
page read (`catalogue.page`, 50 rows) and its count (the query behind X-Total-Count on a cache
miss); with campaigns in the database (a `benchmarks.speed --seed-only` one) the campaign list's
cases too (`campaigns.public_page` and `public_total`), and GET /v1/offers/mine's page and
count (`offers.involving_read`). The SQL and arguments are taken as the API sends them
(a `before_cursor_execute` listener), then sent again under `EXPLAIN (ANALYZE, BUFFERS)`. It
prints, per query, the execution time and the plan.

    python -m benchmarks.explain --channels 1000000 [--database-url URL] [--brief] [--only TEXT]
        [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from benchmarks import bench_catalogue
from benchmarks.harness import postgres_database
from chainfluence.campaigns import repository as campaigns
from chainfluence.campaigns.schemas import CampaignSort
from chainfluence.categories import Category
from chainfluence.channels import catalogue
from chainfluence.channels.schemas import CatalogueSort
from chainfluence.formats import AdFormat
from chainfluence.kit.db import create_engine, read_connection
from chainfluence.kit.pagination import PagedRead, PageParams
from chainfluence.models import CampaignStatus, OfferStatus
from chainfluence.offers import repository as offers

TON = 10**9
FIRST = PageParams(50, 0)
Run = Callable[[], Awaitable[Any]]
CASES: list[tuple[str, catalogue.Filters]] = [
    ("default", catalogue.Filters()),
    ("category+minSubscribers -subscribers",
     catalogue.Filters(category=Category.crypto, min_subscribers=20_000)),
    ("q=market", catalogue.Filters(q="market")),
    ("format 1/24 price 5..50 sort cpm",
     catalogue.Filters(format=AdFormat.one_24, min_price_nano=5 * TON, max_price_nano=50 * TON,
                       sort=CatalogueSort.cpm)),
    *((f"sort {sort.value}", catalogue.Filters(sort=sort)) for sort in CatalogueSort),
    ("language=en", catalogue.Filters(language="en")),
    ("language=de sort -subscribers", catalogue.Filters(language="de")),
    ("format 1/24", catalogue.Filters(format=AdFormat.one_24)),
    ("format eternal maxPrice 10", catalogue.Filters(format=AdFormat.eternal,
                                                     max_price_nano=10 * TON)),
    ("minRating=4", catalogue.Filters(min_rating=4.0)),
    ("minRating=4.5 sort -rating",
     catalogue.Filters(min_rating=4.5, sort=CatalogueSort.rating_desc)),
    ("format 1/24 minRating=4", catalogue.Filters(format=AdFormat.one_24, min_rating=4.0)),
]  # fmt: skip
# The campaign list's cases of `make bench` and bench_campaigns.
CAMPAIGN_CASES: list[tuple[str, campaigns.ListFilters]] = [
    ("campaigns default", campaigns.ListFilters()),
    ("campaigns category=crypto sort=-budget",
     campaigns.ListFilters(category="crypto", sort=CampaignSort.budget_desc)),
    ("campaigns format=2/48 minBudget=50",
     campaigns.ListFilters(format=AdFormat.two_48, min_budget_nano=50 * TON,
                           sort=CampaignSort.budget_desc)),
    ("campaigns category=gaming format=1/24 sort=deadline",
     campaigns.ListFilters(category="gaming", format=AdFormat.one_24,
                           sort=CampaignSort.deadline)),
    ("campaigns q=airdrop", campaigns.ListFilters(q="airdrop")),
    *((f"campaigns q=airdrop sort {sort.value}", campaigns.ListFilters(q="airdrop", sort=sort))
      for sort in CampaignSort if sort is not CampaignSort.created_at_desc),
    ("campaigns q=ing (in 45 % of them)", campaigns.ListFilters(q="ing")),
    ("campaigns q=ing sort -budget", campaigns.ListFilters(q="ing", sort=CampaignSort.budget_desc)),
    ("campaigns status=paused", campaigns.ListFilters(status=CampaignStatus.paused)),
]  # fmt: skip
# GET /v1/offers/mine as benchmarks.speed seeds it: a publisher with one channel and 92 offers
# (owner, publisher and author of them all), an advertiser with 28.
OFFERS_PUBLISHER = 5_002_000
OFFERS_ADVERTISER = 5_000_001
OFFER_CASES: list[tuple[str, int, dict[str, Any]]] = [
    ("offers/mine publisher", OFFERS_PUBLISHER, {}),
    ("offers/mine publisher role=publisher", OFFERS_PUBLISHER, {"role": "publisher"}),
    ("offers/mine publisher status=declined", OFFERS_PUBLISHER, {"status": OfferStatus.declined}),
    ("offers/mine advertiser", OFFERS_ADVERTISER, {}),
    ("offers/mine advertiser role=advertiser", OFFERS_ADVERTISER, {"role": "advertiser"}),
]


def _runs(connection: AsyncConnection, with_campaigns: bool) -> list[tuple[str, Run]]:
    runs: list[tuple[str, Run]] = []
    for name, filters in CASES:
        runs.append((f"{name} — page", lambda f=filters: catalogue.page(connection, f, FIRST)))
        runs.append((f"{name} — count", lambda f=filters: catalogue.total(connection, None, f)))
    if not with_campaigns:
        return runs
    today = dt.datetime.now(dt.UTC).date()
    for name, lf in CAMPAIGN_CASES:

        async def page(lf: campaigns.ListFilters = lf) -> Any:
            read = campaigns.public_page("postgresql", campaigns.list_shape(lf))
            params = campaigns.list_params(lf, today=today)
            return await read.all(connection, **params, limit=50, offset=0)

        async def count(lf: campaigns.ListFilters = lf) -> Any:
            return await campaigns.public_total(connection, None, "postgresql", lf, today=today)

        runs += [(f"{name} — page", page), (f"{name} — count", count)]
    for name, user_id, filters in OFFER_CASES:
        read, params = offers.involving_read("postgresql", offers.MineFilters(**filters))
        params["user_id"] = user_id

        async def offers_page(read: PagedRead = read, params: dict[str, Any] = params) -> Any:
            return await read.page.all(connection, **params, limit=50, offset=0)

        async def offers_count(read: PagedRead = read, params: dict[str, Any] = params) -> Any:
            return await read.count(connection, **params)

        runs += [(f"{name} — page", offers_page), (f"{name} — count", offers_count)]
    return runs


def _took(plan: list[str]) -> float:
    line = next(line for line in plan if line.startswith("Execution Time"))
    return float(line.split()[2])


async def explain(engine: AsyncEngine, brief: bool, only: str | None, repeat: int) -> None:
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def capture(conn: Any, cursor: Any, sql: str, args: Any, context: Any, many: bool) -> None:
        sent.append((sql, tuple(args or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    async with read_connection(engine) as connection:
        any_campaign = await connection.execute(text("SELECT EXISTS (SELECT FROM campaigns)"))
        for name, run in _runs(connection, bool(any_campaign.scalar())):
            if only is not None and only not in name:
                continue
            sent.clear()
            await run()
            sql, args = sent[-1]
            driver = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
            plans = []
            for _ in range(repeat):
                rows = await driver.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
                plans.append([row[0] for row in rows])
            plan = min(plans, key=_took)
            print(f"\n=== {name}: Execution Time: {_took(plan):.3f} ms")
            for line in plan[:3] if brief else plan:
                print(f"    {line}")


async def main(
    channels: int, database_url: str | None, brief: bool, only: str | None, repeat: int
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if database_url is None:
            database_url = await stack.enter_async_context(postgres_database())
            started = time.perf_counter()
            await bench_catalogue.seed(database_url, channels)
            print(f"seeded {channels:,} channels in {time.perf_counter() - started:.0f} s")
        engine = create_engine(database_url)
        try:
            await explain(engine, brief, only, repeat)
        finally:
            await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an already seeded database instead of a new one")
    parser.add_argument("--brief", action="store_true", help="the top of each plan only")
    parser.add_argument("--only", help="the cases whose name contains this text")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each EXPLAIN this many times, show the fastest"
    )
    args = parser.parse_args()
    asyncio.run(main(args.channels, args.database_url, args.brief, args.only, args.repeat))
