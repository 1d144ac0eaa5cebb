"""Rate limits per IP and per user, in memory and on the real Redis."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.app import create_app
from tests.conftest import make_settings
from tests.factories import init_data


@pytest.fixture(params=["memory", "redis"])
async def limited_client(
    request: pytest.FixtureRequest, db: AsyncEngine, database_url: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    overrides: dict[str, object] = {
        "rate_limit": {
            "enabled": True,
            "per_ip": "5/minute",
            "per_user": "3/minute",
            "login_per_ip": "4/minute",
        }
    }
    if request.param == "redis":
        overrides["redis"] = {"url": request.getfixturevalue("redis_url")}
        overrides["jobs"] = {"queue_name": f"test-{uuid.uuid4().hex[:10]}"}
    app = create_app(make_settings(database_url, tmp_path, **overrides), consume_jobs=False)
    # A fresh address per test, so counts left in Redis by other runs never interfere.
    address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_request_past_the_ip_limit_gets_429_with_retry_after(
    limited_client: httpx.AsyncClient,
) -> None:
    responses = [await limited_client.get("/v1/users/424242") for _ in range(6)]

    assert [r.status_code for r in responses[:5]] == [404] * 5
    assert responses[5].status_code == 429
    assert responses[5].json()["code"] == "rate_limited"
    assert 1 <= int(responses[5].headers["Retry-After"]) <= 60


async def test_login_has_its_own_stricter_limit(limited_client: httpx.AsyncClient) -> None:
    user_id = random.randint(10_000, 99_999)
    responses = [
        await limited_client.post("/v1/auth/login", json={"initData": init_data(user_id)})
        for _ in range(5)
    ]

    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert int(responses[4].headers["Retry-After"]) >= 1


async def test_request_past_the_user_limit_gets_429(limited_client: httpx.AsyncClient) -> None:
    user_id = random.randint(100_000, 999_999)
    headers = {"Authorization": f"tma {init_data(user_id)}"}

    responses = [await limited_client.get("/v1/users/me", headers=headers) for _ in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert "Retry-After" in responses[3].headers
