"""Catalogue throughput: GET /v1/channels over 100,000 channels on PostgreSQL.

Channels and prices are seeded with bulk Core inserts (no API: listing a channel asks Telegram),
with figures spread the way a real catalogue's are; then three typical queries are measured.
"""

from __future__ import annotations

import random
import time
from typing import Any

import aiohttp
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks.harness import api_server, header, postgres_database, run_load
from chainfluence.categories import Category
from chainfluence.formats import AdFormat
from chainfluence.kit.db import create_engine
from chainfluence.kit.time import utcnow
from chainfluence.models import Channel, ChannelPrice, User

CHANNELS = 100_000
BATCH = 5_000
SYLLABLES = ["ka", "lo", "mi", "ten", "ru", "sa", "vo", "pen", "di", "ba", "xo", "ne", "tor", "li"]
# 2,000 made-up words plus a few real ones: a channel's title, username and description draw
# from them, so a search word matches a few hundred channels, as a real one would.
_VOCAB_RNG = random.Random(7)
_MADE_UP = {
    "".join(_VOCAB_RNG.choice(SYLLABLES) for _ in range(_VOCAB_RNG.randint(2, 4)))
    for _ in range(2_600)
}
WORDS = [*sorted(_MADE_UP)[:2_000], "crypto", "market", "travel", "startup", "design"]


