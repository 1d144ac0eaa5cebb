"""`chainfluence demo`: one whole deal, told as a story, on a throwaway sandbox.

It starts what `chainfluence serve` starts (API, jobs, chain watcher, platform wallet, bot, the
Telegram and TON emulators) in a temporary directory with its own SQLite file and free ports, then
plays the happy path as its two people would, over real HTTP: the public API for everything the
Mini App does, and the sandbox helpers (`/v1/sandbox/...`) for what their Telegram and wallet apps
would do and for moving the clock. Every fact it prints comes from an API answer; the payout is
checked to the nanoton. Any step that fails ends the run with a non-zero exit code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from chainfluence.config import Settings
from chainfluence.evidence import verify
from chainfluence.evidence.signing import KEY_PATH
from chainfluence.kit.logging import configure_logging
from chainfluence.kit.money import format_ton, ton_to_nano

__all__ = ["DemoFailed", "run_demo"]

Echo = Callable[[str], None]

_CHANNEL = "crypto_daily_sandbox"
_POLL_SECONDS = 0.1
_CREATIVE_V2 = "Chainfluence: Telegram ads with escrow. Your TON stays safe until the post runs."


class DemoFailed(Exception):
    pass


class _DemoSettings(Settings):
    """The demo's settings, and only them: no environment variable or .env file can point it at
    a real database, bot or chain."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def demo_settings(directory: Path) -> Settings:
    return _DemoSettings(
        database={"url": f"sqlite+aiosqlite:///{directory / 'demo.sqlite3'}"},
        uploads={"dir": str(directory / "uploads")},
        http={"host": "127.0.0.1", "port": 0},
        log_level="WARNING",
        # The story polls the API many times a second while it waits for the app's loops.
        rate_limit={"enabled": False},
        # The app's loops run every few seconds in `serve`; the demo has no time to wait.
        ton={"watch_interval_seconds": 0.1, "wallet_interval_seconds": 0.1},
        jobs={"sweep_interval_seconds": 0.2, "backoff_seconds": 0.1},
        deals={"sweep_interval_seconds": 0.1, "probes_per_hold": 2, "probe_retry_seconds": 5},
    )


def _short(value: str | None, keep: int = 10) -> str:
    if not value:
        return "-"
    return value if len(value) <= 2 * keep else f"{value[:keep]}…{value[-4:]}"


def _ton(nano: int | str) -> str:
    return f"{format_ton(int(nano))} TON"


class Story:
    """The API as the two people see it, and the printed story."""

    def __init__(self, client: httpx.AsyncClient, echo: Echo) -> None:
        self.client = client
        self.echo = echo
        self.tokens: dict[int, str] = {}
        self.step = 0

    def tell(self, text: str, *details: str) -> None:
        self.step += 1
        self.echo(f"{self.step:>2}. {text}")
        for line in details:
            self.echo(f"    {line}")

    async def call(
        self, method: str, path: str, *, as_user: int | None = None, json: Any = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[as_user]}"} if as_user else {}
        response = await self.client.request(method, path, headers=headers, json=json)
        if not response.is_success:
            raise DemoFailed(f"{method} {path} answered {response.status_code}: {response.text}")
        return response.json()

    async def deal(self, deal_id: int, as_user: int) -> dict[str, Any]:
        deal: dict[str, Any] = await self.call("GET", f"/v1/deals/{deal_id}", as_user=as_user)
        return deal

    async def until(
        self, deal_id: int, as_user: int, done: Callable[[dict[str, Any]], bool], what: str
    ) -> dict[str, Any]:
        """Wait for the app's own loops (chain watcher, sweeps, bot) to bring the deal along."""
        deadline = time.monotonic() + 20
        while True:
            deal = await self.deal(deal_id, as_user)
            if done(deal):
                return deal
            if time.monotonic() > deadline:
                events = [event["event"] for event in deal["timeline"]]
                raise DemoFailed(
                    f"deal #{deal_id} did not reach '{what}' (status {deal['status']}; "
                    f"timeline {events})"
                )
            await asyncio.sleep(_POLL_SECONDS)

    async def advance(self, seconds: float) -> str:
        moved = await self.call("POST", "/v1/sandbox/clock/advance", json={"seconds": seconds})
        now: str = moved["now"]
        return now


def _status(status: str) -> Callable[[dict[str, Any]], bool]:
    return lambda deal: bool(deal["status"] == status)


def _checks_passed(count: int) -> Callable[[dict[str, Any]], bool]:
    return lambda deal: sum(e["event"] == "post_check_passed" for e in deal["timeline"]) >= count


