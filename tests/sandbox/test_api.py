"""The sandbox helper routes (/v1/sandbox) over HTTP, with the emulators `serve` starts.

Each helper acts as a person's Telegram or wallet app through the real API: a login yields a token
the API accepts, a wallet is linked only through the real ton_proof verification, a payment is a
real transfer the chain watcher sees. In production mode none of the routes exist.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.app import create_app
from chainfluence.config import SANDBOX_PLATFORM_MNEMONIC, Settings
from chainfluence.kit import time as clock
from chainfluence.kit.db import create_engine
from chainfluence.migrations import migrate
from chainfluence_sandbox import api as sandbox_api
from chainfluence_sandbox.services import SandboxServices, sandbox_services, state_file
from tests.conftest import REDIS_URL, make_settings, runtime_of
from tests.factories import eventually
from tests.wallets.ton_connect_wallet import TonConnectWallet, link_wallet

TON = 10**9
PUBLISHER = 7000000002  # owns @crypto_daily_sandbox in the seeded world
ADVERTISER = 7000000003
PROOF_DOMAIN = "app.chainfluence.example"


@dataclass
class Sandbox:
    client: httpx.AsyncClient
    services: SandboxServices

    async def call(
        self, method: str, path: str, *, as_user: int | None = None, expect: int = 200, **kw: Any
    ) -> Any:
        if as_user is not None:
            kw["headers"] = await self.headers(as_user)
        response = await self.client.request(method, path, **kw)
        assert response.status_code == expect, f"{method} {path}: {response.text}"
        return response.json()

    async def headers(self, user_id: int) -> dict[str, str]:
        login = await self.call("POST", f"/v1/sandbox/login/{user_id}")
        return {"Authorization": login["authorization"]}

    async def deal(self, deal_id: int) -> dict[str, Any]:
        deal: dict[str, Any] = await self.call("GET", f"/v1/deals/{deal_id}", as_user=ADVERTISER)
        return deal

    async def until(self, deal_id: int, status: str) -> dict[str, Any]:
        return await eventually(
            lambda: self.deal(deal_id), lambda deal: deal["status"] == status, timeout=20
        )

    async def open_deal(self, *, price: str = "10", sandbox_advertiser: bool = True) -> int:
        """Roles, proven wallets, the seeded channel priced, a campaign, an application, the
        accept: a pending deal for the test format, scheduled an hour from now."""
        await self.call("PATCH", "/v1/users/me", as_user=PUBLISHER, json={"isPublisher": True})
        await self.call("PATCH", "/v1/users/me", as_user=ADVERTISER, json={"isAdvertiser": True})
        await self.call("POST", f"/v1/sandbox/users/{PUBLISHER}/wallet", json={"amount": 0})
        if sandbox_advertiser:
            await self.call("POST", f"/v1/sandbox/users/{ADVERTISER}/wallet")
        channel = await self.call(
            "POST",
            "/v1/channels",
            as_user=PUBLISHER,
            expect=201,
            json={"username": "crypto_daily_sandbox"},
        )
        await self.call(
            "PATCH",
            f"/v1/channels/{channel['id']}",
            as_user=PUBLISHER,
            json={"category": "crypto", "pricing": [{"format": "test", "price": price}]},
        )
        campaign = await self.call(
            "POST",
            "/v1/campaigns",
            as_user=ADVERTISER,
            expect=201,
            json={"title": "Sandbox launch", "category": "crypto", "creativeText": "Try it."},
        )
        now = await self.call("GET", "/v1/sandbox/clock")
        offer = await self.call(
            "POST",
            f"/v1/campaigns/{campaign['id']}/offers",
            as_user=PUBLISHER,
            expect=201,
            json={
                "channelId": channel["id"],
                "amount": price,
                "format": "test",
                "proposedDate": _plus_hour(now["now"]),
            },
        )
        accepted = await self.call("POST", f"/v1/offers/{offer['id']}/accept", as_user=ADVERTISER)
        deal_id: int = accepted["dealId"]
        return deal_id

    async def live_deal(self) -> dict[str, Any]:
        deal_id = await self.open_deal()
        await self.call("POST", f"/v1/sandbox/deals/{deal_id}/pay")
        await self.call("POST", f"/v1/deals/{deal_id}/creatives/1/approve", as_user=PUBLISHER)
        await self.call("POST", "/v1/sandbox/clock/advance", json={"seconds": 3605})
        return await self.until(deal_id, "live")


def _plus_hour(iso: str) -> str:
    return (dt.datetime.fromisoformat(iso) + dt.timedelta(hours=1)).isoformat()


def sandbox_settings(
    database_url: str, tmp_path: Path, *, bot_token: str | None = None, **overrides: Any
) -> Settings:
    """What `serve` runs with (no bot token, no TON endpoint: both emulators), loops made fast."""
    return make_settings(
        database_url,
        tmp_path,
        telegram={"bot_token": bot_token},
        ton={
            "watch_interval_seconds": 0.05,
            "wallet_interval_seconds": 0.05,
            "ton_proof_domains": [PROOF_DOMAIN, "localhost"],
        },
        jobs={"sweep_interval_seconds": 0.05},
        deals={"sweep_interval_seconds": 0.05, "probes_per_hold": 2, "probe_retry_seconds": 5},
        **overrides,
    )


STATE_KINDS = ("ton-chain", "sandbox-wallets", "sandbox-clock")


@contextlib.asynccontextmanager
async def running_sandbox(settings: Settings, *, forget: bool = True) -> AsyncIterator[Sandbox]:
    """The app over the emulators, as `serve` runs it; `forget` drops their saved state after."""
    try:
        async with sandbox_services(settings) as services:
            app = create_app(services.settings, services=services)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://testserver"
                ) as client:
                    client.app = app  # type: ignore[attr-defined]
                    yield Sandbox(client, services)
                    await runtime_of(client).queue.drain(timeout=30)
    finally:
        # The session's SQLite file is shared by the tests: so would the chain and keys be.
        for kind in STATE_KINDS if forget else ():
            path = state_file(settings, kind)
            if path is not None:
                path.unlink(missing_ok=True)


@pytest.fixture
async def sandbox(db: AsyncEngine, database_url: str, tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with running_sandbox(sandbox_settings(database_url, tmp_path)) as running:
        yield running


# --- login ----------------------------------------------------------------------------------------


async def test_login_returns_initdata_and_a_token_the_api_accepts(sandbox: Sandbox) -> None:
    login = await sandbox.call("POST", f"/v1/sandbox/login/{ADVERTISER}")
    me = await sandbox.call(
        "GET", "/v1/users/me", headers={"Authorization": f"Bearer {login['accessToken']}"}
    )
    # The initData is genuine: the real login and the `tma` scheme accept it as it is.
    direct = await sandbox.call("POST", "/v1/auth/login", json={"initData": login["initData"]})
    via_tma = await sandbox.call(
        "GET", "/v1/users/me", headers={"Authorization": f"tma {login['initData']}"}
    )

    assert login["authorization"] == f"Bearer {login['accessToken']}"
    assert login["user"]["id"] == str(ADVERTISER)
    assert me["id"] == str(ADVERTISER)
    assert me["username"] == "boris_ads"
    assert direct["user"]["id"] == via_tma["id"] == str(ADVERTISER)


async def test_login_of_an_unknown_person_creates_them_in_telegram(sandbox: Sandbox) -> None:
    login = await sandbox.call(
        "POST", "/v1/sandbox/login/555000111", json={"firstName": "Nina", "username": "nina_ads"}
    )
    world = await sandbox.call("GET", "/v1/sandbox")
    again = await sandbox.call("POST", "/v1/sandbox/login/555000111")

    assert login["user"]["firstName"] == "Nina"
    assert login["user"]["username"] == "nina_ads"
    assert {"id": "555000111", "name": "Nina", "username": "nina_ads", "role": "person"} in world[
        "telegram"
    ]["people"]
    assert again["user"]["id"] == "555000111"


async def test_login_refuses_the_bot_and_bad_profiles(sandbox: Sandbox) -> None:
    bot = await sandbox.call("POST", "/v1/sandbox/login/7000000001", expect=409)
    taken = await sandbox.call(
        "POST", "/v1/sandbox/login/555000112", json={"username": "boris_ads"}, expect=409
    )
    unknown_field = await sandbox.call(
        "POST", "/v1/sandbox/login/555000113", json={"nickname": "x"}, expect=422
    )

    assert bot["code"] == taken["code"] == "sandbox_telegram_refused"
    assert unknown_field["code"] == "validation_error"


# --- wallets --------------------------------------------------------------------------------------


async def test_wallet_is_funded_and_linked_through_the_ton_proof_verification(
    sandbox: Sandbox, db: AsyncEngine
) -> None:
    linked = await sandbox.call(
        "POST", f"/v1/sandbox/users/{ADVERTISER}/wallet", json={"amount": "12.5"}
    )
    me = await sandbox.call("GET", "/v1/users/me", as_user=ADVERTISER)
    async with db.connect() as conn:
        wallet = (
            await conn.execute(
                text("SELECT address, proof_domain, public_key FROM wallets WHERE user_id = :u"),
                {"u": ADVERTISER},
            )
        ).one()
        challenges = (
            await conn.execute(
                text("SELECT used_at FROM ton_proof_payloads WHERE user_id = :u"),
                {"u": ADVERTISER},
            )
        ).all()

    assert linked["user"]["walletVerified"] is True
    assert me["walletVerified"] is True
    assert me["walletAddress"] == linked["address"]
    assert linked["balanceNano"] == str(12_500_000_000)
    assert linked["funded"] == "12.5"
    assert wallet.address == linked["rawAddress"]
    assert wallet.proof_domain == PROOF_DOMAIN
    key = sandbox.services.keyring and sandbox.services.keyring.for_user(ADVERTISER)
    assert key is not None
    assert wallet.public_key == key.public_key.hex()
    # The challenge came from the real payload route and the real verification used it up.
    assert [c.used_at is not None for c in challenges] == [True]


async def test_wallet_asked_again_is_topped_up_and_stays_the_same(sandbox: Sandbox) -> None:
    first = await sandbox.call("POST", f"/v1/sandbox/users/{PUBLISHER}/wallet")
    second = await sandbox.call("POST", f"/v1/sandbox/users/{PUBLISHER}/wallet", json={"amount": 5})
    shown = await sandbox.call("GET", f"/v1/sandbox/users/{PUBLISHER}/wallet")
    world = await sandbox.call("GET", "/v1/sandbox")

    assert second["rawAddress"] == first["rawAddress"] == shown["rawAddress"]
    # 100 TON, then 5 more; the chain takes storage rent for the seconds in between (nanotons).
    assert 105 * TON - 1_000 <= int(shown["balanceNano"]) <= 105 * TON
    assert [w["userId"] for w in world["wallets"]] == [str(PUBLISHER)]


async def test_a_proof_the_verification_rejects_links_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wallet app signing for a domain the deployment does not accept: the real check refuses.
    monkeypatch.setattr(sandbox_api, "_proof_domain", lambda runtime: "evil.example")

    refused = await sandbox.call("POST", f"/v1/sandbox/users/{ADVERTISER}/wallet", expect=400)
    me = await sandbox.call("GET", "/v1/users/me", as_user=ADVERTISER)

    assert refused["code"] == "ton_proof_domain_not_allowed"
    assert refused["message"].startswith("POST /v1/users/me/wallet: ")
    assert me["walletVerified"] is False


async def test_wallet_of_a_user_without_one_is_not_found(sandbox: Sandbox) -> None:
    missing = await sandbox.call("GET", f"/v1/sandbox/users/{ADVERTISER}/wallet", expect=404)
    too_much = await sandbox.call(
        "POST", f"/v1/sandbox/users/{ADVERTISER}/wallet", json={"amount": "2000000"}, expect=409
    )

    assert missing["code"] == "sandbox_wallet_not_found"
    assert too_much["code"] == "sandbox_wallet_refused"


# --- paying a deal --------------------------------------------------------------------------------


async def test_pay_funds_the_deals_escrow_from_the_advertisers_wallet(sandbox: Sandbox) -> None:
    deal_id = await sandbox.open_deal(price="10")
    before = await sandbox.call("GET", f"/v1/sandbox/users/{ADVERTISER}/wallet")

    paid = await sandbox.call("POST", f"/v1/sandbox/deals/{deal_id}/pay")
    deal = await sandbox.until(deal_id, "in_escrow")
    after = await sandbox.call("GET", f"/v1/sandbox/users/{ADVERTISER}/wallet")

    assert paid["status"] == "in_escrow"
    assert paid["sentNano"] == paid["depositedNano"] == str(10 * TON)
    assert paid["missingNano"] == "0"
    assert deal["depositedNano"] == str(10 * TON)
    assert deal["depositTxHash"]
    assert sandbox.services.ton is not None
    # On chain: the price, less what deploying and running the escrow took from it.
    escrow_balance = sandbox.services.ton.chain.balance(deal["escrowAddress"])
    assert 10 * TON - TON // 100 < escrow_balance <= 10 * TON
    spent = int(before["balanceNano"]) - int(after["balanceNano"])
    assert 10 * TON < spent < 10 * TON + TON // 10  # the price and the wallet's fees
    # Paying twice is refused by the API itself: the deal no longer waits for money.
    again = await sandbox.call("POST", f"/v1/sandbox/deals/{deal_id}/pay", expect=409)
    assert again["code"] == "deal_not_pending"


async def test_pay_with_an_amount_plays_an_underpayment(sandbox: Sandbox) -> None:
    deal_id = await sandbox.open_deal(price="10")

    paid = await sandbox.call("POST", f"/v1/sandbox/deals/{deal_id}/pay", json={"amount": "4"})

    assert paid["status"] == "pending"
    assert paid["depositedNano"] == str(4 * TON)
    assert paid["missingNano"] == str(6 * TON)


async def test_pay_refuses_a_wallet_the_sandbox_does_not_hold(sandbox: Sandbox) -> None:
    deal_id = await sandbox.open_deal(sandbox_advertiser=False)
    await link_wallet(
        sandbox.client, await sandbox.headers(ADVERTISER), TonConnectWallet(version="v5r1")
    )

    refused = await sandbox.call("POST", f"/v1/sandbox/deals/{deal_id}/pay", expect=409)
    deal = await sandbox.deal(deal_id)

    assert refused["code"] == "sandbox_wallet_unknown"
    assert deal["status"] == "pending"
    assert deal["depositedNano"] == "0"


async def test_pay_refuses_what_the_wallet_cannot_cover(sandbox: Sandbox) -> None:
    deal_id = await sandbox.open_deal(price="150")

    refused = await sandbox.call("POST", f"/v1/sandbox/deals/{deal_id}/pay", expect=409)

    assert refused["code"] == "sandbox_wallet_insufficient_funds"
    assert "100 TON" in refused["message"]
    assert (await sandbox.deal(deal_id))["depositedNano"] == "0"


async def test_pay_for_an_unknown_deal_or_of_nothing_is_refused(sandbox: Sandbox) -> None:
    missing = await sandbox.call("POST", "/v1/sandbox/deals/999/pay", expect=404)
    nothing = await sandbox.call(
        "POST", "/v1/sandbox/deals/999/pay", json={"amount": "0"}, expect=422
    )

    assert missing["code"] == "deal_not_found"
    assert nothing["code"] == "validation_error"


# --- the clock ------------------------------------------------------------------------------------


async def test_clock_advance_lets_the_deposit_deadline_pass(sandbox: Sandbox) -> None:
    deal_id = await sandbox.open_deal()
    before = await sandbox.call("GET", "/v1/sandbox/clock")

    moved = await sandbox.call("POST", "/v1/sandbox/clock/advance", json={"seconds": 3700})
    cancelled = await sandbox.until(deal_id, "cancelled")

    moved_by = dt.datetime.fromisoformat(moved["now"]) - dt.datetime.fromisoformat(before["now"])
    assert dt.timedelta(seconds=3700) <= moved_by < dt.timedelta(seconds=3760)
    assert [e for e in cancelled["timeline"] if e["event"] == "deposit_expired"]


@pytest.mark.parametrize("seconds", [0, -5, 10**9])
async def test_clock_refuses_to_move_back_or_absurdly_far(sandbox: Sandbox, seconds: int) -> None:
    refused = await sandbox.call(
        "POST", "/v1/sandbox/clock/advance", json={"seconds": seconds}, expect=422
    )

    assert refused["code"] == "validation_error"


async def test_a_restarted_sandbox_keeps_its_time_wallets_and_chain(tmp_path: Path) -> None:
    # What `serve` keeps under ./var/ next to its SQLite file: here a file of the test's own.
    settings = sandbox_settings(f"sqlite+aiosqlite:///{tmp_path}/serve.sqlite3", tmp_path)
    engine = create_engine(settings.database.url)
    await migrate.upgrade(engine)
    await engine.dispose()
    async with running_sandbox(settings, forget=False) as first:
        wallet = await first.call("POST", f"/v1/sandbox/users/{ADVERTISER}/wallet")
        moved = await first.call("POST", "/v1/sandbox/clock/advance", json={"seconds": 86400})
    clock.reset()  # a new process starts at real time

    async with running_sandbox(settings) as restarted:
        now = await restarted.call("GET", "/v1/sandbox/clock")
        again = await restarted.call("GET", f"/v1/sandbox/users/{ADVERTISER}/wallet")
        me = await restarted.call("GET", "/v1/users/me", as_user=ADVERTISER)

    assert now["now"] >= moved["now"]
    assert again["rawAddress"] == wallet["rawAddress"]
    assert again["balanceNano"] == wallet["balanceNano"]
    assert me["walletAddress"] == wallet["address"]


# --- the channel owner ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "body", "reason"),
    [
        ("delete", None, "The post was deleted before its hold ended."),
        (
            "edit",
            {"text": "Something else entirely"},
            "The advertiser refused the edit of the post.",
        ),
    ],
)
async def test_owner_tampering_with_the_post_refunds_the_advertiser(
    sandbox: Sandbox, action: str, body: dict[str, str] | None, reason: str
) -> None:
    deal = await sandbox.live_deal()

    post = await sandbox.call("POST", f"/v1/sandbox/deals/{deal['id']}/post/{action}", json=body)
    await sandbox.call("POST", "/v1/sandbox/clock/advance", json={"seconds": 310})
    if action == "edit":
        # An edit waits for the advertiser, who refuses it.
        await sandbox.until(deal["id"], "edit_pending")
        await sandbox.call("POST", f"/v1/deals/{deal['id']}/edit/refuse", as_user=ADVERTISER)
    refunded = await sandbox.until(deal["id"], "refunded")

    assert post["messageId"] == deal["postId"]
    assert post["byUserId"] == str(PUBLISHER)
    if action == "delete":
        assert post["deletedAt"] is not None
    else:
        assert post["text"] == "Something else entirely"
        assert post["editedAt"] is not None
    assert refunded["closeReason"] == reason


async def test_post_actions_need_a_published_post(sandbox: Sandbox) -> None:
    deal_id = await sandbox.open_deal()

    not_posted = await sandbox.call("POST", f"/v1/sandbox/deals/{deal_id}/post/delete", expect=409)
    unknown = await sandbox.call(
        "POST", "/v1/sandbox/deals/999/post/edit", json={"text": "x"}, expect=404
    )

    assert not_posted["code"] == "deal_not_posted"
    assert unknown["code"] == "deal_not_found"


# --- the world and the docs -----------------------------------------------------------------------


async def test_world_shows_the_demo_people_channel_and_emulators(sandbox: Sandbox) -> None:
    world = await sandbox.call("GET", "/v1/sandbox")
    schema = await sandbox.call("GET", "/openapi.json")

    people = {p["id"]: p["role"] for p in world["telegram"]["people"]}
    assert people[str(PUBLISHER)] == "publisher: owns @crypto_daily_sandbox"
    assert people[str(ADVERTISER)] == "advertiser"
    channel = next(c for c in world["telegram"]["channels"] if c["username"])
    assert channel["username"] == "crypto_daily_sandbox"
    assert channel["ownerId"] == str(PUBLISHER)
    assert world["ton"]["apiUrl"].endswith("/api/v2")
    assert world["telegram"]["controlDocsUrl"].endswith("/docs")
    assert schema["tags"][0]["name"] == "sandbox"
    assert "POST /v1/sandbox/deals/{dealId}/pay" in schema["tags"][0]["description"]
    sandbox_paths = [p for p in schema["paths"] if p.startswith("/v1/sandbox")]
    # The helpers (8) and the wallet app's JS bridge: its script, wallets list, connect, send.
    assert len(sandbox_paths) == 12
    assert "/v1/sandbox/wallet-app/{user_id}/bridge.js" in sandbox_paths
    for path in sandbox_paths:
        for operation in schema["paths"][path].values():
            assert operation["tags"] == ["sandbox"]
            assert operation.get("description") or operation.get("summary"), path


async def test_helpers_of_an_emulator_that_does_not_run_say_so(
    db: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    # A sandbox with a bot token configured talks to that bot's Telegram: no Telegram emulator.
    settings = sandbox_settings(database_url, tmp_path, bot_token="1:configured")
    async with running_sandbox(settings) as partial:
        refused = await partial.call("POST", f"/v1/sandbox/login/{ADVERTISER}", expect=409)
        wallet = await partial.call("POST", f"/v1/sandbox/users/{ADVERTISER}/wallet", expect=409)
        world = await partial.call("GET", "/v1/sandbox")
        await partial.call("POST", "/v1/sandbox/clock/advance", json={"seconds": 1})

    assert refused["code"] == wallet["code"] == "sandbox_emulator_not_running"
    assert "CHAINFLUENCE_TELEGRAM__BOT_TOKEN" in refused["message"]
    assert world["telegram"] is None
    assert world["ton"] is not None


# --- production -----------------------------------------------------------------------------------

PRODUCTION: dict[str, Any] = {
    "mode": "production",
    "database": {"url": "postgresql+asyncpg://app@127.0.0.1:9/chainfluence"},
    "redis": {"url": REDIS_URL},
    "auth": {"jwt_secret": "a-real-secret-that-is-long-enough-0123456789", "operators": [42]},
    "telegram": {"bot_token": "123:real", "service_chat_id": -1002000000001},
    "ton": {
        "network": "testnet",
        "api_url": "http://127.0.0.1:9/api/v2",
        "fee_recipient": "0:" + "ab" * 32,
        "wallet_mnemonic": SANDBOX_PLATFORM_MNEMONIC,
    },
    "evidence": {"signing_key": "5e" * 32},
}


SANDBOX_CALLS = [
    ("GET", "/v1/sandbox"),
    ("GET", "/v1/sandbox/clock"),
    ("POST", f"/v1/sandbox/login/{ADVERTISER}"),
    ("GET", f"/v1/sandbox/users/{ADVERTISER}/wallet"),
    ("POST", f"/v1/sandbox/users/{ADVERTISER}/wallet"),
    ("POST", "/v1/sandbox/deals/1/pay"),
    ("POST", "/v1/sandbox/clock/advance"),
    ("POST", "/v1/sandbox/deals/1/post/delete"),
    ("POST", "/v1/sandbox/deals/1/post/edit"),
]


async def test_production_mode_does_not_expose_the_sandbox_routes(tmp_path: Path) -> None:
    # Even handed running emulators, a production app mounts none of their helpers.
    production = Settings(_env_file=None, **PRODUCTION)  # type: ignore[arg-type]
    started = sandbox_settings(f"sqlite+aiosqlite:///{tmp_path}/s.sqlite3", tmp_path)
    async with sandbox_services(started) as services:
        assert services.running
        app = create_app(production, services=services, consume_jobs=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                statuses = {
                    path: (await client.request(method, path, json={})).status_code
                    for method, path in SANDBOX_CALLS
                }
                schema = (await client.get("/openapi.json")).json()
                clock_moved = (await client.post("/v1/sandbox/clock/advance")).status_code

    assert set(statuses.values()) == {404}, statuses
    assert clock_moved == 404
    assert not [p for p in schema["paths"] if p.startswith("/v1/sandbox")]
    assert "sandbox" not in [tag["name"] for tag in schema.get("tags", [])]
    assert "/v1/auth/login" in schema["paths"]


# --- the wallet app as a TON Connect JS bridge (the pages' browser test drives it whole) ---------


async def _bridge_connect(sandbox: Sandbox, user_id: int, app_url: str) -> list[dict[str, Any]]:
    challenge = await sandbox.call("GET", "/v1/wallet/ton-proof/payload", as_user=user_id)
    answer = await sandbox.call(
        "POST",
        f"/v1/sandbox/wallet-app/{user_id}/connect",
        json={
            "appUrl": app_url,
            "items": [{"name": "ton_addr"}, {"name": "ton_proof", "payload": challenge["payload"]}],
        },
    )
    items: list[dict[str, Any]] = answer["items"]
    return items


def _link_body(items: list[dict[str, Any]]) -> dict[str, Any]:
    account = next(item for item in items if item["name"] == "ton_addr")
    proof = next(item for item in items if item["name"] == "ton_proof")
    return {
        "address": account["address"],
        "network": account["network"],
        "publicKey": account["publicKey"],
        "stateInit": account["walletStateInit"],
        "proof": proof["proof"],
    }


async def test_bridge_wallet_proves_ownership_for_the_host_of_the_app_url(
    sandbox: Sandbox, db: AsyncEngine
) -> None:
    items = await _bridge_connect(sandbox, ADVERTISER, f"https://{PROOF_DOMAIN}:8443/")

    me = await sandbox.call(
        "POST", "/v1/users/me/wallet", as_user=ADVERTISER, json=_link_body(items)
    )

    key = sandbox.services.keyring and sandbox.services.keyring.for_user(ADVERTISER)
    assert key is not None
    assert me["walletVerified"] is True
    assert me["walletAddressRaw"] == key.raw_address
    async with db.connect() as conn:
        domain = (
            await conn.execute(
                text("SELECT proof_domain FROM wallets WHERE user_id = :u"), {"u": ADVERTISER}
            )
        ).scalar_one()
    assert domain == PROOF_DOMAIN  # the host, without the port


async def test_bridge_wallet_proof_for_another_app_is_refused(sandbox: Sandbox) -> None:
    items = await _bridge_connect(sandbox, ADVERTISER, "https://elsewhere.example/")

    refused = await sandbox.call(
        "POST", "/v1/users/me/wallet", as_user=ADVERTISER, json=_link_body(items), expect=400
    )

    assert refused["code"] == "ton_proof_domain_not_allowed"
    me = await sandbox.call("GET", "/v1/users/me", as_user=ADVERTISER)
    assert me["walletAddress"] is None


async def test_bridge_wallet_refuses_to_send_before_connecting_or_after_expiry(
    sandbox: Sandbox,
) -> None:
    request = {
        "valid_until": int(clock.utcnow().timestamp()) + 300,
        "messages": [{"address": "0:" + "ab" * 32, "amount": "1"}],
    }
    unknown = await sandbox.call(
        "POST", "/v1/sandbox/wallet-app/7000000099/send", json=request, expect=409
    )
    assert unknown["code"] == "sandbox_wallet_refused"
    assert "connect first" in unknown["message"]

    await _bridge_connect(sandbox, ADVERTISER, f"https://{PROOF_DOMAIN}/")
    expired = await sandbox.call(
        "POST",
        f"/v1/sandbox/wallet-app/{ADVERTISER}/send",
        json={**request, "valid_until": 1},
        expect=409,
    )
    assert "expired" in expired["message"]


async def test_bridge_script_and_wallets_list_name_the_same_bridge_key(sandbox: Sandbox) -> None:
    script = await sandbox.client.get(f"/v1/sandbox/wallet-app/{ADVERTISER}/bridge.js")
    wallets = await sandbox.call("GET", "/v1/sandbox/wallet-app/wallets-v2.json")

    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert f'const userId = "{ADVERTISER}";' in script.text
    assert "window.chainfluenceSandboxWallet = { tonconnect: {" in script.text
    assert [w["bridge"] for w in wallets] == [[{"type": "js", "key": "chainfluenceSandboxWallet"}]]


async def test_bridge_wallet_names_the_chain_it_is_asked_for(sandbox: Sandbox) -> None:
    default = await sandbox.client.get(f"/v1/sandbox/wallet-app/{ADVERTISER}/bridge.js")
    testnet = await sandbox.client.get(
        f"/v1/sandbox/wallet-app/{ADVERTISER}/bridge.js", params={"network": "-3"}
    )
    bad = await sandbox.client.get(
        f"/v1/sandbox/wallet-app/{ADVERTISER}/bridge.js", params={"network": "-3'; alert(1)"}
    )
    challenge = await sandbox.call("GET", "/v1/wallet/ton-proof/payload", as_user=ADVERTISER)
    answer = await sandbox.call(
        "POST",
        f"/v1/sandbox/wallet-app/{ADVERTISER}/connect",
        json={
            "appUrl": f"https://{PROOF_DOMAIN}/",
            "items": [{"name": "ton_addr"}, {"name": "ton_proof", "payload": challenge["payload"]}],
            "network": "-3",
        },
    )

    assert 'const network = "-239";' in default.text
    assert 'const network = "-3";' in testnet.text
    assert bad.status_code == 422
    assert [item["network"] for item in answer["items"] if item["name"] == "ton_addr"] == ["-3"]
    assert (await _bridge_connect(sandbox, ADVERTISER, f"https://{PROOF_DOMAIN}/"))[0][
        "network"
    ] == "-239"
