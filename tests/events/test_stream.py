"""GET /v1/events over real HTTP: live events of the caller's offers, deals and notifications,
replay with Last-Event-ID, the EventSource ticket, heartbeats, the per-user bound and the outbox's
retention."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.app import create_app
from chainfluence.events import jobs as events_jobs
from chainfluence.kit import time as clock
from chainfluence.kit.serving import serve_in_background
from chainfluence.kit.time import utcnow
from chainfluence.runtime import Runtime
from chainfluence_sandbox.telegram import RunningEmulator
from tests.conftest import make_settings, telegram_settings
from tests.events.sse import Event, open_stream
from tests.factories import create_channel, login

ADVERTISER = 2001
PUBLISHER = 3001
CHANNEL = -1001000000077


@pytest.fixture
async def http(
    db: AsyncEngine, database_url: str, tmp_path: Path, emulator: RunningEmulator
) -> AsyncIterator[httpx.AsyncClient]:
    """The API on a loopback port (streams need real HTTP), two streams per user at most."""
    settings = make_settings(
        database_url,
        tmp_path,
        telegram=telegram_settings(emulator),
        events={"heartbeat_seconds": 0.3, "max_streams_per_user": 2, "ticket_ttl_seconds": 60},
    )
    app = create_app(settings)
    async with (
        serve_in_background(app) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        client.app = app  # type: ignore[attr-defined]
        yield client


def _runtime(client: httpx.AsyncClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


async def _book_and_accept(
    client: httpx.AsyncClient, advertiser: dict[str, str], publisher: dict[str, str]
) -> tuple[int, int]:
    booked = await client.post(
        f"/v1/channels/{CHANNEL}/offers",
        json={
            "format": "2/48",
            "amount": "10",
            "proposedDate": (utcnow() + dt.timedelta(days=2)).isoformat(),
        },
        headers=advertiser,
    )
    assert booked.status_code == 201, booked.text
    accepted = await client.post(f"/v1/offers/{booked.json()['id']}/accept", headers=publisher)
    assert accepted.status_code == 200, accepted.text
    return booked.json()["id"], accepted.json()["dealId"]


async def test_live_events_then_replay_from_last_event_id(http: httpx.AsyncClient) -> None:
    advertiser = await login(http, ADVERTISER)
    publisher = await login(http, PUBLISHER)
    await create_channel(_runtime(http), owner_id=PUBLISHER, channel_id=CHANNEL)

    async with open_stream(http, headers=advertiser) as live:
        offer_id, deal_id = await _book_and_accept(http, advertiser, publisher)
        seen = await live.take(4)
        # Heartbeats every 0.3 s (the default is 15 s): one comes well within 5 s.
        await live.heartbeat(timeout=5)
        await live.nothing_for(1.0)

    # Booking: the offer; accepting: the offer accepted, the deal made, the advertiser told.
    assert [(e.type, e.data.get("status")) for e in seen] == [
        ("offer", "pending"), ("offer", "accepted"), ("deal", "pending"), ("notification", None),
    ]  # fmt: skip
    assert [e.id for e in seen] == sorted(e.id for e in seen)
    assert seen[0].data["offerId"] == seen[1].data["offerId"] == offer_id
    assert (seen[2].data["dealId"], seen[2].data["event"]) == (deal_id, "deal_created")
    notifications = (await http.get("/v1/notifications", headers=advertiser)).json()
    assert seen[3].data == notifications[0]

    # Reconnecting with the first id replays exactly what came after it, then only new events.
    async with open_stream(http, headers={**advertiser, "Last-Event-ID": str(seen[0].id)}) as again:
        replayed = await again.take(3)
        await again.nothing_for(0.5)
    assert replayed == seen[1:]

    # The publisher's stream is theirs only: their replay has the offer, the deal, the booking
    # notification, none of the advertiser's notifications.
    async with open_stream(http, headers=publisher, params={"lastEventId": 0}) as theirs:
        mine = await theirs.take(4)
        await theirs.nothing_for(0.5)
    assert sorted((e.type, e.data.get("status")) for e in mine) == [
        ("deal", "pending"), ("notification", None), ("offer", "accepted"), ("offer", "pending"),
    ]  # fmt: skip
    assert {e.id for e in mine} & {e.id for e in seen if e.type == "notification"} == set()


async def test_eventsource_ticket_opens_the_stream_only_and_expires(
    http: httpx.AsyncClient,
) -> None:
    advertiser = await login(http, ADVERTISER)
    publisher = await login(http, PUBLISHER)
    await create_channel(_runtime(http), owner_id=PUBLISHER, channel_id=CHANNEL)
    await _book_and_accept(http, advertiser, publisher)

    ticket = (await http.post("/v1/events/ticket", headers=advertiser)).json()
    async with open_stream(http, params={"ticket": ticket["ticket"], "lastEventId": 0}) as stream:
        first = await stream.next()
    as_token = await http.get(
        "/v1/users/me", headers={"Authorization": f"Bearer {ticket['ticket']}"}
    )
    clock.advance(dt.timedelta(seconds=ticket["expiresIn"] + 1))
    expired = await http.get("/v1/events", params={"ticket": ticket["ticket"]})
    anonymous = await http.get("/v1/events")

    assert ticket["expiresIn"] == 60
    assert (first.type, first.data["status"]) == ("offer", "pending")
    assert as_token.status_code == 401
    assert (expired.status_code, expired.json()["code"]) == (401, "invalid_events_ticket")
    assert anonymous.status_code == 401


async def test_streams_per_user_are_bounded(http: httpx.AsyncClient) -> None:
    advertiser = await login(http, ADVERTISER)
    publisher = await login(http, PUBLISHER)

    async with open_stream(http, headers=advertiser), open_stream(http, headers=advertiser):
        third = await http.get("/v1/events", headers=advertiser)
        async with open_stream(http, headers=publisher):
            pass  # another user's streams are counted apart
    async with open_stream(http, headers=advertiser):
        pass  # a closed stream frees its place

    assert (third.status_code, third.json()["code"]) == (429, "rate_limited")


async def _replay(http: httpx.AsyncClient, headers: dict[str, str], after: int) -> list[Event]:
    """Everything the stream replays after `after` (nothing more arrives for half a second)."""
    replayed: list[Event] = []
    async with open_stream(http, headers={**headers, "Last-Event-ID": str(after)}) as stream:
        with contextlib.suppress(TimeoutError):
            while True:
                replayed.append(await stream.next(0.5))
    return replayed


async def test_the_outbox_keeps_the_retention_days_for_replays_and_prunes_older_events(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _runtime(http)
    assert runtime.settings.events.retention_days == 7
    # Small batches: the sweep walks the oldest ids a few at a time.
    monkeypatch.setattr(events_jobs, "BATCH", 3)
    advertiser = await login(http, ADVERTISER)
    publisher = await login(http, PUBLISHER)
    await create_channel(runtime, owner_id=PUBLISHER, channel_id=CHANNEL)
    await _book_and_accept(http, advertiser, publisher)
    old = await _replay(http, advertiser, 0) + await _replay(http, publisher, 0)
    assert len(old) == 8

    clock.advance(dt.timedelta(days=4))
    advertiser = await login(http, ADVERTISER)
    publisher = await login(http, PUBLISHER)
    await _book_and_accept(http, advertiser, publisher)
    recent = await _replay(http, advertiser, max(e.id for e in old))
    assert [e.type for e in recent] == ["offer", "offer", "deal", "notification"]

    # Eight days after the first events, four after the others: only the first are deleted.
    clock.advance(dt.timedelta(days=4))
    advertiser = await login(http, ADVERTISER)
    assert await events_jobs.prune(runtime) == len(old)
    assert await events_jobs.prune(runtime) == 0
    # A replay from the start now begins at the oldest kept event; from a kept id, as before.
    assert await _replay(http, advertiser, 0) == recent
    assert await _replay(http, advertiser, recent[1].id) == recent[2:]
    assert len(await _replay(http, await login(http, PUBLISHER), 0)) == 4
