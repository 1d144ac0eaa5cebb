"""Live events across processes: a stream on one `api` replica receives changes made through the
other replica and by a `worker`, on PostgreSQL with Redis carrying the announcements (the
production shape of tests/cluster with one worker: sandbox, api ×2, worker, their own
redis-server)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from tests.cluster.shape import production_shape
from tests.conftest import _postgres_database
from tests.events.sse import open_stream

pytestmark = pytest.mark.slow


def _ok(response: httpx.Response, status: int = 200) -> dict:  # type: ignore[type-arg]
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    body: dict = response.json()  # type: ignore[type-arg]
    return body


async def test_a_stream_on_one_replica_sees_changes_made_on_the_other_and_by_a_worker(
    tmp_path: Path,
) -> None:
    async with _postgres_database() as database_url:
        with production_shape(tmp_path / "shape", database_url, workers=1) as shape:
            one, two = (
                f"http://127.0.0.1:{api.args[api.args.index('--port') + 1]}" for api in shape.apis
            )
            async with (
                httpx.AsyncClient(base_url=shape.sandbox_url, timeout=60) as sandbox,
                httpx.AsyncClient(base_url=one, timeout=60) as first,
                httpx.AsyncClient(base_url=two, timeout=60) as second,
            ):
                people = _ok(await sandbox.get("/v1/sandbox"))["telegram"]["people"]
                owner = next(p["id"] for p in people if "@crypto_daily_sandbox" in p["role"])
                buyer = next(p["id"] for p in people if p["role"] == "advertiser")
                publisher = {
                    "Authorization": _ok(await sandbox.post(f"/v1/sandbox/login/{owner}"))[
                        "authorization"
                    ]
                }
                advertiser = {
                    "Authorization": _ok(await sandbox.post(f"/v1/sandbox/login/{buyer}"))[
                        "authorization"
                    ]
                }
                channel = _ok(
                    await first.post(
                        "/v1/channels",
                        json={"username": "crypto_daily_sandbox", "category": "Crypto"},
                        headers=publisher,
                    ),
                    201,
                )
                _ok(
                    await first.patch(
                        f"/v1/channels/{channel['id']}",
                        json={"pricing": [{"format": "test", "price": 1}]},
                        headers=publisher,
                    )
                )
                now = dt.datetime.fromisoformat(
                    _ok(await sandbox.get("/v1/sandbox/clock"))["now"].replace("Z", "+00:00")
                )

                async with open_stream(second, headers=advertiser) as stream:
                    # Through replica one: the advertiser books, the publisher accepts.
                    offer = _ok(
                        await first.post(
                            f"/v1/channels/{channel['id']}/offers",
                            json={
                                "format": "test",
                                "amount": "1",
                                "proposedDate": (now + dt.timedelta(hours=3)).isoformat(),
                            },
                            headers=advertiser,
                        ),
                        201,
                    )
                    deal_id = _ok(
                        await first.post(f"/v1/offers/{offer['id']}/accept", headers=publisher)
                    )["dealId"]
                    made = await stream.take(4, timeout=30)
                    # Never paid: past the deposit deadline a worker's sweep cancels the deal.
                    _ok(await sandbox.post("/v1/sandbox/clock/advance", json={"seconds": 2 * 3600}))
                    cancelled = await stream.next(timeout=60)
                    told = await stream.next(timeout=30)

                deal = _ok(await first.get(f"/v1/deals/{deal_id}", headers=advertiser))

    assert [(e.type, e.data.get("status")) for e in made] == [
        ("offer", "pending"), ("offer", "accepted"), ("deal", "pending"), ("notification", None),
    ]  # fmt: skip
    assert (cancelled.type, cancelled.data["dealId"], cancelled.data["status"]) == (
        "deal", deal_id, "cancelled",
    )  # fmt: skip
    assert (told.type, told.data["type"], told.data["relatedId"]) == (
        "notification", "deal_cancelled", deal_id,
    )  # fmt: skip
    # The cancellation was the worker's: no api consumes jobs when there is Redis.
    entry = next(e for e in deal["timeline"] if e["toStatus"] == "cancelled")
    assert entry["actorType"] == "system"
    assert entry["id"] == cancelled.data["timelineId"]
