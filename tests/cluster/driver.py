"""The load driver: people playing deals through the HTTP API only (and the sandbox helpers that
stand for their Telegram and wallet apps), while processes are killed under them.

A request cut by a killed process (connection refused/reset, or the sandbox saying the API did
not answer) is retried; whether a cut write took effect is read back from the API before it is
repeated. Every other 5xx is recorded as an error of the run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.cluster.shape import OPERATOR_ID

TON = 10**9
BOT_ID = 7000000001
PUBLISHER_BASE = 7200000000
ADVERTISER_BASE = 7210000000
POLL_SECONDS = 5.0
# The sandbox's word for "the API you point me at did not answer" (a killed api replica).
API_NOT_ANSWERING = "sandbox_api_not_answering"

RELEASED, REFUNDED, CANCELLED, SPLIT = "released", "refunded", "cancelled", "split"
FINAL = {RELEASED, REFUNDED, CANCELLED, SPLIT}
SPLIT_SHARE_BPS = 6000


class ServerError(AssertionError):
    pass


@dataclass
class Stats:
    connection_errors: int = 0
    timeouts: int = 0  # no answer within the client's timeout (counted apart from cuts)
    server_errors: list[str] = field(default_factory=list)
    requests: int = 0


@dataclass
class Person:
    id: int
    token: str = ""
    wallet: str = ""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class DealRun:
    number: int
    kind: str  # the expected final status
    publisher: Person
    channel_id: str
    advertiser: Person
    price_nano: int
    deal_id: int | None = None
    escrow: str | None = None
    started: float = 0.0
    finished: float | None = None
    status: str = ""
    error: str | None = None


class Driver:
    def __init__(self, api_url: str, sandbox_url: str) -> None:
        # At most this many requests in flight per client, as a bounded load (each api replica
        # holds 12 database connections here; the deals wait their turn for a connection).
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        self.api = httpx.AsyncClient(base_url=api_url, timeout=60, limits=limits)
        self.sandbox = httpx.AsyncClient(base_url=sandbox_url, timeout=180, limits=limits)
        self.stats = Stats()
        self.operator = Person(OPERATOR_ID)

    async def close(self) -> None:
        await self.api.aclose()
        await self.sandbox.aclose()

    # ---- requests -----------------------------------------------------------------------------

    async def request(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        *,
        person: Person | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        done: Callable[[], Awaitable[Any]] | None = None,
        attempts: int = 40,
    ) -> httpx.Response | Any:
        """The response, retried across connection errors. For a write, `done` reads back
        whether a cut attempt took effect; its truthy answer is returned instead of a retry."""
        cut = False
        for _ in range(attempts):
            if cut and done is not None:
                effect = await done()
                if effect:
                    return effect
            self.stats.requests += 1
            try:
                response = await client.request(
                    method,
                    path,
                    json=json,
                    params=params,
                    headers=person.headers if person is not None else None,
                )
            except httpx.TimeoutException:
                self.stats.timeouts += 1
                cut = True
                continue
            except httpx.TransportError:
                self.stats.connection_errors += 1
                cut = True
                await asyncio.sleep(0.5)
                continue
            if response.status_code == 503 and _code(response) == API_NOT_ANSWERING:
                self.stats.connection_errors += 1
                cut = True
                await asyncio.sleep(0.5)
                continue
            if response.status_code >= 500:
                message = f"{method} {path}: {response.status_code} {response.text[:300]}"
                self.stats.server_errors.append(message)
                raise ServerError(message)
            if cut and done is not None and response.status_code >= 400:
                # Refused now, perhaps because the cut attempt did take effect after all.
                effect = await done()
                if effect:
                    return effect
            return response
        raise AssertionError(f"{method} {path}: no answer after {attempts} attempts")

    async def call(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...] = (200, 201),
        **kwargs: Any,
    ) -> Any:
        answer = await self.request(client, method, path, **kwargs)
        if not isinstance(answer, httpx.Response):
            return answer  # a cut write that took effect: what `done` read back
        if answer.status_code not in expect:
            raise AssertionError(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        return answer.json() if answer.content else None

    async def login(self, person: Person) -> None:
        answer = await self.call(self.sandbox, "POST", f"/v1/sandbox/login/{person.id}")
        person.token = answer["accessToken"]

    async def deal(self, run: DealRun) -> dict[str, Any]:
        deal: dict[str, Any] = await self.call(
            self.api, "GET", f"/v1/deals/{run.deal_id}", person=run.advertiser
        )
        return deal

    async def until(self, run: DealRun, statuses: set[str], timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            deal = await self.deal(run)
            run.status = deal["status"]
            if deal["status"] in statuses:
                return deal
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"deal #{run.deal_id} ({run.kind}) stuck in {deal['status']}, "
                    f"waiting for {sorted(statuses)}"
                )
            await asyncio.sleep(POLL_SECONDS)

    # ---- the world ------------------------------------------------------------------------------

    async def publisher(self, number: int) -> tuple[Person, str]:
        """A publisher with a channel of their own, the bot an admin, listed with a test price."""
        person = Person(PUBLISHER_BASE + number)
        await self.login(person)
        username = f"cluster_channel_{number}"
        chat = await self.call(
            self.sandbox,
            "POST",
            "/telegram/control/chats",
            json={"type": "channel", "title": f"Cluster channel {number}",
                  "owner_id": person.id, "username": username, "subscribers": 5000},
        )  # fmt: skip
        await self.call(
            self.sandbox,
            "PUT",
            f"/telegram/control/chats/{chat['id']}/admins/{BOT_ID}",
            json={"by_user_id": person.id},
        )
        wallet = await self.call(
            self.sandbox, "POST", f"/v1/sandbox/users/{person.id}/wallet", json={"amount": 0}
        )
        person.wallet = wallet["rawAddress"]
        await self.call(
            self.api, "PATCH", "/v1/users/me", person=person, json={"isPublisher": True}
        )
        channel = await self.call(
            self.api, "POST", "/v1/channels", person=person, json={"username": username}
        )
        await self.call(
            self.api,
            "PATCH",
            f"/v1/channels/{channel['id']}",
            person=person,
            json={"category": "crypto", "pricing": [{"format": "test", "price": 1}]},
        )
        return person, str(channel["id"])

    async def advertiser(self, number: int) -> tuple[Person, int]:
        person = Person(ADVERTISER_BASE + number)
        wallet = await self.call(
            self.sandbox, "POST", f"/v1/sandbox/users/{person.id}/wallet", json={"amount": 30}
        )
        person.wallet = wallet["rawAddress"]
        await self.login(person)
        await self.call(
            self.api, "PATCH", "/v1/users/me", person=person, json={"isAdvertiser": True}
        )
        campaign = await self.call(
            self.api,
            "POST",
            "/v1/campaigns",
            person=person,
            json={"title": f"Cluster campaign {number}", "category": "crypto",
                  "creativeText": f"Advertiser {number}: buy our thing."},
        )  # fmt: skip
        return person, int(campaign["id"])

    # ---- one deal -----------------------------------------------------------------------------

    async def play(self, run: DealRun, campaign_id: int, post_at: dt.datetime) -> None:
        run.started = time.monotonic()
        try:
            await self._play(run, campaign_id, post_at)
            run.finished = time.monotonic()
        except Exception as exc:
            run.error = f"{type(exc).__name__}: {exc}"

    async def _play(self, run: DealRun, campaign_id: int, post_at: dt.datetime) -> None:
        adv, pub = run.advertiser, run.publisher
        price = f"{run.price_nano / TON:.9f}"
        offer = await self.call(
            self.api,
            "POST",
            f"/v1/channels/{run.channel_id}/offers",
            person=adv,
            json={"format": "test", "amount": price, "proposedDate": post_at.isoformat(),
                  "campaignId": campaign_id, "message": f"deal {run.number}"},
        )  # fmt: skip

        async def accepted() -> Any:
            seen = await self.call(self.api, "GET", f"/v1/offers/{offer['id']}", person=pub)
            return seen if seen.get("dealId") else None

        accept = await self.call(
            self.api,
            "POST",
            f"/v1/offers/{offer['id']}/accept",
            person=pub,
            done=accepted,
            expect=(200,),
        )
        run.deal_id = int(accept["dealId"])
        if run.kind == CANCELLED:
            # Never paid: half are cancelled by the advertiser, the others by the deposit
            # deadline (at least 30 minutes away: the run moves the sandbox's clock for them).
            if (run.number // 6) % 2 == 0:
                await self.cancel(run)
            await self.until(run, FINAL, timeout=1800)
            return
        await self.pay(run)
        await self.until(run, {"in_escrow"})
        creatives = await self.call(
            self.api, "GET", f"/v1/deals/{run.deal_id}/creatives", person=pub
        )
        if not creatives:
            await self.call(
                self.api,
                "POST",
                f"/v1/deals/{run.deal_id}/creatives",
                person=adv,
                json={"text": f"Deal {run.number}: buy our thing."},
            )
        version = creatives[-1]["version"] if creatives else 1

        async def approved() -> Any:
            deal = await self.deal(run)
            return deal if deal.get("creativeVersion") else None

        await self.call(
            self.api,
            "POST",
            f"/v1/deals/{run.deal_id}/creatives/{version}/approve",
            person=pub,
            done=approved,
            expect=(200,),
        )
        if run.kind == SPLIT:
            await self.dispute_and_split(run)
        elif run.kind == REFUNDED:
            await self.until(run, {"live"})
            await self.call(self.sandbox, "POST", f"/v1/sandbox/deals/{run.deal_id}/post/delete")
        await self.until(run, FINAL)

    async def cancel(self, run: DealRun) -> None:
        async def cancelled() -> Any:
            deal = await self.deal(run)
            return deal if deal["status"] == CANCELLED else None

        await self.call(
            self.api,
            "POST",
            f"/v1/deals/{run.deal_id}/cancel",
            person=run.advertiser,
            json={"reason": "Changed our plans."},
            done=cancelled,
            expect=(200,),
        )

    async def pay(self, run: DealRun) -> None:
        async def deposited() -> Any:
            deal = await self.deal(run)
            return deal if int(deal["depositedNano"]) > 0 or deal["status"] != "pending" else None

        async with run.advertiser.lock:  # one payment at a time from a wallet, as a person pays
            answer = await self.call(
                self.sandbox,
                "POST",
                f"/v1/sandbox/deals/{run.deal_id}/pay",
                json={"waitSeconds": 0},
                done=deposited,
                expect=(200,),
            )
            run.escrow = answer.get("escrowAddress")
            # The next payment from this wallet waits for this one's seqno to be used.
            await self.until(run, {"in_escrow"}, timeout=300)

    async def dispute_and_split(self, run: DealRun) -> None:
        async def disputed() -> Any:
            deal = await self.deal(run)
            return deal if deal["status"] == "disputed" else None

        await self.call(
            self.api,
            "POST",
            f"/v1/deals/{run.deal_id}/dispute",
            person=run.advertiser,
            json={"reason": f"Cluster deal {run.number}: we disagree."},
            done=disputed,
            expect=(200,),
        )

        async def resolved() -> Any:
            deal = await self.deal(run)
            return deal if deal["status"] in {"splitting", SPLIT} else None

        await self.call(
            self.api,
            "POST",
            f"/v1/admin/disputes/{run.deal_id}/resolve",
            person=self.operator,
            json={"outcome": "split", "publisherShareBps": SPLIT_SHARE_BPS,
                  "note": "Half-done work."},
            done=resolved,
            expect=(200,),
        )  # fmt: skip

    # ---- reading back -------------------------------------------------------------------------

    async def notifications(self, person: Person) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = await self.call(
                self.api,
                "GET",
                "/v1/notifications",
                person=person,
                params={"limit": 200, "offset": len(found)},
            )
            found.extend(page)
            if len(page) < 200:
                return found


def _code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None
