"""EXPLAIN ANALYZE of the catalogue's queries as the API sends them, at a chosen size.

Seeds a fresh PostgreSQL database with `--channels` channels (as `bench_catalogue` does: two
prices each, 5 % inactive, then VACUUM ANALYZE), or takes `--database-url`, and for every
catalogue case of `make bench` and every sort runs the API's own page read (`catalogue.page`,
50 rows) and its count (the query behind X-Total-Count on a cache miss). The SQL and arguments
are taken as the API sends them (a `before_cursor_execute` listener), then sent again under
`EXPLAIN (ANALYZE, BUFFERS)`. It prints, per query, the execution time and the plan.

    python -m benchmarks.explain --channels 1000000 [--database-url URL] [--brief]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks import bench_catalogue
from benchmarks.harness import postgres_database
from chainfluence.categories import Category
from chainfluence.channels import catalogue
from chainfluence.channels.schemas import CatalogueSort
from chainfluence.formats import AdFormat
from chainfluence.kit.db import create_engine, read_connection
from chainfluence.kit.pagination import PageParams

TON = 10**9
CASES: list[tuple[str, catalogue.Filters]] = [
    ("default", catalogue.Filters()),
    ("category+minSubscribers -subscribers",
     catalogue.Filters(category=Category.crypto, min_subscribers=20_000)),
    ("q=market", catalogue.Filters(q="market")),
    ("format 1/24 price 5..50 sort cpm",
     catalogue.Filters(format=AdFormat.one_24, min_price_nano=5 * TON, max_price_nano=50 * TON,
                       sort=CatalogueSort.cpm)),
    *((f"sort {sort.value}", catalogue.Filters(sort=sort)) for sort in CatalogueSort),
]  # fmt: skip


async def explain(engine: AsyncEngine, brief: bool) -> None:
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def capture(conn: Any, cursor: Any, sql: str, args: Any, context: Any, many: bool) -> None:
        sent.append((sql, tuple(args or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    async with read_connection(engine) as connection:
        for name, filters in CASES:
            for what, run in (
                ("page", lambda f=filters: catalogue.page(connection, f, PageParams(50, 0))),
                ("count", lambda f=filters: catalogue.total(connection, None, f)),
            ):
                sent.clear()
                await run()
                sql, args = sent[-1]
                driver = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
                rows = await driver.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
                plan = [row[0] for row in rows]
                took = next((line for line in plan if line.startswith("Execution Time")), "?")
                print(f"\n=== {name} — {what}: {took}")
                for line in plan[:3] if brief else plan:
                    print(f"    {line}")


async def main(channels: int, database_url: str | None, brief: bool) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if database_url is None:
            database_url = await stack.enter_async_context(postgres_database())
            started = time.perf_counter()
            await bench_catalogue.seed(database_url, channels)
            print(f"seeded {channels:,} channels in {time.perf_counter() - started:.0f} s")
        engine = create_engine(database_url)
        try:
            await explain(engine, brief)
        finally:
            await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an already seeded database instead of a new one")
    parser.add_argument("--brief", action="store_true", help="the top of each plan only")
    args = parser.parse_args()
    asyncio.run(main(args.channels, args.database_url, args.brief))
