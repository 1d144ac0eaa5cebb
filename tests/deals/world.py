"""A whole marketplace for deal tests, reached only through public interfaces.

People act through the HTTP API, through the Telegram emulator (as Telegram users: promoting the
bot, deleting a post) and through wallets on the local TON chain. The app runs its own loops: the
chain watcher, the platform wallet and the due-deal sweep, all on short intervals; tests move the
project clock to let deadlines and holds pass.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit

from chainfluence.config import Settings
from chainfluence.kit import time as clock
from chainfluence.kit.time import utcnow
from chainfluence.runtime import Runtime
from chainfluence.ton.escrow import EscrowOp
from chainfluence.ton.signing import OfflineWallet, WalletVersion
from chainfluence.ton.transactions import raw_address
from chainfluence_sandbox.telegram import RunningEmulator, TelegramEmulatorControl
from chainfluence_sandbox.telegram.schemas import ChatOut, MessageOut
from chainfluence_sandbox.ton import RunningTonEmulator, SandboxWallet, TonChain
from tests.conftest import app_client, make_settings, runtime_of, telegram_settings
from tests.factories import eventually, login
from tests.ton.chain_harness import fresh_address
from tests.wallets.ton_connect_wallet import TonConnectWallet, link_wallet

TON = 10**9
ADVERTISER_ID = 5_000_001
PUBLISHER_ID = 5_000_002
OPERATOR_ID = 900001  # listed as an operator by tests.conftest.make_settings
CHANNEL_USERNAME = "e2e_ads"
HOLD_SECONDS = 300


def world_settings(
    database_url: str,
    tmp_path: Path,
    emulator: RunningEmulator,
    ton: RunningTonEmulator,
    *,
    service_chat_id: int,
    fee_recipient: str,
) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        telegram={**telegram_settings(emulator), "service_chat_id": service_chat_id},
        ton={
            "api_url": ton.api_url,
            "watch_mode": "blocks",
            "watch_interval_seconds": 0.05,
            "wallet_interval_seconds": 0.05,
            "delivery_timeout_seconds": 60,
            "fee_recipient": fee_recipient,
        },
        jobs={"sweep_interval_seconds": 0.05},
        deals={"test_hold_seconds": HOLD_SECONDS, "probes_per_hold": 2, "probe_retry_seconds": 5},
    )


@dataclass
class World:
    settings: Settings
    control: TelegramEmulatorControl
    chain: TonChain
    channel: ChatOut
    service_chat_id: int
    fee_recipient: Address
    advertiser_key: TonConnectWallet
    publisher_key: TonConnectWallet
    client: httpx.AsyncClient = field(init=False)
    _headers: dict[int, dict[str, str]] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        return runtime_of(self.client)

    async def headers(self, user_id: int) -> dict[str, str]:
        """A fresh login each call: tests move the clock past tokens' lifetime."""
        self._headers[user_id] = await login(self.client, user_id)
        return self._headers[user_id]

    async def api(
        self, method: str, path: str, user_id: int, *, expect: int = 200, **kwargs: Any
    ) -> Any:
        response = await self.client.request(
            method, path, headers=await self.headers(user_id), **kwargs
        )
        assert response.status_code == expect, f"{method} {path}: {response.text}"
        return response.json()

    async def deal(self, deal_id: int) -> dict[str, Any]:
        deal: dict[str, Any] = await self.api("GET", f"/v1/deals/{deal_id}", ADVERTISER_ID)
        return deal

    async def until(self, deal_id: int, status: str, *, timeout: float = 20.0) -> dict[str, Any]:
        """Wait for the app's own loops to bring the deal to `status`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            deal = await self.deal(deal_id)
            if deal["status"] == status:
                return deal
            if asyncio.get_running_loop().time() > deadline:
                events = [e["event"] for e in deal["timeline"]]
                raise AssertionError(f"deal {deal_id} is {deal['status']}, not {status}: {events}")
            await asyncio.sleep(0.05)

    async def events(self, deal_id: int) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = await self.api(
            "GET", f"/v1/deals/{deal_id}/timeline", ADVERTISER_ID
        )
        return events

    async def documents(self, user_id: int) -> list[MessageOut]:
        """The documents the bot sent `user_id`, once there is one."""
        sent = await eventually(
            lambda: self.control.messages(user_id, sent_by_bot=True),
            lambda messages: any(m.document for m in messages),
        )
        return [m for m in sent if m.document]

    # --- the story's steps ----------------------------------------------------------------------

    async def make_deal(self, *, amount: str = "10", starts_in: dt.timedelta | None = None) -> int:
        """A campaign, the publisher's application for the channel, the advertiser's accept."""
        campaign = await self.api(
            "POST",
            "/v1/campaigns",
            ADVERTISER_ID,
            expect=201,
            json={
                "title": "Escrow ads launch",
                "description": "Tell crypto readers about safe ad deals.",
                "category": "crypto",
                "budget": "50",
                "creativeText": "Chainfluence: Telegram ads with escrow.",
                "preferredFormats": ["test"],
                "preferredCategories": ["crypto"],
            },
        )
        proposed = utcnow() + (starts_in or dt.timedelta(hours=1))
        offer = await self.api(
            "POST",
            f"/v1/campaigns/{campaign['id']}/offers",
            PUBLISHER_ID,
            expect=201,
            json={
                "channelId": str(self.channel.id),
                "amount": amount,
                "format": "test",
                "proposedDate": proposed.isoformat(),
                "message": "Happy to run it.",
            },
        )
        accepted = await self.api("POST", f"/v1/offers/{offer['id']}/accept", ADVERTISER_ID)
        deal_id: int = accepted["dealId"]
        return deal_id

    def advertiser_wallet(self) -> SandboxWallet:
        return SandboxWallet(
            self.chain,
            OfflineWallet(private_key=self.advertiser_key.seed, version=WalletVersion.v5r1),
        )

    async def pay(
        self,
        deal_id: int,
        *,
        amount_nano: int | None = None,
        request: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The advertiser's wallet app sends the payment request's TON Connect message (a fresh
        request, or one it got earlier)."""
        if request is None:
            request = await self.api("POST", f"/v1/deals/{deal_id}/payment", ADVERTISER_ID)
            assert request is not None
        (message,) = request["transaction"]["messages"]
        await self.advertiser_wallet().transfer(
            Address(message["address"]),
            amount_nano if amount_nano is not None else int(message["amount"]),
            body=Cell.one_from_boc(base64.b64decode(message["payload"])),
            state_init=StateInit.deserialize(
                Cell.one_from_boc(base64.b64decode(message["stateInit"])).begin_parse()
            ),
        )
        return request

    async def agree_creative(self, deal_id: int) -> None:
        """One change request on the campaign's draft, a second version, its approval."""
        await self.api(
            "POST",
            f"/v1/deals/{deal_id}/creatives/1/request-changes",
            PUBLISHER_ID,
            json={"comment": "Please add a link button for my readers."},
        )
        await self.api(
            "POST",
            f"/v1/deals/{deal_id}/creatives",
            ADVERTISER_ID,
            expect=201,
            json={
                "text": "Chainfluence: Telegram ads with escrow.",
                "entities": [{"type": "bold", "offset": 0, "length": 12}],
                "buttons": [{"text": "Open", "url": "https://chainfluence.example/start"}],
            },
        )
        await self.api("POST", f"/v1/deals/{deal_id}/creatives/2/approve", PUBLISHER_ID)

    async def pass_time(self, delta: dt.timedelta, *, settle: float = 0.3) -> None:
        """Move the project clock (app, Telegram and chain alike), then let the loops act."""
        clock.advance(delta)
        await asyncio.sleep(settle)

    async def funded_deal(self) -> int:
        deal_id = await self.make_deal()
        await self.pay(deal_id)
        await self.until(deal_id, "in_escrow")
        return deal_id

    async def live_deal(self) -> dict[str, Any]:
        deal_id = await self.funded_deal()
        await self.agree_creative(deal_id)
        await self.pass_time(dt.timedelta(hours=1, seconds=5))
        return await self.until(deal_id, "live")

    def received(self, address: Address | str) -> int:
        """Nanotons that messages brought to `address` (its balance less storage rent and fees)."""
        return sum(
            stored.tx.in_msg.value_nano
            for stored in self.chain.transactions(address)
            if stored.tx.in_msg is not None
        )

    def payouts(self, escrow: str, op: EscrowOp) -> int:
        """How many times the escrow executed `op` successfully on chain."""
        count = 0
        for stored in self.chain.transactions(escrow):
            message = stored.tx.in_msg
            if message is not None and message.op == op and not stored.tx.aborted:
                count += 1
        return count


