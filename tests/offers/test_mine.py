"""GET /v1/offers/mine through the API: each side of an offer the caller may be on, the filters,
pages and their totals, and GET /v1/campaigns/{id}/offers' filter and pages."""

from __future__ import annotations

import datetime as dt

import httpx

from chainfluence.kit import time as clock
from tests.factories import login
from tests.offers.world import PUBLISHER, in_days, list_channel, make_world, today_plus

MINE = "/v1/offers/mine"
MANAGER = 3002  # acts for the second channel (post, edit, delete rights)
CO_MANAGER = 3003  # acts for it too, authors nothing
NO_RIGHTS_ADMIN = 3004  # an administrator of it without the rights to act


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json()]


async def test_every_side_of_an_offer_sees_it_and_nobody_else(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    second = await list_channel(
        client,
        owner_id=PUBLISHER,
        chat_id=-1001000000002,
        username="pats_second",
        prices={"2/48": "10"},
        admins={MANAGER: True, CO_MANAGER: True, NO_RIGHTS_ADMIN: False},
    )
    manager = await login(client, MANAGER)
    co_manager = await login(client, CO_MANAGER)
    no_rights = await login(client, NO_RIGHTS_ADMIN)
    by_manager = await client.post(
        f"/v1/campaigns/{world.campaign_id}/offers",
        json={"channelId": str(second), "amount": "10", "format": "2/48"},
        headers=manager,
    )
    assert by_manager.status_code == 201, by_manager.text
    offer = by_manager.json()
    booking = (await world.book()).json()

    # The advertiser, the owner (publisher), the author (a manager) and another manager.
    assert ids(await client.get(MINE, headers=world.advertiser)) == [booking["id"], offer["id"]]
    assert ids(await client.get(MINE, headers=world.publisher)) == [booking["id"], offer["id"]]
    assert ids(await client.get(MINE, headers=manager)) == [offer["id"]]
    assert ids(await client.get(MINE, headers=co_manager)) == [offer["id"]]
    assert ids(await client.get(MINE, headers=no_rights)) == []
    assert ids(await client.get(MINE, headers=world.stranger)) == []
    # Each sees it as the route renders it everywhere.
    (seen,) = (await client.get(MINE, headers=co_manager)).json()
    assert seen == offer
    assert (seen["authorId"], seen["publisherId"]) == (str(MANAGER), str(PUBLISHER))
    # Roles: the advertiser's side, or the channel's.
    for headers in (manager, co_manager, world.publisher):
        assert ids(await client.get(MINE, params={"role": "advertiser"}, headers=headers)) == []
    publisher_side = await client.get(MINE, params={"role": "publisher"}, headers=manager)
    assert ids(publisher_side) == [offer["id"]]
    assert ids(await client.get(MINE, params={"role": "publisher"}, headers=world.advertiser)) == []
    as_advertiser = await client.get(MINE, params={"role": "advertiser"}, headers=world.advertiser)
    assert ids(as_advertiser) == [booking["id"], offer["id"]]


async def test_filters_pages_and_totals(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    application = (await world.apply()).json()
    bookings = [(await world.book(amount=str(11 + n))).json() for n in range(3)]
    declined = await client.post(f"/v1/offers/{bookings[0]['id']}/reject", headers=world.publisher)
    assert declined.status_code == 200, declined.text
    newest_first = [b["id"] for b in reversed(bookings)] + [application["id"]]

    def total(response: httpx.Response) -> int:
        return int(response.headers["X-Total-Count"])

    everything = await client.get(MINE, headers=world.publisher)
    assert (ids(everything), total(everything)) == (newest_first, 4)
    for offset in range(5):
        page = await client.get(
            MINE, params={"limit": 1, "offset": offset}, headers=world.advertiser
        )
        assert (ids(page), total(page)) == (newest_first[offset : offset + 1], 4)
    two = await client.get(MINE, params={"limit": 2, "offset": 1}, headers=world.publisher)
    assert (ids(two), total(two)) == (newest_first[1:3], 4)
    past_the_end = await client.get(MINE, params={"offset": 10}, headers=world.publisher)
    assert (ids(past_the_end), total(past_the_end)) == ([], 4)

    pending = await client.get(MINE, params={"status": "pending"}, headers=world.publisher)
    assert (ids(pending), total(pending)) == ([*newest_first[:2], application["id"]], 3)
    rejected = await client.get(MINE, params={"status": "declined"}, headers=world.advertiser)
    assert (ids(rejected), total(rejected)) == ([bookings[0]["id"]], 1)
    applications = await client.get(
        MINE, params={"direction": "application"}, headers=world.publisher
    )
    assert (ids(applications), total(applications)) == ([application["id"]], 1)
    on_channel = await client.get(
        MINE, params={"channelId": str(world.channel_id), "limit": 2}, headers=world.advertiser
    )
    assert (ids(on_channel), total(on_channel)) == (newest_first[:2], 4)
    other_channel = await client.get(
        MINE, params={"channelId": "-1001000000099"}, headers=world.advertiser
    )
    assert (ids(other_channel), total(other_channel)) == ([], 0)
    pending_bookings = await client.get(
        MINE,
        params={"status": "pending", "direction": "booking", "role": "publisher"},
        headers=world.publisher,
    )
    assert ids(pending_bookings) == newest_first[:2]
    on_campaign = await client.get(
        MINE, params={"campaignId": world.campaign_id}, headers=world.publisher
    )
    assert (ids(on_campaign), total(on_campaign)) == ([application["id"]], 1)


async def test_without_a_valid_caller_nothing_is_listed(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    await world.apply()

    anonymous = await client.get(MINE)
    bad_token = await client.get(MINE, headers={"Authorization": "Bearer not-a-token"})
    bad_role = await client.get(MINE, params={"role": "owner"}, headers=world.publisher)

    assert anonymous.status_code == 401
    assert bad_token.status_code == 401
    assert bad_role.status_code == 422


async def test_campaign_offers_filter_and_pages(client: httpx.AsyncClient) -> None:
    world = await make_world(client)
    first = (await world.apply()).json()
    withdrawn = await client.post(f"/v1/offers/{first['id']}/withdraw", headers=world.publisher)
    assert withdrawn.status_code == 200, withdrawn.text
    second = (await world.apply()).json()
    url = f"/v1/campaigns/{world.campaign_id}/offers"

    both = await client.get(url, headers=world.advertiser)
    page = await client.get(url, params={"limit": 1, "offset": 1}, headers=world.advertiser)
    pending = await client.get(url, params={"status": "pending"}, headers=world.advertiser)
    stranger = await client.get(url, headers=world.stranger)

    assert (ids(both), both.headers["X-Total-Count"]) == ([second["id"], first["id"]], "2")
    assert both.json()[1]["status"] == "withdrawn"
    assert both.json()[0] == second
    assert (ids(page), page.headers["X-Total-Count"]) == ([first["id"]], "2")
    assert (ids(pending), pending.headers["X-Total-Count"]) == ([second["id"]], "1")
    assert (stranger.status_code, stranger.json()["code"]) == (403, "not_campaign_owner")


async def test_each_listed_offer_is_what_its_own_route_answers(
    client: httpx.AsyncClient,
) -> None:
    """Lists and GET /v1/offers/{id} give the same offer: counters and the versions they
    counter, a deal, a campaign or none, a message (stripped), a lapsed pending offer shown as
    expired before the sweep, and one lapsing with its campaign's last day."""
    world = await make_world(client)
    countered = (await world.apply(message="  first terms  ")).json()
    counter = await client.post(
        f"/v1/offers/{countered['id']}/counter", json={"amount": "9"}, headers=world.advertiser
    )
    assert counter.status_code == 201, counter.text
    accepted = await client.post(
        f"/v1/offers/{counter.json()['id']}/accept", headers=world.publisher
    )
    assert accepted.status_code == 200, accepted.text
    (await world.book(message="a booking, no campaign")).json()
    lapsing = (await world.book(proposedDate=in_days(1 / 24), amount="3")).json()
    clock.advance(dt.timedelta(hours=2))

    for headers in (world.advertiser, world.publisher):
        listed = (await client.get(MINE, headers=headers)).json()
        assert len(listed) == 4
        for item in listed:
            assert item == await world.offer(item["id"], as_="advertiser")
    by_id = {o["id"]: o for o in (await client.get(MINE, headers=world.advertiser)).json()}
    assert by_id[countered["id"]]["counterOfferId"] == counter.json()["id"]
    assert by_id[countered["id"]]["message"] == "first terms"
    assert by_id[counter.json()["id"]]["dealId"] is not None
    assert by_id[lapsing["id"]]["status"] == "expired"
    on_campaign = (
        await client.get(f"/v1/campaigns/{world.campaign_id}/offers", headers=world.advertiser)
    ).json()
    assert [o["id"] for o in on_campaign] == [counter.json()["id"], countered["id"]]
    for item in on_campaign:
        assert item == await world.offer(item["id"])
        assert item["campaign"]["title"] == "Launch week"
        assert item["expiresAt"].startswith(today_plus(31))
