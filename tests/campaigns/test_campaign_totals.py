"""X-Total-Count of the public campaign list stays exact while totals are kept between writes:
every write to a campaign (through the API, a job or an UPDATE statement) makes the next full
page count again, and an active campaign's last day ending takes it out of the next total.

Pages of one campaign are full, so their totals come from the kept totals (kit/totals.py),
never from the page itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from chainfluence.campaigns.jobs import sweep_ending
from chainfluence.kit import time as clock
from chainfluence.models import Campaign
from tests.campaigns.test_router import _create
from tests.conftest import runtime_of
from tests.factories import login
from tests.offers.world import ADVERTISER, today_plus

pytestmark = pytest.mark.usefixtures("db")


async def _total(client: httpx.AsyncClient, **params: Any) -> int:
    response = await client.get("/v1/campaigns", params={"limit": 1, **params})
    assert response.status_code == 200, response.text
    assert len(response.json()) == 1  # a full page: its total is not the page's own
    return int(response.headers["X-Total-Count"])


async def _campaigns(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, int]:
    briefs = {
        "alpha": {"category": "crypto", "budget": "10", "preferredFormats": ["2/48"]},
        "bravo": {"category": "crypto", "budget": "50", "preferredFormats": []},
        "charlie": {"category": "gaming", "budget": "30", "preferredFormats": ["1/24"],
                    "deadline": today_plus(1)},
    }  # fmt: skip
    ids = {}
    for title, fields in briefs.items():
        created = await _create(client, headers, title=title, **fields)
        assert created.status_code == 201, created.text
        ids[title] = int(created.json()["id"])
    return ids


async def test_totals_follow_every_write(client: httpx.AsyncClient) -> None:
    owner = await login(client, ADVERTISER)
    assert runtime_of(client).totals is not None
    ids = await _campaigns(client, owner)

    def lists() -> list[dict[str, Any]]:
        return [{}, {"category": "crypto"}, {"format": "1/24"}, {"minBudget": "20"},
                {"status": "paused"}, {"q": "alpha"}]  # fmt: skip

    async def totals() -> list[int | None]:
        found: list[int | None] = []
        for params in lists():
            response = await client.get("/v1/campaigns", params={"limit": 1, **params})
            assert response.status_code == 200, response.text
            found.append(int(response.headers["X-Total-Count"]) if response.json() else None)
        return found

    first = await totals()
    assert first == await totals() == [3, 2, 2, 2, None, 1]

    # Created through the API (an ORM object).
    created = await _create(client, owner, title="delta", category="crypto", budget="5")
    assert created.status_code == 201, created.text
    delta = int(created.json()["id"])
    assert await _total(client) == 4
    assert await _total(client, category="crypto") == 3
    # Edited: category and budget.
    edited = await client.patch(
        f"/v1/campaigns/{ids['charlie']}",
        json={"category": "crypto", "budget": "1"},
        headers=owner,
    )
    assert edited.status_code == 200, edited.text
    assert await _total(client, category="crypto") == 4
    assert await _total(client, minBudget="20") == 1
    # Paused: out of the active list, into the paused one.
    paused = await client.patch(
        f"/v1/campaigns/{ids['bravo']}", json={"status": "paused"}, headers=owner
    )
    assert paused.status_code == 200, paused.text
    assert await _total(client) == 3
    assert await _total(client, category="crypto") == 3
    assert await _total(client, format="1/24") == 2  # charlie and delta (no preference)
    paused = await client.patch(
        f"/v1/campaigns/{ids['alpha']}", json={"status": "paused"}, headers=owner
    )
    assert paused.status_code == 200, paused.text
    assert await _total(client, status="paused") == 2
    # Deleted.
    deleted = await client.delete(f"/v1/campaigns/{delta}", headers=owner)
    assert deleted.status_code == 200, deleted.text
    assert await _total(client, category="crypto") == 1  # charlie
    past_the_end = await client.get("/v1/campaigns", params={"limit": 1, "offset": 10})
    assert past_the_end.json() == []
    assert past_the_end.headers["X-Total-Count"] == "1"

    # On charlie's last day the ending sweep (a job, its own session) writes it; the day after,
    # charlie is past its deadline and out of the list with no write at all.
    resumed = await client.patch(
        f"/v1/campaigns/{ids['bravo']}", json={"status": "active"}, headers=owner
    )
    assert resumed.status_code == 200, resumed.text
    assert await _total(client) == 2
    clock.advance(dt.timedelta(days=1))
    await sweep_ending(runtime_of(client))
    assert await _total(client) == 2  # its last day: still listed
    clock.advance(dt.timedelta(days=1))
    assert await _total(client) == 1  # bravo only; no write, the date moved


async def test_a_statement_writing_campaigns_bumps_too(client: httpx.AsyncClient) -> None:
    """An UPDATE statement on the table, no ORM object flushed."""
    owner = await login(client, ADVERTISER)
    ids = await _campaigns(client, owner)
    assert await _total(client) == 3
    async with runtime_of(client).session() as session:
        await session.execute(
            update(Campaign).where(Campaign.id == ids["alpha"]).values(deleted_at=clock.utcnow())
        )
    assert await _total(client) == 2
    assert await _total(client, category="crypto") == 1
