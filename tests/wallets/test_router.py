"""Wallet linking over HTTP: ton_proof challenges, genuine v4r2/v5r1 proofs, every way to fail."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytoniq_core.boc.address import Address
from pytoniq_core.boc.builder import Builder
from pytoniq_core.tlb.account import StateInit
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.config import Settings
from chainfluence.kit import time as clock
from chainfluence.kit.time import utcnow
from chainfluence.models import Wallet
from chainfluence.wallets.jobs import purge_proof_payloads
from tests.conftest import app_client, make_settings, runtime_of
from tests.factories import login
from tests.wallets.ton_connect_wallet import (
    MAINNET,
    TESTNET,
    TonConnectWallet,
    link_wallet,
    new_payload,
)

ME = 1001
OTHER = 1002


async def _wallet_rows(db: AsyncEngine, user_id: int) -> list[Any]:
    """The user's wallet rows, current and unlinked, oldest first."""
    async with db.connect() as conn:
        statement = select(Wallet.__table__).where(Wallet.user_id == user_id).order_by(Wallet.id)
        return list(await conn.execute(statement))


async def _me(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    me: dict[str, Any] = (await client.get("/v1/users/me", headers=headers)).json()
    return me


async def test_payload_is_random_hex_bound_to_caller_and_expires_after_ttl(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await login(client, ME)

    asked = utcnow().replace(microsecond=0)  # (the API gives whole seconds)
    first = await client.get("/v1/wallet/ton-proof/payload", headers=headers)
    answered = utcnow()
    second = await client.get("/v1/wallet/ton-proof/payload", headers=headers)
    anonymous = await client.get("/v1/wallet/ton-proof/payload")

    assert first.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{64}", first.json()["payload"])
    assert first.json()["payload"] != second.json()["payload"]
    expires_at = dt.datetime.fromisoformat(first.json()["expiresAt"])
    ttl = dt.timedelta(seconds=settings.ton.ton_proof_ttl_seconds)
    assert asked + ttl <= expires_at <= answered + ttl
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("version", "chain"),
    [("v4r2", MAINNET), ("v4r2", TESTNET), ("v5r1", MAINNET), ("v5r1", TESTNET)],
)
async def test_genuine_proof_links_wallet(
    client: httpx.AsyncClient, db: AsyncEngine, version: Any, chain: int
) -> None:
    headers = await login(client, ME)
    wallet = TonConnectWallet(version=version, chain=chain)
    payload = await new_payload(client, headers)

    response = await client.post(
        "/v1/users/me/wallet", json=wallet.link_body(payload), headers=headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["walletAddress"] == wallet.friendly
    assert response.json()["walletVerified"] is True
    [row] = await _wallet_rows(db, ME)
    assert row.address == wallet.raw
    assert row.network == ("mainnet" if chain == MAINNET else "testnet")
    assert row.public_key == wallet.public_key
    assert row.proof_domain == "localhost"


async def test_user_friendly_address_and_string_timestamp_are_accepted(
    client: httpx.AsyncClient,
) -> None:
    headers = await login(client, ME)
    wallet = TonConnectWallet()
    payload = await new_payload(client, headers)
    body = wallet.link_body(payload, address=wallet.friendly)
    body["proof"]["timestamp"] = str(body["proof"]["timestamp"])
    body["proof"]["name"] = "ton_proof"  # extra fields of the wallet's reply are tolerated

    response = await client.post("/v1/users/me/wallet", json=body, headers=headers)

    assert response.status_code == 200, response.text


async def test_state_init_inside_proof_is_accepted(client: httpx.AsyncClient) -> None:
    headers = await login(client, ME)
    wallet = TonConnectWallet(version="v5r1")
    payload = await new_payload(client, headers)
    body = wallet.link_body(payload)
    body["proof"]["stateInit"] = body.pop("stateInit")

    response = await client.post("/v1/users/me/wallet", json=body, headers=headers)

    assert response.status_code == 200, response.text


async def test_reused_payload_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    headers = await login(client, ME)
    wallet = TonConnectWallet()
    payload = await new_payload(client, headers)
    body = wallet.link_body(payload)
    assert (await client.post("/v1/users/me/wallet", json=body, headers=headers)).status_code == 200
    other_wallet = TonConnectWallet()

    replay = await client.post("/v1/users/me/wallet", json=body, headers=headers)
    reuse = await client.post(
        "/v1/users/me/wallet", json=other_wallet.link_body(payload), headers=headers
    )

    assert replay.status_code == 409
    assert replay.json()["code"] == "ton_proof_payload_used"
    assert reuse.status_code == 409
    assert [row.address for row in await _wallet_rows(db, ME)] == [wallet.raw]


async def test_concurrent_double_submit_links_once(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    headers = await login(client, ME)
    wallet = TonConnectWallet()
    body = wallet.link_body(await new_payload(client, headers))

    responses = await asyncio.gather(
        *(client.post("/v1/users/me/wallet", json=body, headers=headers) for _ in range(4))
    )

    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    assert len(await _wallet_rows(db, ME)) == 1


async def test_expired_payload_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    headers = await login(client, ME)
    wallet = TonConnectWallet()
    payload = await new_payload(client, headers)
    clock.advance(dt.timedelta(seconds=settings.ton.ton_proof_ttl_seconds + 1))

    response = await client.post(
        "/v1/users/me/wallet", json=wallet.link_body(payload), headers=headers
    )

    assert response.status_code == 400
    assert response.json()["code"] == "ton_proof_payload_expired"
    assert (await _me(client, headers))["walletVerified"] is False


async def test_payload_issued_to_another_user_is_refused(client: httpx.AsyncClient) -> None:
    mine = await login(client, ME)
    theirs = await login(client, OTHER, first_name="Bob", username="bob")
    their_payload = await new_payload(client, theirs)

    response = await client.post(
        "/v1/users/me/wallet", json=TonConnectWallet().link_body(their_payload), headers=mine
    )
    made_up = await client.post(
        "/v1/users/me/wallet", json=TonConnectWallet().link_body("ab" * 32), headers=mine
    )

    assert response.status_code == 400
    assert response.json()["code"] == "ton_proof_payload_unknown"
    assert made_up.json()["code"] == "ton_proof_payload_unknown"
    # Still usable by its owner: a foreign attempt does not burn it.
    ok = await client.post(
        "/v1/users/me/wallet", json=TonConnectWallet().link_body(their_payload), headers=theirs
    )
    assert ok.status_code == 200


def _other_address() -> str:
    return str(TonConnectWallet().raw)


def _swap_public_key(body: dict[str, Any], wallet: TonConnectWallet) -> None:
    body["publicKey"] = TonConnectWallet().public_key


def _sign_with_other_key(body: dict[str, Any], wallet: TonConnectWallet) -> None:
    proof = body["proof"]
    proof["signature"] = TonConnectWallet().sign_proof(
        payload=proof["payload"],
        domain=proof["domain"]["value"],
        timestamp=proof["timestamp"],
        address=wallet.address,
    )


def _sign_other_payload(body: dict[str, Any], wallet: TonConnectWallet) -> None:
    proof = body["proof"]
    proof["signature"] = wallet.sign_proof(
        payload="cd" * 32, domain=proof["domain"]["value"], timestamp=proof["timestamp"]
    )


def _sign_for_other_address(body: dict[str, Any], wallet: TonConnectWallet) -> None:
    other = TonConnectWallet()
    body.update(address=other.raw, stateInit=other.state_init, publicKey=other.public_key)


def _wrong_domain(body: dict[str, Any], wallet: TonConnectWallet) -> None:
    proof = body["proof"]
    domain = "evil.example"
    proof["domain"] = {"lengthBytes": len(domain), "value": domain}
    proof["signature"] = wallet.sign_proof(
        payload=proof["payload"], domain=domain, timestamp=proof["timestamp"]
    )


def _lying_length(body: dict[str, Any], wallet: TonConnectWallet) -> None:
    body["proof"]["domain"]["lengthBytes"] += 1


def _timestamp(delta: int) -> Any:
    def change(body: dict[str, Any], wallet: TonConnectWallet) -> None:
        proof = body["proof"]
        proof["timestamp"] += delta
        proof["signature"] = wallet.sign_proof(
            payload=proof["payload"], domain=proof["domain"]["value"], timestamp=proof["timestamp"]
        )

    return change


def _unknown_wallet_code(body: dict[str, Any], wallet: TonConnectWallet) -> None:
    # A made-up contract: its address matches its StateInit, but nothing reveals a key.
    code = Builder().store_uint(0xDEADBEEF, 32).end_cell()
    data = Builder().store_bytes(bytes.fromhex(wallet.public_key)).end_cell()
    cell = StateInit(code=code, data=data).serialize()
    address = Address((0, cell.hash))
    body["stateInit"] = base64.b64encode(cell.to_boc()).decode()
    body["address"] = address.to_str(is_user_friendly=False)
    proof = body["proof"]
    proof["signature"] = wallet.sign_proof(
        payload=proof["payload"],
        domain=proof["domain"]["value"],
        timestamp=proof["timestamp"],
        address=address,
    )


def _masterchain(body: dict[str, Any], wallet: TonConnectWallet) -> None:
    body["address"] = "-1:" + wallet.raw.split(":")[1]


def _no_state_init(body: dict[str, Any], wallet: TonConnectWallet) -> None:
    del body["stateInit"]


def _garbage_state_init(body: dict[str, Any], wallet: TonConnectWallet) -> None:
    body["stateInit"] = "bm90IGEgYm9j"


def _unknown_network(body: dict[str, Any], wallet: TonConnectWallet) -> None:
    body["network"] = "662387"


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        pytest.param(_wrong_domain, "ton_proof_domain_not_allowed", id="wrong-domain"),
        pytest.param(_lying_length, "ton_proof_malformed", id="domain-length-lies"),
        pytest.param(_sign_with_other_key, "ton_proof_bad_signature", id="signed-by-other-key"),
        pytest.param(_sign_other_payload, "ton_proof_bad_signature", id="signed-other-payload"),
        pytest.param(_swap_public_key, "ton_proof_public_key_mismatch", id="foreign-public-key"),
        pytest.param(
            lambda body, wallet: body.update(address=_other_address()),
            "ton_proof_address_mismatch",
            id="address-not-of-state-init",
        ),
        pytest.param(_sign_for_other_address, "ton_proof_bad_signature", id="other-wallet-swap"),
        pytest.param(_timestamp(-3600), "ton_proof_stale", id="signed-before-challenge"),
        pytest.param(_timestamp(+3600), "ton_proof_stale", id="dated-in-future"),
        pytest.param(_unknown_wallet_code, "ton_proof_unsupported_wallet", id="unknown-code"),
        pytest.param(_masterchain, "ton_proof_unsupported_wallet", id="masterchain"),
        pytest.param(_no_state_init, "ton_proof_malformed", id="no-state-init"),
        pytest.param(_garbage_state_init, "ton_proof_malformed", id="garbage-state-init"),
        pytest.param(_unknown_network, "ton_proof_wrong_network", id="unknown-network"),
    ],
)
async def test_bad_proof_is_refused_with_reason_and_changes_nothing(
    client: httpx.AsyncClient, db: AsyncEngine, tamper: Any, code: str
) -> None:
    headers = await login(client, ME)
    old = await link_wallet(client, headers)
    wallet = TonConnectWallet()
    payload = await new_payload(client, headers)
    body = wallet.link_body(payload)
    tamper(body, wallet)

    response = await client.post("/v1/users/me/wallet", json=body, headers=headers)

    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert (await _me(client, headers))["walletAddress"] == old.friendly
    assert [row.address for row in await _wallet_rows(db, ME)] == [old.raw]
    # The challenge was not spent by the failed attempt.
    retry = await client.post(
        "/v1/users/me/wallet", json=wallet.link_body(payload), headers=headers
    )
    assert retry.status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"publicKey": "xyz"},
        {"network": "mainnet"},
        {"unexpected": True},
        {"proof": {"timestamp": 1}},
    ],
)
async def test_malformed_request_is_422(client: httpx.AsyncClient, change: dict[str, Any]) -> None:
    headers = await login(client, ME)
    body = TonConnectWallet().link_body(await new_payload(client, headers))
    body.update(change)

    response = await client.post("/v1/users/me/wallet", json=body, headers=headers)

    assert response.status_code == 422