@contextlib.asynccontextmanager
async def running(world: World, *, drain: bool = True) -> AsyncIterator[World]:
    """The app (API, jobs, watcher, wallet) over the world; can be stopped and started again.

    Without `drain` the app stops at once, cancelling whatever its jobs and loops were doing, as
    a killed process would; the database, Telegram and the chain carry on.
    """
    async with app_client(world.settings) as client:
        world.client = client
        yield world
        if drain:
            await runtime_of(client).queue.drain(timeout=30)


async def build_world(
    *,
    database_url: str,
    tmp_path: Path,
    emulator: RunningEmulator,
    control: TelegramEmulatorControl,
    chain: TonChain,
    ton: RunningTonEmulator,
) -> World:
    """Telegram users, a channel where the bot is an admin, a service chat; keys for wallets."""
    advertiser = await control.create_user("Ada", username="ada_ads", user_id=ADVERTISER_ID)
    owner = await control.create_user("Pavel", username="pavel_pub", user_id=PUBLISHER_ID)
    channel = await control.create_channel(
        "Escrow Ads Daily", owner_id=owner.id, username=CHANNEL_USERNAME, subscribers=12_000
    )
    await control.add_bot_as_admin(channel.id, by_user_id=owner.id)
    service = await control.create_group("Post checks", owner_id=owner.id)
    await control.add_member(service.id, (await control.bot()).id, by_user_id=owner.id)
    del advertiser
    fee_recipient = fresh_address("fee")
    settings = world_settings(
        database_url,
        tmp_path,
        emulator,
        ton,
        service_chat_id=service.id,
        fee_recipient=raw_address(fee_recipient),
    )
    return World(
        settings=settings,
        control=control,
        chain=chain,
        channel=channel,
        service_chat_id=service.id,
        fee_recipient=fee_recipient,
        advertiser_key=TonConnectWallet(version="v5r1"),
        publisher_key=TonConnectWallet(version="v5r1"),
    )


async def onboard(world: World) -> None:
    """Roles, proven wallets, the channel listed with a price for the test format, money."""
    runtime = world.runtime
    assert runtime.chain is not None
    assert runtime.chain.wallet is not None
    world.chain.fund(runtime.chain.wallet.address, 100 * TON)
    world.chain.fund(world.advertiser_wallet().address, 100 * TON)
    advertiser = await world.headers(ADVERTISER_ID)
    publisher = await world.headers(PUBLISHER_ID)
    await world.api("PATCH", "/v1/users/me", ADVERTISER_ID, json={"isAdvertiser": True})
    await world.api("PATCH", "/v1/users/me", PUBLISHER_ID, json={"isPublisher": True})
    await link_wallet(world.client, advertiser, world.advertiser_key)
    await link_wallet(world.client, publisher, world.publisher_key)
    listed = await world.api(
        "POST", "/v1/channels", PUBLISHER_ID, expect=201, json={"username": CHANNEL_USERNAME}
    )
    await world.api(
        "PATCH",
        f"/v1/channels/{listed['id']}",
        PUBLISHER_ID,
        json={
            "category": "crypto",
            "pricing": [{"format": "test", "price": 10, "enabled": True}],
        },
    )


Step = Callable[[World], Awaitable[None]]
