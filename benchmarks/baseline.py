"""The bare baseline `make bench` measures the API against: FastAPI, asyncpg, hand-written SQL.

The thinnest honest code for the same work: one pooled asyncpg connection per request, the SQL
the API runs for that page (without its total count; tests/test_bench_baseline.py checks it is
the same SQL), rows turned into JSON with the standard library, JSON columns decoded. No ORM, no
middleware, no validation, no authentication. `/channels/rows` and `/campaigns/rows` read the
same pages' own rows only (no prices, no counts): the thinner baseline of earlier runs, kept for
comparison. Served the way the API is (one uvicorn process, uvloop, httptools); the database
comes from CHAINFLUENCE_DATABASE__URL.

    uvicorn benchmarks.baseline:app --loop uvloop --http httptools
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import Response

_USER = """
SELECT id, username, first_name, last_name, photo_url, language_code, is_premium,
       is_publisher, is_advertiser, member_since, rating_sum, rating_count
FROM users WHERE id = $1
"""
# The catalogue's first page for category + min subscribers, sorted by subscribers: the SQL the
# API runs for it (tests/test_bench_baseline.py keeps the two the same), prices aggregated per
# channel as the answer needs them.
_CHANNELS = """
SELECT channels.id, channels.owner_id, channels.username, channels.title, channels.description,
       channels.category, channels.language, channels.subscribers, channels.avg_views,
       channels.engagement_rate, channels.posts_per_week, channels.trust_score,
       channels.min_price_nano, channels.min_price_cpm_nano, channels.rating_sum,
       channels.rating_count, channels.is_verified, channels.is_active,
       channels.deactivated_reason, channels.stats_updated_at, channels.created_at,
       channels.updated_at,
       (SELECT json_agg(json_build_array(channel_prices.format, channel_prices.price_nano,
                                         channel_prices.enabled, channel_prices.description,
                                         channel_prices.cpm_nano))
        FROM channel_prices WHERE channel_prices.channel_id = channels.id) AS pricing
FROM channels
WHERE channels.is_active AND channels.is_verified AND channels.category = $1
  AND channels.subscribers >= $2
ORDER BY channels.subscribers DESC, channels.id DESC
LIMIT 50 OFFSET 0
"""
# The public campaign list as the Mini App opens it (active, not past its deadline, newest
# first): the SQL the API runs for it, with each campaign's offer and deal counts.
_CAMPAIGNS = """
SELECT campaigns.id, campaigns.advertiser_id, campaigns.title, campaigns.description,
       campaigns.category, campaigns.status AS status, campaigns.budget_nano,
       campaigns.total_budget_nano, campaigns.creative_text, campaigns.content_guidelines,
       campaigns.creative_images,
       campaigns.preferred_formats, campaigns.min_subscribers, campaigns.min_engagement,
       campaigns.preferred_categories, campaigns.deadline,
       (SELECT count(*) FROM offers
        WHERE offers.campaign_id = campaigns.id AND offers.status != 'countered') AS offer_count,
       (SELECT count(*) FROM deals WHERE deals.campaign_id = campaigns.id) AS accepted,
       (SELECT count(*) FROM deals
        WHERE deals.campaign_id = campaigns.id
          AND deals.status IN ('released', 'edit_pending', 'verified', 'live')) AS live,
       campaigns.created_at, campaigns.updated_at
FROM campaigns
WHERE campaigns.deleted_at IS NULL AND campaigns.status = 'active'
  AND (campaigns.deadline IS NULL OR campaigns.deadline >= $1)
ORDER BY campaigns.created_at DESC, campaigns.id DESC
LIMIT 50 OFFSET 0
"""
# The same pages' rows alone (no prices, no counts): the thinner baseline earlier runs of
# `make bench` measured against, kept in the table for comparison.
_CHANNEL_ROWS = """
SELECT id, username, title, description, category, language, is_verified, subscribers,
       avg_views, engagement_rate, posts_per_week, min_price_nano, min_price_cpm_nano,
       rating_sum, rating_count, created_at
FROM channels
WHERE is_active AND is_verified AND category = $1 AND subscribers >= $2
ORDER BY subscribers DESC, id DESC
LIMIT 50
"""
_CAMPAIGN_ROWS = """
SELECT id, advertiser_id, title, description, category, status, budget_nano, total_budget_nano,
       creative_text, creative_images, preferred_formats, preferred_categories, min_subscribers,
       min_engagement, deadline, created_at, updated_at
FROM campaigns
WHERE deleted_at IS NULL AND status = 'active' AND (deadline IS NULL OR deadline >= $1)
ORDER BY created_at DESC, id DESC
LIMIT 50
"""


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _json(content: Any) -> Response:
    body = json.dumps(content, default=_plain, separators=(",", ":")).encode()
    return Response(body, media_type="application/json")


def _dsn() -> str:
    url = os.environ["CHAINFLUENCE_DATABASE__URL"]
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(_dsn(), min_size=20, max_size=20)
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/readyz")
@app.get("/const")
async def const() -> Response:
    return _json({"status": "ok"})


@app.get("/users/{user_id}")
async def user(request: Request, user_id: int) -> Response:
    async with request.app.state.pool.acquire() as conn:
        row = await conn.fetchrow(_USER, user_id)
    return _json(dict(row) if row else None)


@app.get("/channels")
async def channels(request: Request, category: str, min_subscribers: int) -> Response:
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(_CHANNELS, category, min_subscribers)
    return _json([{**row, "pricing": json.loads(row["pricing"] or "[]")} for row in rows])


@app.get("/channels/rows")
async def channel_rows(request: Request, category: str, min_subscribers: int) -> Response:
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(_CHANNEL_ROWS, category, min_subscribers)
    return _json([dict(row) for row in rows])


_CAMPAIGN_LISTS = ("creative_images", "preferred_formats", "preferred_categories")


@app.get("/campaigns")
async def campaigns(request: Request) -> Response:
    today = dt.datetime.now(dt.UTC).date()
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(_CAMPAIGNS, today)
    # The answer's lists are JSON columns: decoded, as the API must.
    return _json([{**row, **{k: json.loads(row[k]) for k in _CAMPAIGN_LISTS}} for row in rows])


@app.get("/campaigns/rows")
async def campaign_rows(request: Request) -> Response:
    today = dt.datetime.now(dt.UTC).date()
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(_CAMPAIGN_ROWS, today)
    return _json([dict(row) for row in rows])