def _channel_rows(rng: random.Random, start: int, count: int, owner: int) -> list[dict[str, Any]]:
    now = utcnow()
    categories = list(Category)
    rows = []
    for i in range(start, start + count):
        subscribers = int(rng.lognormvariate(9, 1.5))
        avg_views = max(1, int(subscribers * rng.uniform(0.05, 0.6)))
        words = " ".join(rng.sample(WORDS, 3))
        rows.append(
            {
                "id": -1_001_000_000_000 - i,
                "owner_id": owner,
                "username": f"{words.split()[0]}_{i}",
                "title": f"{words.title()} {i}",
                "description": f"About {words}; channel number {i}.",
                "category": rng.choice(categories).value,
                "language": rng.choice(["en", "en", "ru", "es", "de"]),
                "is_verified": True,
                "is_active": rng.random() > 0.05,
                "subscribers": subscribers,
                "avg_views": avg_views,
                "engagement_rate": round(avg_views / subscribers * 100, 2),
                "posts_per_week": round(rng.uniform(1, 40), 1),
                # One in five without a score yet; the rest spread over 20-100 (no rng draw,
                # so the other columns stay as they were seeded before).
                "trust_score": None if i % 5 == 0 else 20 + (i * 37) % 81,
                "rating_sum": 0,
                "rating_count": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def _price_rows(rng: random.Random, channels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    now = utcnow()
    rows = []
    for channel in channels:
        base = max(1, channel["subscribers"] // 1000) * 10**8
        for fmt in rng.sample([AdFormat.one_24, AdFormat.two_48, AdFormat.eternal], 2):
            price = int(base * rng.uniform(0.5, 3))
            rows.append(
                {
                    "channel_id": channel["id"],
                    "format": fmt,
                    "price_nano": price,
                    "enabled": True,
                    "cpm_nano": price * 1000 // channel["avg_views"],
                    "created_at": now,
                    "updated_at": now,
                }
            )
    return rows


async def seed(database_url: str, channels: int = CHANNELS) -> None:
    """`channels` verified channels (5 % inactive) with two prices each, then VACUUM ANALYZE."""
    rng = random.Random(42)
    engine = create_engine(database_url)
    now = utcnow()
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(User),
                [{"id": 1, "first_name": "Bench", "member_since": now, "created_at": now,
                  "updated_at": now, "rating_sum": 0, "rating_count": 0}],
            )  # fmt: skip
            for start in range(0, channels, BATCH):
                rows = _channel_rows(rng, start, min(BATCH, channels - start), owner=1)
                prices = _price_rows(rng, rows)
                cheapest: dict[int, dict[str, Any]] = {}
                for price in prices:
                    best = cheapest.get(price["channel_id"])
                    if best is None or price["price_nano"] < best["price_nano"]:
                        cheapest[price["channel_id"]] = price
                for channel in rows:
                    best = cheapest[channel["id"]]
                    channel["min_price_nano"] = best["price_nano"]
                    channel["min_price_cpm_nano"] = best["cpm_nano"]
                await conn.execute(insert(Channel), rows)
                await conn.execute(insert(ChannelPrice), prices)
    finally:
        await engine.dispose()
    # As autovacuum would soon after a bulk load: statistics, the visibility map (index-only
    # scans) and the GIN pending lists merged into the trigram indexes.
    maintenance = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with maintenance.connect() as conn:
            await conn.execute(text("VACUUM ANALYZE channels"))
            await conn.execute(text("VACUUM ANALYZE channel_prices"))
    finally:
        await maintenance.dispose()


QUERIES = [
    (
        "category + minSubscribers, sort -subscribers",
        {"category": "crypto", "minSubscribers": "20000", "sort": "-subscribers"},
    ),
    (
        "format 1/24, price 5..50 TON, sort cpm",
        {"format": "1/24", "minPrice": "5", "maxPrice": "50", "sort": "cpm"},
    ),
    ("text search q=market (~0.3 % of channels)", {"q": "market"}),
    ("sort -trust", {"sort": "-trust"}),
    ("minTrust 90, sort -trust", {"minTrust": "90", "sort": "-trust"}),
]


def _filters(params: dict[str, str]) -> Any:
    from chainfluence.channels import catalogue
    from chainfluence.kit.money import ton_to_nano

    return catalogue.Filters(
        q=params.get("q"),
        category=Category(params["category"]) if "category" in params else None,
        min_subscribers=int(params["minSubscribers"]) if "minSubscribers" in params else None,
        format=AdFormat(params["format"]) if "format" in params else None,
        min_price_nano=ton_to_nano(params["minPrice"]) if "minPrice" in params else None,
        max_price_nano=ton_to_nano(params["maxPrice"]) if "maxPrice" in params else None,
        min_trust=int(params["minTrust"]) if "minTrust" in params else None,
        sort=catalogue.CatalogueSort(params.get("sort", "-subscribers")),
    )


async def explain(database_url: str, *, full: str | None = None) -> None:
    """EXPLAIN ANALYZE of each query as the API runs it: one page (the listed columns and each
    channel's prices), then the count a full page runs when its total is not kept (see
    `catalogue.total`). `full`: print the whole plans (with buffers) of the query of that name
    instead of one line per query."""
    from chainfluence.channels import catalogue, repository
    from chainfluence.kit.pagination import count_query

    engine = create_engine(database_url)
    columns = (*repository.LIST_COLUMNS, repository.prices_json("postgresql"))
    try:
        for name, params in QUERIES:
            if full is not None and name != full:
                continue
            filters = _filters(params)
            listed = catalogue.statement(filters)
            page = listed.with_only_columns(*columns).limit(50)
            timings = []
            for part, statement in (("page", page), ("count", count_query(listed))):
                compiled = statement.compile(
                    engine.sync_engine, compile_kwargs={"literal_binds": True}
                )
                options = "ANALYZE, BUFFERS" if full else "ANALYZE"
                async with engine.connect() as conn:
                    for _ in range(3 if full else 1):  # warm: the plan of a steady catalogue
                        result = await conn.execute(text(f"EXPLAIN ({options}) {compiled}"))
                        plan = result.scalars().all()
                if full is not None:
                    print(f"{name}: the {part}\n\n{compiled}\n")
                    print("\n".join(plan) + "\n")
                    continue
                timing = [line for line in plan if "Execution Time" in line]
                scans = [line.strip() for line in plan if "Scan" in line][:3]
                timings.append(f"{part} {timing[0].strip()} ({' | '.join(scans)})")
            if timings:
                print(f"  {name}: {'; '.join(timings)}")
    finally:
        await engine.dispose()


CPM_QUERY = QUERIES[1][0]


def main() -> None:
    """`python -m benchmarks.bench_catalogue --database-url URL`: the full EXPLAIN (ANALYZE,
    BUFFERS) of the CPM-sorted query on an already seeded database (`benchmarks.speed
    --seed-only`), or one line per query with `--all`."""
    import argparse
    import asyncio

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--all", action="store_true", help="one line per query")
    args = parser.parse_args()
    asyncio.run(explain(args.database_url, full=None if args.all else CPM_QUERY))


async def run(*, duration: float, concurrency: int) -> None:
    header(
        f"catalogue, {CHANNELS:,} channels "
        f"(PostgreSQL, {concurrency} concurrent, {duration:.0f} s each)"
    )
    async with postgres_database() as database_url:
        started = time.perf_counter()
        await seed(database_url)
        print(f"  seeded in {time.perf_counter() - started:.1f} s")
        await explain(database_url)
        with api_server(database_url) as url:
            for name, params in QUERIES:

                async def query(
                    session: aiohttp.ClientSession, n: int, params: dict[str, str] = params
                ) -> int:
                    async with session.get(f"{url}/v1/channels", params=params) as response:
                        await response.read()
                        return response.status

                result = await run_load(
                    f"GET /v1/channels {name}", query, duration=duration, concurrency=concurrency
                )
                print(result.line())


if __name__ == "__main__":
    main()
