"""GET /v1/channels/mine: the channels the caller owns or may act for (an administrator with the
rights an ad needs), active or not, deleted ones left out, newest first, paged with
X-Total-Count."""

from __future__ import annotations

import httpx

from tests.conftest import runtime_of
from tests.factories import create_channel, login

OWNER, OTHER = 7001, 7002


async def test_pages_count_the_channels_the_caller_manages_and_nothing_else(
    client: httpx.AsyncClient,
) -> None:
    runtime = runtime_of(client)
    ids = [-1001000000011 - i for i in range(6)]
    for channel_id, owner, admins, active in [
        (ids[0], OWNER, None, True),
        (ids[1], OWNER, None, False),
        (ids[2], OWNER, None, True),  # deleted below
        (ids[3], OWNER, None, True),
        (ids[4], OTHER, {OWNER: True}, True),  # the caller may act for it
        (ids[5], OTHER, {OWNER: False}, True),  # an administrator without the rights
    ]:
        await create_channel(
            runtime, owner_id=owner, channel_id=channel_id, admins=admins, is_active=active
        )
    headers = await login(client, OWNER)
    deleted = await client.delete(f"/v1/channels/{ids[2]}", headers=headers)
    assert deleted.status_code == 200, deleted.text

    async def mine(**params: object) -> tuple[list[int], str]:
        response = await client.get("/v1/channels/mine", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [int(c["id"]) for c in response.json()], response.headers["x-total-count"]

    newest_first = [ids[4], ids[3], ids[1], ids[0]]
    assert await mine() == (newest_first, "4")
    assert await mine(limit=2) == (newest_first[:2], "4")  # a full page: counted
    assert await mine(limit=2, offset=3) == (newest_first[3:], "4")
    assert await mine(offset=9) == ([], "4")  # past the end: counted
    other = await client.get("/v1/channels/mine", headers=await login(client, OTHER))
    assert [int(c["id"]) for c in other.json()] == [ids[5], ids[4]]
    nobody = await client.get("/v1/channels/mine", headers=await login(client, 7003))
    assert (nobody.json(), nobody.headers["x-total-count"]) == ([], "0")
    anonymous = await client.get("/v1/channels/mine")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
