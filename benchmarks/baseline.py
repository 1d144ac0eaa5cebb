"""The bare baseline `make bench` measures the API against: FastAPI, asyncpg, hand-written SQL.

The thinnest honest code for the same work: one pooled asyncpg connection per request, the SQL
the API runs for that page (without its total count), rows turned into JSON with the standard
library. No ORM, no middleware, no validation, no authentication. Served the way the API is
(one uvicorn process, uvloop, httptools); the database comes from CHAINFLUENCE_DATABASE__URL.

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
# The catalogue's first page for category + min subscribers, sorted by subscribers.
_CHANNELS = """
SELECT id, username, title, description, category, language, is_verified, subscribers,
       avg_views, engagement_rate, posts_per_week, min_price_nano, min_price_cpm_nano,
       rating_sum, rating_count, created_at
FROM channels
WHERE is_active AND is_verified AND category = $1 AND subscribers >= $2
ORDER BY subscribers DESC, id DESC
LIMIT 50
"""
# The public campaign list as the Mini App opens it: active, not past its deadline, newest first.
_CAMPAIGNS = """
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
    return _json([dict(row) for row in rows])


@app.get("/campaigns")
async def campaigns(request: Request) -> Response:
    today = dt.datetime.now(dt.UTC).date()
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(_CAMPAIGNS, today)
    return _json([dict(row) for row in rows])
