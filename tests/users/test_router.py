"""/v1/users: profile, roles, public profiles, statistics."""

from __future__ import annotations

import httpx
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.models import User
from tests.factories import init_data, login


async def test_new_user_has_no_role_until_chosen(client: httpx.AsyncClient) -> None:
    headers = await login(client, 1001)

    me = (await client.get("/v1/users/me", headers=headers)).json()

    assert me["isPublisher"] is False
    assert me["isAdvertiser"] is False
    assert me["walletAddress"] is None
    assert me["walletVerified"] is False
    assert set(me) >= {
        "id", "username", "firstName", "lastName", "photoUrl", "isPublisher", "isAdvertiser",
        "walletAddress", "walletVerified", "memberSince", "createdAt", "updatedAt",
    }  # fmt: skip


async def test_me_is_the_same_with_a_token_or_with_init_data(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    # A token's profile is read as one row outside the ORM; initData's through the ORM.
    headers = await login(client, 1001)
    async with db.begin() as conn:
        reviewed = update(User).where(User.id == 1001).values(rating_sum=14, rating_count=3)
        await conn.execute(reviewed)

    by_token = (await client.get("/v1/users/me", headers=headers)).json()
    by_init_data = (
        await client.get("/v1/users/me", headers={"Authorization": f"tma {init_data(1001)}"})
    ).json()

    assert by_token["rating"] == 4.67
    assert by_token["reviewCount"] == 3
    assert by_token["id"] == "1001"
    assert by_token["memberSince"].endswith("Z")
    # initData refreshes the names and updatedAt on each use (it may register the user).
    assert {**by_token, "updatedAt": None} == {**by_init_data, "updatedAt": None}


async def test_me_with_the_token_of_a_deleted_user_is_401(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    headers = await login(client, 1001)
    assert (await client.get("/v1/users/me", headers=headers)).status_code == 200
    async with db.begin() as conn:
        await conn.execute(delete(User).where(User.id == 1001))

    response = await client.get("/v1/users/me", headers=headers)

    assert response.status_code == 401
    assert response.json() == {
        "message": "the access token's user no longer exists; log in again",
        "code": "invalid_token",
    }


async def test_patch_me_sets_roles_independently(client: httpx.AsyncClient) -> None:
    headers = await login(client, 1001)

    first = await client.patch("/v1/users/me", json={"isAdvertiser": True}, headers=headers)
    second = await client.patch("/v1/users/me", json={"isPublisher": True}, headers=headers)
    third = await client.patch("/v1/users/me", json={"isAdvertiser": False}, headers=headers)

    assert first.json()["isAdvertiser"] is True
    assert first.json()["isPublisher"] is False
    assert second.json()["isAdvertiser"] is True
    assert second.json()["isPublisher"] is True
    assert third.json()["isAdvertiser"] is False
    assert third.json()["isPublisher"] is True
    assert (await client.get("/v1/users/me", headers=headers)).json()["isPublisher"] is True


async def test_patch_me_rejects_unknown_fields_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    headers = await login(client, 1001)

    response = await client.patch(
        "/v1/users/me", json={"isPublisher": True, "isOperator": True}, headers=headers
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["message"].startswith("Invalid isOperator")
    assert (await client.get("/v1/users/me", headers=headers)).json()["isPublisher"] is False


async def test_patch_me_rejects_non_boolean_role(client: httpx.AsyncClient) -> None:
    headers = await login(client, 1001)

    response = await client.patch("/v1/users/me", json={"isPublisher": "maybe"}, headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "isPublisher"


async def test_public_profile_is_readable_without_login(client: httpx.AsyncClient) -> None:
    await login(client, 1001, first_name="Alice", username="alice")

    by_number = await client.get("/v1/users/1001")
    missing = await client.get("/v1/users/424242")
    not_an_id = await client.get("/v1/users/alice")

    assert by_number.status_code == 200
    assert by_number.json()["username"] == "alice"
    assert by_number.json()["rating"] is None
    assert by_number.json()["reviewCount"] == 0
    assert "walletAddress" not in by_number.json()
    assert missing.status_code == 404
    assert missing.json() == {"message": "No such user.", "code": "user_not_found"}
    assert not_an_id.status_code == 422


async def test_stats_are_zero_before_any_deal(client: httpx.AsyncClient) -> None:
    headers = await login(client, 1001)

    stats = (await client.get("/v1/users/me/stats", headers=headers)).json()

    assert stats == {
        "publisher": {
            "channelsListed": 0,
            "totalEarned": "0",
            "totalEarnedNano": "0",
            "dealsCompleted": 0,
            "rating": None,
            "reviewCount": 0,
        },
        "advertiser": {
            "totalSpent": "0",
            "totalSpentNano": "0",
            "dealsCompleted": 0,
            "campaignsCreated": 0,
        },
    }


async def test_operators_come_from_settings(client: httpx.AsyncClient) -> None:
    operator = await login(client, 900001)
    regular = await login(client, 1001)

    assert (await client.get("/v1/users/me", headers=operator)).json()["isOperator"] is True
    assert (await client.get("/v1/users/me", headers=regular)).json()["isOperator"] is False


async def test_acting_as_a_side_gives_its_role(client: httpx.AsyncClient) -> None:
    # Issue 12, finding 8: someone with neither role ran campaigns and booked channels while the
    # Mini App still showed them no role. The role now follows the act.
    from tests.offers.world import in_days, make_world

    world = await make_world(client)  # the publisher listed a channel, the advertiser a campaign
    booker = await login(client, 4999)
    before = (await client.get("/v1/users/me", headers=booker)).json()

    booked = await client.post(
        f"/v1/channels/{world.channel_id}/offers",
        json={"format": "2/48", "amount": "10", "proposedDate": in_days(3)},
        headers=booker,
    )
    roles = {
        who: (me["isAdvertiser"], me["isPublisher"])
        for who, headers in (("advertiser", world.advertiser), ("publisher", world.publisher),
                             ("booker", booker))
        for me in [(await client.get("/v1/users/me", headers=headers)).json()]
    }  # fmt: skip

    assert (before["isAdvertiser"], before["isPublisher"]) == (False, False)
    assert booked.status_code == 201, booked.text
    assert roles == {
        "advertiser": (True, False),
        "publisher": (False, True),
        "booker": (True, False),
    }