@pytest.mark.parametrize(
    ("network", "accepted", "refused"),
    [("mainnet", MAINNET, TESTNET), ("testnet", TESTNET, MAINNET)],
)
async def test_deployment_network_decides_which_wallets_link(
    database_url: str,
    db: AsyncEngine,
    tmp_path: Path,
    network: str,
    accepted: int,
    refused: int,
) -> None:
    settings = make_settings(database_url, tmp_path, ton={"network": network})
    async with app_client(settings) as client:
        headers = await login(client, ME)
        wrong = TonConnectWallet(version="v5r1", chain=refused)
        right = TonConnectWallet(version="v5r1", chain=accepted)

        refused_response = await client.post(
            "/v1/users/me/wallet",
            json=wrong.link_body(await new_payload(client, headers)),
            headers=headers,
        )
        accepted_response = await client.post(
            "/v1/users/me/wallet",
            json=right.link_body(await new_payload(client, headers)),
            headers=headers,
        )

    assert refused_response.status_code == 400
    assert refused_response.json()["code"] == "ton_proof_wrong_network"
    assert network in refused_response.json()["message"]
    assert accepted_response.status_code == 200


async def test_domain_allow_list_comes_from_settings(
    database_url: str, db: AsyncEngine, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url, tmp_path, ton={"ton_proof_domains": ["app.chainfluence.example"]}
    )
    async with app_client(settings) as client:
        headers = await login(client, ME)
        wallet = TonConnectWallet()

        localhost = await client.post(
            "/v1/users/me/wallet",
            json=wallet.link_body(await new_payload(client, headers)),
            headers=headers,
        )
        ours = await client.post(
            "/v1/users/me/wallet",
            json=wallet.link_body(
                await new_payload(client, headers), domain="app.chainfluence.example"
            ),
            headers=headers,
        )

    assert localhost.json()["code"] == "ton_proof_domain_not_allowed"
    assert ours.status_code == 200