async def play(
    story: Story, *, publisher_id: int, advertiser_id: int, price: str, evidence: Path | None
) -> None:
    """The happy path: from two people opening the Mini App to the publisher being paid."""
    price_nano = ton_to_nano(price)
    pub, adv = publisher_id, advertiser_id

    logins = {}
    for user_id in (pub, adv):
        login = await story.call("POST", f"/v1/sandbox/login/{user_id}")
        story.tokens[user_id] = login["accessToken"]
        logins[user_id] = login["user"]
    alice, boris = logins[pub]["firstName"], logins[adv]["firstName"]
    await story.call("PATCH", "/v1/users/me", as_user=pub, json={"isPublisher": True})
    await story.call("PATCH", "/v1/users/me", as_user=adv, json={"isAdvertiser": True})
    story.tell(
        f"{alice} ({pub}) and {boris} ({adv}) open the Mini App: logged in with Telegram initData.",
        f"{alice} is a publisher, {boris} an advertiser.",
    )

    wallet_adv = await story.call("POST", f"/v1/sandbox/users/{adv}/wallet", json={"amount": 100})
    wallet_pub = await story.call("POST", f"/v1/sandbox/users/{pub}/wallet", json={"amount": 0})
    if not (wallet_adv["user"]["walletVerified"] and wallet_pub["user"]["walletVerified"]):
        raise DemoFailed("a wallet link did not leave the user with a verified wallet")
    story.tell(
        "Both connect a wallet with TON Connect; the backend verifies each ton_proof.",
        f"{boris:<6} {wallet_adv['address']}  {_ton(wallet_adv['balanceNano'])}",
        f"{alice:<6} {wallet_pub['address']}  {_ton(0)} (it only receives)",
    )

    channel = await story.call("POST", "/v1/channels", as_user=pub, json={"username": _CHANNEL})
    channel = await story.call(
        "PATCH",
        f"/v1/channels/{channel['id']}",
        as_user=pub,
        json={
            "category": "crypto",
            "pricing": [{"format": "test", "price": price, "enabled": True}],
        },
    )
    story.tell(
        f"{alice} lists @{channel['username']} ({channel['subscribers']:,} subscribers; the bot "
        f"is an admin there) and prices the test format at {_ton(price_nano)}."
    )

    campaign = await story.call(
        "POST",
        "/v1/campaigns",
        as_user=adv,
        json={
            "title": "Escrow ads launch",
            "description": "Tell crypto readers about safe ad deals.",
            "category": "crypto",
            "budget": price,
            "creativeText": "Chainfluence: Telegram ads with escrow.",
            "preferredFormats": ["test"],
            "preferredCategories": ["crypto"],
        },
    )
    story.tell(f'{boris} starts campaign #{campaign["id"]} "{campaign["title"]}".')

    now = dt.datetime.fromisoformat((await story.call("GET", "/v1/sandbox/clock"))["now"])
    proposed = now + dt.timedelta(hours=1)
    offer = await story.call(
        "POST",
        f"/v1/campaigns/{campaign['id']}/offers",
        as_user=pub,
        json={
            "channelId": channel["id"],
            "amount": price,
            "format": "test",
            "proposedDate": proposed.isoformat(),
            "message": "Happy to run it.",
        },
    )
    story.tell(
        f"{alice} applies: offer #{offer['id']}, {_ton(price_nano)} for the test format, "
        f"to run at {proposed:%H:%M} UTC."
    )

    accepted = await story.call("POST", f"/v1/offers/{offer['id']}/accept", as_user=adv)
    deal_id: int = accepted["dealId"]
    deal = await story.deal(deal_id, adv)
    story.tell(f"{boris} accepts: deal #{deal_id} is {deal['status']}.")

    paid = await story.call("POST", f"/v1/sandbox/deals/{deal_id}/pay")
    deal = await story.until(deal_id, adv, _status("in_escrow"), "in_escrow")
    fee = int(deal["platformFeeNano"])
    story.tell(
        f"{boris}'s wallet pays the payment request: the deal's escrow contract holds the price.",
        f"escrow {paid['escrowAddress']}",
        f"deposited {_ton(deal['depositedNano'])}, deposit tx {_short(deal['depositTxHash'])}",
        f"deal #{deal_id} is {deal['status']}; the platform fee will be {_ton(fee)}",
    )

    await story.call(
        "POST",
        f"/v1/deals/{deal_id}/creatives/1/request-changes",
        as_user=pub,
        json={"comment": "Please add a button for my readers."},
    )
    await story.call(
        "POST",
        f"/v1/deals/{deal_id}/creatives",
        as_user=adv,
        json={
            "text": _CREATIVE_V2,
            "entities": [{"type": "bold", "offset": 0, "length": 12}],
            "buttons": [{"text": "Open", "url": "https://chainfluence.example/start"}],
        },
    )
    await story.call("POST", f"/v1/deals/{deal_id}/creatives/2/approve", as_user=pub)
    deal = await story.deal(deal_id, adv)
    story.tell(
        f"Creative: {alice} asks for a button; {boris} sends version 2; {alice} approves it.",
        f'"{_short(deal["creativeText"], 24)}" with an Open button',
        f"content hash {_short(deal['contentHash'])}, to be posted at {deal['scheduledAt']}",
    )

    await story.advance(3605)
    deal = await story.until(deal_id, adv, _status("live"), "live")
    story.tell(
        f"Clock +1 h: the bot publishes the post in @{channel['username']} on its own.",
        f"message id {deal['postId']}, live; it must stay up unchanged for {deal['duration']} s.",
    )

    half = deal["duration"] // 2
    await story.advance(half)
    deal = await story.until(deal_id, adv, _checks_passed(1), "post_check_passed")
    story.tell(f"Clock +{half} s: the bot checks the post: still there, unchanged.")

    await story.advance(deal["duration"] - half + 10)
    deal = await story.until(deal_id, adv, _status("released"), "released")
    payout = price_nano - fee
    story.tell(
        f"Clock +{deal['duration'] - half + 10} s: the hold is over; the escrow pays {alice}.",
        f"{_ton(payout)} to {alice}, {_ton(fee)} platform fee; payout tx {_short(deal['txHash'])}",
    )

    story.echo("")
    story.echo(f"Timeline of deal #{deal_id}:")
    for event in await story.call("GET", f"/v1/deals/{deal_id}/timeline", as_user=adv):
        moved = f"{event['fromStatus'] or '·'} → {event['toStatus']}" if event["toStatus"] else ""
        actor = event["actorType"] + (f" {event['actorId']}" if event["actorId"] else "")
        tx = f"  tx {_short(event['txHash'])}" if event["txHash"] else ""
        story.echo(f"  {event['createdAt'][11:19]}  {event['event']:<28} {moved:<24} {actor}{tx}")

    adv_after = await story.call("GET", f"/v1/sandbox/users/{adv}/wallet")
    pub_after = await story.call("GET", f"/v1/sandbox/users/{pub}/wallet")
    story.echo("")
    story.echo("Wallets on the local chain:")
    story.echo(
        f"  {boris:<6} (advertiser) {_ton(wallet_adv['balanceNano'])} → "
        f"{_ton(adv_after['balanceNano'])}: the price, plus the wallet's fees, minus the gas "
        "money the escrow returned after paying out"
    )
    story.echo(f"  {alice:<6} (publisher)  {_ton(0)} → {_ton(pub_after['balanceNano'])}")
    if int(pub_after["balanceNano"]) != payout:
        held = _ton(pub_after["balanceNano"])
        raise DemoFailed(f"{alice}'s wallet holds {held}, not the payout {_ton(payout)}")
    story.echo("")
    await keep_evidence(story, deal_id, as_user=adv, path=evidence)


