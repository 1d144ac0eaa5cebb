"""Real crashes: `chainfluence serve` as a child process, killed by SIGKILL mid-flight, restarted.

One deal goes through four kills, each at a fault point armed with CHAINFLUENCE_FAULT_POINT
(chainfluence.kit.faults): between recording the deposit and moving the deal, after Telegram
posted the ad but before the deal knows, in the middle of a probe, and after the payout message
was broadcast but before it is marked so. Each time the process dies with no shutdown at all;
a fresh one (the next fault armed, or none) finishes the step. The Telegram emulator and the
TON chain live in the test process, so they outlive every kill, and they are where the checks
look: the platform wallet's seqno and the messages it signed, the bot's sendMessage calls to the
channel, and every balance to the nanoton. The service runs at real timings (a 10 s hold), with
no clock moves: the child has its own clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chainfluence.config import Settings
from chainfluence.kit.faults import FaultPoint
from chainfluence.ton.escrow import EscrowOp
from chainfluence.ton.wallet import platform_wallet_for
from tests.deals.world import ADVERTISER_ID, PUBLISHER_ID, TON, World
from tests.processes import free_port

HOLD_SECONDS = 10
LEASE_SECONDS = 3


def _environment(settings: Settings, fault: FaultPoint | None) -> dict[str, str]:
    """The world's settings as the child reads them: environment variables only."""
    telegram, ton = settings.telegram, settings.ton
    assert telegram.bot_token is not None
    assert ton.api_url is not None
    assert ton.fee_recipient is not None
    values = {
        "DATABASE__URL": settings.database.url,
        "AUTH__JWT_SECRET": settings.auth.jwt_secret.get_secret_value(),
        "AUTH__OPERATORS": str(settings.auth.operators).replace(" ", ""),
        "TELEGRAM__BOT_TOKEN": telegram.bot_token.get_secret_value(),
        "TELEGRAM__API_BASE_URL": str(telegram.api_base_url),
        "TELEGRAM__EMULATOR_URL": str(telegram.emulator_url),
        "TELEGRAM__WEB_APP_URL": str(telegram.web_app_url),
        "TELEGRAM__SERVICE_CHAT_ID": str(telegram.service_chat_id),
        "TON__API_URL": ton.api_url,
        "TON__WATCH_MODE": "blocks",
        "TON__WATCH_INTERVAL_SECONDS": "0.1",
        "TON__WALLET_INTERVAL_SECONDS": "0.1",
        "TON__DELIVERY_TIMEOUT_SECONDS": "60",
        "TON__FEE_RECIPIENT": ton.fee_recipient,
        "JOBS__BACKOFF_SECONDS": "0.1",
        "JOBS__SWEEP_INTERVAL_SECONDS": "0.2",
        "DEALS__TEST_HOLD_SECONDS": str(HOLD_SECONDS),
        "DEALS__PROBES_PER_HOLD": "2",
        "DEALS__PROBE_RETRY_SECONDS": "1",
        "DEALS__PUBLISH_LEASE_SECONDS": str(LEASE_SECONDS),
        "DEALS__SWEEP_INTERVAL_SECONDS": "0.2",
        "RATE_LIMIT__ENABLED": "false",
        "UPLOADS__DIR": str(settings.uploads.dir),
        "PUBLIC_URL": "http://testserver",
        "LOG_LEVEL": "WARNING",
    }
    if fault is not None:
        values["FAULT_POINT"] = fault.value
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CHAINFLUENCE_")}
    return {**inherited, **{f"CHAINFLUENCE_{key}": value for key, value in values.items()}}


@dataclasses.dataclass
class Service:
    process: asyncio.subprocess.Process
    url: str

    async def killed(self, timeout: float = 60.0) -> int:
        """Wait for the process to kill itself at its fault point; its exit status."""
        return await asyncio.wait_for(self.process.wait(), timeout)


@contextlib.asynccontextmanager
async def service(
    world: World, tmp_path: Path, fault: FaultPoint | None, run: int
) -> AsyncIterator[Service]:
    """`chainfluence serve` over the world's database, Telegram and chain; `world.client` talks
    to it over real HTTP. Stopped with SIGTERM at the end if it is still alive."""
    port = free_port()
    log = (tmp_path / f"serve-{run}.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("chainfluence")),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env=_environment(world.settings, fault),
        cwd=tmp_path,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/healthz")).status_code == 200:
                        break
                if process.returncode is not None:
                    raise AssertionError(f"serve exited with {process.returncode}; see {log.name}")
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"serve did not start; see {log.name}")
            world.client = client
            yield Service(process, url)
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)
        log.close()


@dataclasses.dataclass(frozen=True)
class Observed:
    """What the world outside the service saw, read from the emulators, not from the service."""

    wallet_seqno: int
    signed_messages: int  # external messages the platform wallet accepted
    payout_messages: int  # internal messages the platform wallet sent
    channel_send_message_calls: int
    bot_posts_in_channel: int
    releases: int
    publisher_received: int
    fee_recipient_received: int
    escrow_balance: int
    escrow_fees: int  # what the escrow's own transactions cost (deployment, gas, storage)


