"""GET /v1/campaigns/mine: the advertiser's own campaigns, newest first, any status but deleted,
paged with X-Total-Count; the caller by Bearer token or `tma` initData."""

from __future__ import annotations

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.models import User
from tests.campaigns.test_router import _create
from tests.factories import init_data, login
from tests.offers.world import ADVERTISER


async def test_pages_count_every_campaign_of_the_caller_and_nothing_else(
    client: httpx.AsyncClient,
) -> None:
    owner = await login(client, ADVERTISER)
    other = await login(client, 2002)
    ids = [(await _create(client, owner, title=f"Mine {i}")).json()["id"] for i in range(4)]
    await _create(client, other, title="Not mine")
    assert (await client.delete(f"/v1/campaigns/{ids[1]}", headers=owner)).status_code == 200
    await client.patch(f"/v1/campaigns/{ids[0]}", json={"status": "paused"}, headers=owner)

    async def mine(**params: object) -> tuple[list[int], str]:
        response = await client.get("/v1/campaigns/mine", params=params, headers=owner)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()], response.headers["x-total-count"]

    assert await mine() == ([ids[3], ids[2], ids[0]], "3")
    assert await mine(limit=2) == ([ids[3], ids[2]], "3")  # a full page: counted
    assert await mine(limit=2, offset=2) == ([ids[0]], "3")
    assert await mine(offset=7) == ([], "3")  # past the end: counted
    assert await mine(status="paused", limit=1) == ([ids[0]], "1")
    assert await mine(status="completed") == ([], "0")
    assert (await client.get("/v1/campaigns/mine", headers=await login(client, 3003))).json() == []


async def test_init_data_registers_the_caller_and_a_deleted_users_token_is_401(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    owner = await login(client, ADVERTISER)
    created = (await _create(client, owner)).json()["id"]
    newcomer = {"Authorization": f"tma {init_data(4545)}"}
    leaver = await login(client, 4646)

    by_init_data = await client.get(
        "/v1/campaigns/mine", headers={"Authorization": f"tma {init_data(ADVERTISER)}"}
    )
    first_contact = await client.get("/v1/campaigns/mine", headers=newcomer)
    async with db.connect() as conn:
        registered = await conn.scalar(select(User.id).where(User.id == 4545))
    async with db.begin() as conn:
        await conn.execute(delete(User).where(User.id == 4646))
    gone = await client.get("/v1/campaigns/mine", headers=leaver)
    malformed = await client.get("/v1/campaigns/mine", headers={"Authorization": "Bearer"})

    assert [c["id"] for c in by_init_data.json()] == [created]
    assert (first_contact.status_code, first_contact.json()) == (200, [])
    assert first_contact.headers["x-total-count"] == "0"
    assert registered == 4545  # by that first request
    assert gone.status_code == 401
    assert gone.json() == {
        "message": "the access token's user no longer exists; log in again",
        "code": "invalid_token",
    }
    assert (malformed.status_code, malformed.json()["code"]) == (401, "not_authenticated")