async def keep_evidence(story: Story, deal_id: int, *, as_user: int, path: Path | None) -> None:
    """Save the deal's signed evidence pack and check it as anyone would, with the published key."""
    pack = await story.call("GET", f"/v1/deals/{deal_id}/evidence", as_user=as_user)
    keys = await story.call("GET", KEY_PATH)
    named = pack["signature"]["keyId"]
    published = [key for key in keys["keys"] if key["keyId"] == named]
    if not published:
        raise DemoFailed(f"the pack's key {named} is not published at {KEY_PATH}")
    public_key = published[0]["publicKey"]
    if path is None:
        handle, name = tempfile.mkstemp(prefix="chainfluence-demo-evidence-", suffix=".json")
        os.close(handle)
        path = Path(name)
    text = json.dumps(pack, indent=1, ensure_ascii=False) + "\n"
    await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    report = verify.check(pack, bytes.fromhex(public_key))
    if not report.ok:
        raise DemoFailed("the evidence pack does not verify: " + "; ".join(report.problems))
    story.tell(
        f"The signed evidence pack of deal #{deal_id} is in {path}",
        *report.notes,
        "Check it yourself (it needs nothing but the file and the public key):",
        f"  chainfluence evidence verify {path} --key {public_key}",
    )


async def run_demo(*, price: str = "10", echo: Echo = print, evidence: Path | None = None) -> int:
    """Play the demo; 0 when the whole story ran, 1 when a step failed (it says which).

    The deal's evidence pack is kept in `evidence` (default: a new file in the system's
    temporary directory), outside the throwaway sandbox."""
    from chainfluence.runner import serving
    from chainfluence_sandbox.services import sandbox_services

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chainfluence-demo-") as directory:
        settings = demo_settings(Path(directory))
        configure_logging(json=False, level=settings.log_level)
        async with (
            sandbox_services(settings) as sandbox,
            serving(sandbox, host=None, port=0) as url,
        ):
            world, telegram, ton = sandbox.world, sandbox.telegram, sandbox.ton
            if world is None or telegram is None or ton is None:
                echo("The demo needs the Telegram and TON emulators; they did not start.")
                return 1
            echo("Chainfluence demo: one whole deal on a throwaway sandbox (no network, no money).")
            echo(f"API {url}/docs · Telegram {telegram.base_url} · TON chain {ton.base_url}")
            echo("")
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                story = Story(client, echo)
                try:
                    await play(
                        story,
                        publisher_id=world.publisher_id,
                        advertiser_id=world.advertiser_id,
                        price=price,
                        evidence=evidence,
                    )
                except (DemoFailed, httpx.HTTPError) as exc:
                    echo(f"✗ step {story.step + 1} failed: {exc}")
                    return 1
    echo("")
    echo(f"Demo finished in {time.monotonic() - started:.1f} s.")
    return 0