async def observe(world: World, escrow: str) -> Observed:
    wallet = platform_wallet_for(world.settings)
    assert wallet is not None
    active = world.chain.account(wallet.address).status.value == "active"
    transactions = [s.tx for s in world.chain.transactions(wallet.address)]
    calls = await world.control.calls("sendMessage")
    return Observed(
        wallet_seqno=world.chain.run_get_method(wallet.address, "seqno").stack[0] if active else 0,
        signed_messages=sum(
            1 for tx in transactions if tx.in_msg and tx.in_msg.is_external and not tx.aborted
        ),
        payout_messages=sum(len(tx.out_msgs) for tx in transactions if not tx.aborted),
        channel_send_message_calls=sum(
            1 for c in calls if str(c.params.get("chat_id")) == str(world.channel.id) and c.ok
        ),
        bot_posts_in_channel=len(await world.control.messages(world.channel.id, sent_by_bot=True)),
        releases=world.payouts(escrow, EscrowOp.RELEASE),
        publisher_received=world.received(world.publisher_key.address),
        fee_recipient_received=world.received(world.fee_recipient),
        escrow_balance=world.chain.balance(escrow),
        escrow_fees=sum(s.tx.total_fees_nano for s in world.chain.transactions(escrow)),
    )


def _events(deal: dict[str, Any]) -> list[str]:
    return [str(e["event"]) for e in deal["timeline"]]


@pytest.mark.slow
async def test_a_deal_killed_at_every_fault_point_ends_with_one_post_and_one_payout(
    stopped_world: World, tmp_path: Path
) -> None:
    world = stopped_world
    rows: list[tuple[str, int, str, Observed]] = []
    escrow = ""

    # 1. The watcher records the deposit and dies before the deal moves.
    async with service(world, tmp_path, FaultPoint.deposit_recorded, 1) as serve:
        deal_id = await world.make_deal(amount="10")
        request = await world.pay(deal_id)
        escrow = str(request["rawAddress"])
        status = await serve.killed()
    # 2. Restarted: the deposit is found again, once. Telegram posts the ad; the service dies
    #    before it writes that down (the publisher's "post now" request dies with it).
    async with service(world, tmp_path, FaultPoint.publishing, 2) as serve:
        funded = await world.until(deal_id, "in_escrow")
        rows.append(("deposit_recorded", status, funded["status"], await observe(world, escrow)))
        await world.agree_creative(deal_id)
        with contextlib.suppress(httpx.TransportError):
            await world.client.post(
                f"/v1/deals/{deal_id}/post", headers=await world.headers(PUBLISHER_ID)
            )
        status = await serve.killed()
    # 3. Restarted: after the lease, "post now" finds the post instead of posting again. The
    #    first probe forwards the post to the service chat and the service dies.
    async with service(world, tmp_path, FaultPoint.probe, 3) as serve:
        await asyncio.sleep(LEASE_SECONDS + 0.5)
        posted: str | None = None
        # A probe due at once may kill the service before it answers; the deal is live anyway.
        with contextlib.suppress(httpx.TransportError):
            answer = await world.api("POST", f"/v1/deals/{deal_id}/post", PUBLISHER_ID)
            posted = answer["deal"]["status"]
        after_publishing = await observe(world, escrow)
        publishing_status = status
        status = await serve.killed()
    # 4. Restarted: the probes resume, the hold ends, the release is broadcast and the service
    #    dies before it marks it broadcast.
    async with service(world, tmp_path, FaultPoint.payout_broadcast, 4) as serve:
        checked = await world.deal(deal_id)
        posted = posted or checked["status"]
        rows.append(("publishing", publishing_status, posted, after_publishing))
        rows.append(("probe", status, checked["status"], await observe(world, escrow)))
        status = await serve.killed(timeout=HOLD_SECONDS + 60)
    # 5. Restarted with nothing armed: the broadcast payout is found on chain, not sent again.
    async with service(world, tmp_path, None, 5):
        released = await world.until(deal_id, "released", timeout=60)
        rows.append(("payout_broadcast", status, released["status"], await observe(world, escrow)))
        advertiser = await world.api("GET", f"/v1/deals/{deal_id}", ADVERTISER_ID)

    print("\nfault point       killed  after restart  " + "  ".join(Observed.__annotations__))
    for point, code, deal_status, seen in rows:
        figures = "  ".join(str(v) for v in seen.__dict__.values())
        print(f"{point:<17} {code:>6}  {deal_status:<13}  {figures}")

    fee = int(released["platformFeeNano"])
    price = int(released["amountNano"])
    # Until the payout: no message signed, one post, the price in the escrow less its own fees.
    held = Observed(
        wallet_seqno=0,
        signed_messages=0,
        payout_messages=0,
        channel_send_message_calls=0,
        bot_posts_in_channel=0,
        releases=0,
        publisher_received=0,
        fee_recipient_received=0,
        escrow_balance=price - rows[0][3].escrow_fees,
        escrow_fees=rows[0][3].escrow_fees,
    )
    posted = dataclasses.replace(held, channel_send_message_calls=1, bot_posts_in_channel=1)
    assert rows == [
        ("deposit_recorded", -9, "in_escrow", held),
        ("publishing", -9, "live", posted),
        ("probe", -9, "live", posted),
        (
            "payout_broadcast",
            -9,
            "released",
            Observed(
                wallet_seqno=1,
                signed_messages=1,
                payout_messages=1,
                channel_send_message_calls=1,
                bot_posts_in_channel=1,
                releases=1,
                publisher_received=price - fee,
                fee_recipient_received=fee,
                escrow_balance=0,
                escrow_fees=rows[3][3].escrow_fees,
            ),
        ),
    ]
    events = _events(advertiser)
    assert events.count("chain.deposit") == 1
    assert events.count("deposit_confirmed") == 1
    assert events.count("publish") == 1
    assert events.count("release_ordered") == 1
    assert events.count("release_confirmed") == 1
    assert advertiser["depositedNano"] == str(10 * TON)
