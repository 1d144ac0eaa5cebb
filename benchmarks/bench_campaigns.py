"""The public campaign list with filters at 50,000 campaigns on PostgreSQL.

Seeds advertisers, channels, 50,000 campaigns and some offers and deals with bulk INSERTs through
SQLAlchemy Core, then drives GET /v1/campaigns with the filter and sort combinations the Mini App
and publishers use. `CHAINFLUENCE_BENCH_EXPLAIN=1` also prints each query's PostgreSQL plan.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

from benchmarks.harness import api_server, header, postgres_database, run_load
from chainfluence.campaigns import repository as campaigns
from chainfluence.campaigns.schemas import CampaignSort
from chainfluence.categories import Category
from chainfluence.formats import AdFormat
from chainfluence.kit.db import create_engine
from chainfluence.models import (
    Campaign,
    CampaignStatus,
    Channel,
    Deal,
    DealStatus,
    Offer,
    OfferDirection,
    OfferStatus,
    User,
)

CAMPAIGNS = 50_000
ADVERTISERS = 2_000
CHANNELS = 500
OFFERS = 50_000
DEALS = 5_000
BATCH = 5_000
NANO = 10**9

# Enough words that a search term matches a few percent of the briefs, as in a real catalogue.
WORDS = [
    "wallet", "launch", "token", "exchange", "course", "game", "bot", "airdrop", "staking",
    "nft", "market", "app", "premium", "news", "trading", "defi", "bridge", "swap",
    "community", "shop", "fitness", "travel", "music", "art", "school", "bank", "card",
    "loan", "mining", "validator", "node", "dao", "vote", "quest", "raffle", "prize",
    "ticket", "event", "concert", "festival", "recipe", "kitchen", "coffee", "tea", "wine",
    "beer", "bike", "car", "flight", "hotel", "beach", "mountain", "camera", "phone",
    "laptop", "tablet", "watch", "shoes", "jacket", "dress", "perfume", "skincare", "yoga",
    "gym", "protein", "vitamin", "doctor", "clinic", "insurance", "lawyer", "tax", "invest",
    "fund", "stock", "bond", "gold", "silver", "oil", "energy", "solar", "climate", "garden",
    "pet", "dog", "cat", "toy", "book", "podcast", "movie", "series", "anime", "comic",
    "design", "code", "python", "cloud", "server", "hosting", "vpn", "privacy", "security",
    "startup", "hiring", "job", "freelance", "marketing", "agency", "consulting", "charity",
]  # fmt: skip
CATEGORIES = [c.value for c in Category]
# A catalogue is lopsided: a few categories hold most campaigns (the rest 0.5 each, however many
# categories the list grows to).
_HEAVY_CATEGORIES = [30, 20, 10, 8, 6, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1]
CATEGORY_WEIGHTS = _HEAVY_CATEGORIES + [0.5] * (len(CATEGORIES) - len(_HEAVY_CATEGORIES))
FORMATS = [AdFormat.one_24, AdFormat.two_48, AdFormat.three_72, AdFormat.eternal]

# (name, query string): the list as the Mini App opens it, and what people narrow it by.
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("active, newest first (the Mini App's default)", {}),
    ("category=crypto, sort=-budget", {"category": "crypto", "sort": "-budget"}),
    ("format=2/48, minBudget=50, sort=-budget",
     {"format": "2/48", "minBudget": "50", "sort": "-budget"}),
    ("category=gaming, format=1/24, sort=deadline",
     {"category": "gaming", "format": "1/24", "sort": "deadline"}),
    ("q=airdrop (title or description)", {"q": "airdrop"}),
    ("status=paused, newest first", {"status": "paused"}),
]  # fmt: skip


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def seed(engine: AsyncEngine) -> None:
    rng = random.Random(42)
    now = _now()
    async with engine.begin() as conn:
        users = [
            {"id": 5_000_000 + i, "first_name": f"User {i}", "member_since": now,
             "created_at": now, "updated_at": now}
            for i in range(ADVERTISERS + CHANNELS)
        ]  # fmt: skip
        await conn.execute(insert(User), users)
        channels = [
            {
                "id": -1_003_000_000_000 - i,
                "owner_id": 5_000_000 + ADVERTISERS + i,
                "title": f"Channel {i}",
                "username": f"bench_channel_{i}",
                "category": rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0],
                "subscribers": rng.randint(500, 500_000),
                "is_verified": True,
                "is_active": True,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(CHANNELS)
        ]
        await conn.execute(insert(Channel), channels)
        for _ in range(CAMPAIGNS // BATCH):
            await conn.execute(insert(Campaign), [_campaign(rng, now) for _i in range(BATCH)])
        await conn.execute(
            insert(Offer),
            [_offer(rng, now, channels) for _ in range(OFFERS)],
        )
        accepted = (
            await conn.execute(
                text(
                    "SELECT id, campaign_id, channel_id, publisher_id, advertiser_id, amount_nano "
                    f"FROM offers WHERE status = 'accepted' LIMIT {DEALS}"
                )
            )
        ).all()
        deals = [
            {
                "offer_id": row.id,
                "campaign_id": row.campaign_id,
                "channel_id": row.channel_id,
                "publisher_id": row.publisher_id,
                "advertiser_id": row.advertiser_id,
                "format": AdFormat.two_48,
                "status": rng.choice([DealStatus.pending, DealStatus.live, DealStatus.released]),
                "price_nano": row.amount_nano,
                "platform_fee_nano": row.amount_nano // 20,
                "deposited_nano": 0,
                "created_at": now,
                "updated_at": now,
            }
            for row in accepted
        ]
        if deals:
            await conn.execute(insert(Deal), deals)
    # A live database has been vacuumed by autovacuum: statistics and the visibility map (which
    # lets PostgreSQL count from an index alone) are up to date.
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))


def _campaign(rng: random.Random, now: dt.datetime) -> dict[str, Any]:
    words = rng.sample(WORDS, 3)
    status = rng.choices(
        [CampaignStatus.active, CampaignStatus.paused, CampaignStatus.completed], [80, 10, 10]
    )[0]
    deadline = (now + dt.timedelta(days=rng.randint(1, 120))).date() if rng.random() < 0.7 else None
    created = now - dt.timedelta(minutes=rng.randint(0, 365 * 24 * 60))
    return {
        "advertiser_id": 5_000_000 + rng.randrange(ADVERTISERS),
        "title": " ".join(words).capitalize(),
        "description": " ".join(rng.sample(WORDS, 6)),
        "category": rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0],
        "status": status,
        "budget_nano": rng.randint(1, 500) * NANO,
        "total_budget_nano": None,
        "creative_text": "Try it today",
        "creative_images": [],
        "preferred_formats": [f.value for f in rng.sample(FORMATS, rng.randint(0, 2))],
        "preferred_categories": rng.sample(CATEGORIES[:6], rng.randint(0, 2)),
        "min_subscribers": rng.choice([None, 1_000, 10_000]),
        "min_engagement": rng.choice([None, 5.0]),
        "deadline": deadline,
        "created_at": created,
        "updated_at": created,
    }


def _offer(rng: random.Random, now: dt.datetime, channels: list[dict[str, Any]]) -> dict[str, Any]:
    channel = rng.choice(channels)
    return {
        # Ids start at 1 in the fresh database; offers cluster on the older campaigns.
        "campaign_id": rng.randint(1, CAMPAIGNS),
        "channel_id": channel["id"],
        "publisher_id": channel["owner_id"],
        "advertiser_id": 5_000_000 + rng.randrange(ADVERTISERS),
        "author_id": channel["owner_id"],
        "direction": OfferDirection.application,
        "status": rng.choices(
            [OfferStatus.declined, OfferStatus.accepted, OfferStatus.expired], [45, 10, 45]
        )[0],
        "amount_nano": rng.randint(1, 300) * NANO,
        "format": AdFormat.two_48,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


async def explain(engine: AsyncEngine) -> None:
    """Print the plan and timing of each list query and its count, as the API runs them."""
    today = _now().date()
    async with engine.connect() as conn:
        for name, params in QUERIES:
            filters = campaigns.ListFilters(
                status=CampaignStatus(params.get("status", "active")),
                q=params.get("q"),
                category=params.get("category"),
                format=AdFormat(params["format"]) if "format" in params else None,
                min_budget_nano=int(params["minBudget"]) * NANO if "minBudget" in params else None,
                sort=CampaignSort(params.get("sort", "-createdAt")),
            )
            statement = campaigns.public_list("postgresql", filters, today=today)
            for label, query in [("page", statement.limit(50)), ("count", _count(statement))]:
                plan = await conn.execute(Explain(query))
                print(f"-- {name} [{label}]")
                for (line,) in plan:
                    print("   ", line)


def _count(statement: Any) -> Any:
    return select(func.count()).select_from(statement.order_by(None).subquery())


class Explain(Executable, ClauseElement):
    """EXPLAIN ANALYZE of a statement, with its parameters bound as the API binds them."""

    inherit_cache = False

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(Explain, "postgresql")
def _explain(element: Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (ANALYZE, COSTS OFF) " + str(compiler.process(element.statement, **kw))


async def run(*, duration: float, concurrency: int) -> None:
    header(f"campaign list ({CAMPAIGNS:,} campaigns, PostgreSQL, {concurrency} concurrent, "
           f"{duration:.0f} s each)")  # fmt: skip
    async with postgres_database() as database_url:
        engine = create_engine(database_url)
        started = time.perf_counter()
        await seed(engine)
        print(f"seeded {CAMPAIGNS:,} campaigns, {OFFERS:,} offers, {DEALS:,} deals "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        if os.environ.get("CHAINFLUENCE_BENCH_EXPLAIN"):
            await explain(engine)
        await engine.dispose()
        with api_server(database_url) as url:
            for name, params in QUERIES:
                target = f"{url}/v1/campaigns?{urlencode(params)}"

                async def request(
                    session: aiohttp.ClientSession, n: int, target: str = target
                ) -> int:
                    async with session.get(target) as response:
                        await response.read()
                        return response.status

                result = await run_load(
                    name,
                    request,
                    duration=duration,
                    concurrency=concurrency,
                )
                print(result.line())