async def test_new_wallet_replaces_current_and_keeps_old_as_history(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    headers = await login(client, ME)
    first = await link_wallet(client, headers)
    second = await link_wallet(client, headers, TonConnectWallet(version="v5r1"))

    rows = await _wallet_rows(db, ME)

    assert (await _me(client, headers))["walletAddress"] == second.friendly
    assert [(row.address, row.unlinked_at is None) for row in rows] == [
        (first.raw, False),
        (second.raw, True),
    ]


async def test_proving_the_same_wallet_again_keeps_one_row(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    headers = await login(client, ME)
    wallet = await link_wallet(client, headers)
    [before] = await _wallet_rows(db, ME)
    clock.advance(dt.timedelta(minutes=1))

    await link_wallet(client, headers, wallet)

    [after] = await _wallet_rows(db, ME)
    assert after.id == before.id
    assert after.unlinked_at is None
    assert after.verified_at > before.verified_at


async def test_two_users_may_not_share_a_challenge_but_may_prove_independently(
    client: httpx.AsyncClient,
) -> None:
    mine = await login(client, ME)
    theirs = await login(client, OTHER, first_name="Bob", username="bob")

    await link_wallet(client, mine)
    await link_wallet(client, theirs)

    assert (await _me(client, mine))["walletVerified"] is True
    assert (await _me(client, theirs))["walletVerified"] is True


async def test_sweep_purges_long_expired_payloads(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    await new_payload(client, await login(client, ME))
    clock.advance(dt.timedelta(days=2))
    kept = await new_payload(client, await login(client, ME))

    await purge_proof_payloads(runtime_of(client))

    async with db.connect() as conn:
        left = (await conn.execute(text("SELECT payload FROM ton_proof_payloads"))).scalars()
        assert list(left) == [kept]
