"""POST /v1/deals/{id}/payment: fixing the escrow terms once, and paying the exact price."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.config import SANDBOX_PLATFORM_MNEMONIC
from chainfluence.escrow.service import REFUND_MARGIN
from chainfluence.formats import AdFormat, format_spec
from chainfluence.kit import time as clock
from chainfluence.kit.time import utcnow
from chainfluence.ton.escrow import (
    GET_ESCROW_DATA,
    EscrowTerms,
    EscrowVersion,
    escrow_address,
    escrow_code,
    parse_escrow_data,
)
from chainfluence.ton.wallet import platform_wallet_for
from chainfluence_sandbox.tvm import AccountState, Emulator, InternalMessage
from tests.conftest import app_client, make_settings, runtime_of
from tests.factories import create_channel, create_deal, login
from tests.wallets.ton_connect_wallet import TESTNET, TonConnectWallet, link_wallet

ADVERTISER = 2001
PUBLISHER = 3001
OWNER = 4001
OPERATOR = 900001  # listed in the test settings
CHANNEL = -1001000000042
PRICE = 12_345_678_901
PRICE_TON = "12.345678901"
ALL_FORMATS = {f.value: "10" for f in AdFormat}


@dataclasses.dataclass
class Parties:
    advertiser: dict[str, str]
    publisher: dict[str, str]
    advertiser_wallet: TonConnectWallet
    publisher_wallet: TonConnectWallet


async def _parties(client: httpx.AsyncClient, *, chain: int | None = None) -> Parties:
    """An advertiser and a channel owner, both with proven wallets; the owner's channel sells
    every format."""
    advertiser = await login(client, ADVERTISER, first_name="Ada", username="ada")
    publisher = await login(client, PUBLISHER, first_name="Pete", username="pete")
    await create_channel(
        runtime_of(client), owner_id=PUBLISHER, channel_id=CHANNEL, prices=ALL_FORMATS
    )
    kind: dict[str, Any] = {"chain": chain} if chain is not None else {}
    return Parties(
        advertiser=advertiser,
        publisher=publisher,
        advertiser_wallet=await link_wallet(client, advertiser, TonConnectWallet(**kind)),
        publisher_wallet=await link_wallet(
            client, publisher, TonConnectWallet(version="v5r1", **kind)
        ),
    )


async def _deal(client: httpx.AsyncClient, parties: Parties, **kwargs: Any) -> int:
    return await create_deal(
        client,
        advertiser=parties.advertiser,
        acceptor=parties.publisher,
        channel_id=CHANNEL,
        **{"amount": PRICE_TON, **kwargs},
    )


async def _pay(client: httpx.AsyncClient, deal_id: int, headers: dict[str, str]) -> httpx.Response:
    return await client.post(f"/v1/deals/{deal_id}/payment", headers=headers)


def _cell(b64: str) -> Cell:
    return Cell.one_from_boc(base64.b64decode(b64))


def _raw(address: str) -> str:
    return str(Address(address).to_str(is_user_friendly=False))


def _terms(body: dict[str, Any]) -> EscrowTerms:
    terms = body["terms"]
    return EscrowTerms(
        deal_id=terms["dealId"],
        platform=Address(terms["platformAddress"]),
        advertiser=Address(terms["advertiserAddress"]),
        publisher=Address(terms["publisherAddress"]),
        fee_recipient=Address(terms["feeRecipient"]),
        price_nano=int(terms["priceNano"]),
        fee_nano=int(terms["feeNano"]),
        refund_after=int(dt.datetime.fromisoformat(terms["refundAfter"]).timestamp()),
    )


async def test_payment_request_pays_exact_price_into_the_escrow_its_terms_define(
    client: httpx.AsyncClient,
) -> None:
    parties = await _parties(client)
    deal_id = await _deal(client, parties)

    response = await _pay(client, deal_id, parties.advertiser)

    assert response.status_code == 200, response.text
    body = response.json()
    fee = PRICE * 500 // 10_000  # the settings' default 5 %
    assert body["amountNano"] == str(PRICE)
    assert body["amount"] == "12.345678901"
    assert body["address"].startswith("EQ")  # a contract: bounceable
    assert _raw(body["address"]) == body["rawAddress"]
    # The address is the hash of the StateInit handed out, and of the terms shown.
    assert Address((0, _cell(body["stateInit"]).hash)) == Address(body["rawAddress"])
    terms = _terms(body)
    assert escrow_address(terms) == Address(body["rawAddress"])
    assert terms.advertiser == parties.advertiser_wallet.address
    assert terms.publisher == parties.publisher_wallet.address
    # The platform wallet's own address (the public sandbox mnemonic here): it alone may release.
    platform_wallet = platform_wallet_for(runtime_of(client).settings)
    assert platform_wallet is not None
    assert terms.platform == Address(platform_wallet.raw_address)
    assert terms.fee_recipient == terms.platform  # sandbox: no fee recipient configured
    assert (terms.deal_id, terms.price_nano, terms.fee_nano) == (deal_id, PRICE, fee)
    assert body["terms"]["publisherPayoutNano"] == str(PRICE - fee)
    # New escrows use the current contract (v2, Tolk); the terms name its code hash.
    assert body["terms"]["contractVersion"] == EscrowVersion.V2
    code_hash = bytes(escrow_code(EscrowVersion.V2).hash).hex()
    assert body["terms"]["codeHash"] == code_hash
    assert escrow_address(terms, EscrowVersion.V2) == Address(body["rawAddress"])
    # The body is a text comment naming the deal.
    payload = _cell(body["payload"]).begin_parse()
    assert payload.load_uint(32) == 0
    assert payload.load_snake_string() == f"Chainfluence deal #{deal_id}"
    # TON Connect's sendTransaction: the same message, from the proven wallet, for 5 minutes.
    now = int(utcnow().timestamp())
    assert body["transaction"] == {
        "validUntil": body["validUntil"],
        "from": parties.advertiser_wallet.raw,
        "messages": [
            {
                "address": body["address"],
                "amount": str(PRICE),
                "stateInit": body["stateInit"],
                "payload": body["payload"],
            }
        ],
    }  # no "network" in the sandbox: its chain is local
    assert now + 290 <= body["validUntil"] <= now + 300
    # And the ton:// link for wallets without TON Connect.
    url = urlsplit(body["tonTransferUrl"])
    query = parse_qs(url.query, strict_parsing=True)
    assert (url.scheme, url.netloc, url.path) == ("ton", "transfer", "/" + body["address"])
    assert query["amount"] == [str(PRICE)]
    assert base64.urlsafe_b64decode(query["bin"][0]) == base64.b64decode(body["payload"])
    assert base64.urlsafe_b64decode(query["init"][0]) == base64.b64decode(body["stateInit"])


async def test_paying_the_request_deploys_the_escrow_with_the_terms_shown(
    client: httpx.AsyncClient,
) -> None:
    """The TON Connect message, delivered in the real TVM, creates exactly the contract shown."""
    parties = await _parties(client)
    body = (await _pay(client, await _deal(client, parties), parties.advertiser)).json()
    message = body["transaction"]["messages"][0]
    emulator = Emulator()
    now = int(utcnow().timestamp())

    result = emulator.execute(
        AccountState.nonexistent(Address(message["address"])),
        InternalMessage(
            src=Address(body["transaction"]["from"]),
            dest=Address(message["address"]),
            value_nano=int(message["amount"]),
            body=_cell(message["payload"]),
            bounce=True,
            state_init=StateInit.deserialize(_cell(message["stateInit"]).begin_parse()),
            created_at=now,
        ),
        now=now,
    )

    assert result.success
    data = parse_escrow_data(
        emulator.run_get_method(result.account, GET_ESCROW_DATA, now=now).stack
    )
    assert data.terms == _terms(body)
    assert 0 < PRICE - data.balance_nano < 1_000_000  # the deposit paid its own gas only


async def test_repeated_requests_return_the_same_contract_and_fix_terms_once(
    client: httpx.AsyncClient,
) -> None:
    parties = await _parties(client)
    deal_id = await _deal(client, parties)

    first = (await _pay(client, deal_id, parties.advertiser)).json()
    clock.advance(dt.timedelta(minutes=10))
    second = (await _pay(client, deal_id, parties.advertiser)).json()

    for field in ("address", "rawAddress", "stateInit", "payload", "amountNano", "terms"):
        assert first[field] == second[field]
    assert second["validUntil"] > first["validUntil"]
    deal = (await client.get(f"/v1/deals/{deal_id}", headers=parties.advertiser)).json()
    assert deal["escrowAddress"] == first["rawAddress"]
    assert deal["advertiserWallet"] == parties.advertiser_wallet.raw
    assert deal["publisherWallet"] == parties.publisher_wallet.raw
    # Next to each raw address its user-friendly form: the escrow (a contract) bounceable as the
    # payment request gives it, the wallets non-bounceable.
    assert deal["escrowAddressFriendly"] == first["address"]
    assert deal["escrowAddressFriendly"].startswith("EQ")
    assert deal["advertiserWalletFriendly"] == parties.advertiser_wallet.friendly
    assert deal["publisherWalletFriendly"] == parties.publisher_wallet.friendly
    assert deal["publisherWalletFriendly"].startswith("UQ")
    terms = first["terms"]
    assert (terms["advertiserAddressRaw"], terms["advertiserAddress"]) == (
        parties.advertiser_wallet.raw, parties.advertiser_wallet.friendly,
    )  # fmt: skip
    assert terms["publisherAddressRaw"] == parties.publisher_wallet.raw
    assert Address(terms["platformAddressRaw"]) == Address(terms["platformAddress"])
    assert Address(terms["feeRecipientRaw"]) == Address(terms["feeRecipient"])
    me = (await client.get("/v1/users/me", headers=parties.advertiser)).json()
    assert (me["walletAddress"], me["walletAddressRaw"]) == (
        parties.advertiser_wallet.friendly, parties.advertiser_wallet.raw,
    )  # fmt: skip
    fixed = [e for e in deal["timeline"] if e["event"] == "escrow_terms_fixed"]
    assert len(fixed) == 1
    assert fixed[0]["actorId"] == str(ADVERTISER)
    assert fixed[0]["details"]["escrowAddress"] == first["rawAddress"]


async def test_concurrent_first_requests_fix_one_set_of_terms(client: httpx.AsyncClient) -> None:
    parties = await _parties(client)
    deal_id = await _deal(client, parties)

    responses = await asyncio.gather(*(_pay(client, deal_id, parties.advertiser) for _ in range(4)))

    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["stateInit"] for r in responses}) == 1
    timeline = (
        await client.get(f"/v1/deals/{deal_id}/timeline", headers=parties.advertiser)
    ).json()
    assert [e["event"] for e in timeline].count("escrow_terms_fixed") == 1


async def test_a_changed_price_would_be_another_contract(client: httpx.AsyncClient) -> None:
    parties = await _parties(client)
    body = (await _pay(client, await _deal(client, parties), parties.advertiser)).json()
    terms = _terms(body)

    assert escrow_address(terms) == Address(body["rawAddress"])
    assert escrow_address(dataclasses.replace(terms, price_nano=terms.price_nano + 1)) != (
        Address(body["rawAddress"])
    )


async def test_only_the_advertiser_is_asked_to_pay(client: httpx.AsyncClient) -> None:
    parties = await _parties(client)
    deal_id = await _deal(client, parties)
    stranger = await login(client, 5001, first_name="Sam", username="sam")
    operator = await login(client, OPERATOR, first_name="Olga", username="olga")

    publisher = await _pay(client, deal_id, parties.publisher)
    outsider = await _pay(client, deal_id, stranger)
    arbiter = await _pay(client, deal_id, operator)
    missing = await _pay(client, 999_999, parties.advertiser)

    assert (publisher.status_code, publisher.json()["code"]) == (403, "advertiser_only")
    assert (arbiter.status_code, arbiter.json()["code"]) == (403, "advertiser_only")
    assert outsider.status_code == 404
    assert missing.status_code == 404
    deal = (await client.get(f"/v1/deals/{deal_id}", headers=parties.advertiser)).json()
    assert deal["escrowAddress"] is None


@pytest.mark.parametrize(
    "status", ["in_escrow", "live", "verified", "released", "refunding", "refunded", "cancelled"]
)
async def test_only_a_pending_deal_takes_payment(client: httpx.AsyncClient, status: str) -> None:
    parties = await _parties(client)
    deal_id = await _deal(client, parties, status=status)

    response = await _pay(client, deal_id, parties.advertiser)

    assert response.status_code == 409
    assert response.json()["code"] == "deal_not_pending"


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("advertiser", ["you must link your TON wallet"]),
        ("publisher", ["the channel owner must link a TON wallet"]),
        ("both", ["you must link your TON wallet", "the channel owner must link a TON wallet"]),
    ],
)
async def test_missing_wallet_names_who_must_link_one_and_changes_nothing(
    client: httpx.AsyncClient, who: str, expected: list[str]
) -> None:
    advertiser = await login(client, ADVERTISER)
    publisher = await login(client, PUBLISHER, first_name="Pete")
    await create_channel(runtime_of(client), owner_id=PUBLISHER, channel_id=CHANNEL)
    if who == "publisher":
        await link_wallet(client, advertiser)
    if who == "advertiser":
        await link_wallet(client, publisher)
    deal_id = await create_deal(
        client, advertiser=advertiser, acceptor=publisher, channel_id=CHANNEL
    )

    refused = await _pay(client, deal_id, advertiser)

    assert refused.status_code == 409
    assert refused.json()["code"] == "wallet_not_linked"
    for phrase in expected:
        assert phrase in refused.json()["message"]
    deal = (await client.get(f"/v1/deals/{deal_id}", headers=advertiser)).json()
    assert deal["escrowAddress"] is None
    assert all(e["event"] != "escrow_terms_fixed" for e in deal["timeline"])
    # Once the wallets are linked, the same deal is paid.
    if who in ("advertiser", "both"):
        await link_wallet(client, advertiser)
    if who in ("publisher", "both"):
        await link_wallet(client, publisher)
    assert (await _pay(client, deal_id, advertiser)).status_code == 200


async def test_payout_goes_to_the_channel_owner_when_a_manager_accepted_the_deal(
    client: httpx.AsyncClient,
) -> None:
    advertiser = await login(client, ADVERTISER)
    manager = await login(client, PUBLISHER, first_name="Manny")
    owner = await login(client, OWNER, first_name="Olive")
    await create_channel(
        runtime_of(client), owner_id=OWNER, channel_id=CHANNEL, admins={PUBLISHER: True}
    )
    await link_wallet(client, advertiser)
    manager_wallet = await link_wallet(client, manager)
    owner_wallet = await link_wallet(client, owner)
    deal_id = await create_deal(client, advertiser=advertiser, acceptor=manager, channel_id=CHANNEL)

    body = (await _pay(client, deal_id, advertiser)).json()

    assert _terms(body).publisher == owner_wallet.address != manager_wallet.address


async def test_new_wallet_after_terms_are_fixed_leaves_the_deal_unchanged_and_says_so(
    client: httpx.AsyncClient,
) -> None:
    parties = await _parties(client)
    deal_id = await _deal(client, parties)
    before = (await _pay(client, deal_id, parties.advertiser)).json()

    new_wallet = await link_wallet(client, parties.advertiser, TonConnectWallet(version="v5r1"))
    after = (await _pay(client, deal_id, parties.advertiser)).json()

    me = (await client.get("/v1/users/me", headers=parties.advertiser)).json()
    assert me["walletAddress"] == new_wallet.friendly
    assert after["stateInit"] == before["stateInit"]
    assert after["transaction"]["from"] == parties.advertiser_wallet.raw
    notes = (await client.get("/v1/notifications", headers=parties.advertiser)).json()
    [note] = [n for n in notes if "previous" in n["body"]]
    assert f"#{deal_id}" in note["body"]
    assert parties.advertiser_wallet.friendly in note["body"]
    # A deal whose terms are not fixed yet takes the new wallet.
    fresh = (await _pay(client, await _deal(client, parties), parties.advertiser)).json()
    assert _terms(fresh).advertiser == new_wallet.address


@pytest.mark.parametrize("fmt", [AdFormat.one_24, AdFormat.three_72, AdFormat.eternal])
async def test_refund_after_follows_the_latest_release_with_a_margin(
    client: httpx.AsyncClient, fmt: AdFormat
) -> None:
    parties = await _parties(client)
    post_at = (utcnow() + dt.timedelta(days=3)).replace(microsecond=0)
    deal_id = await _deal(client, parties, format=fmt.value, proposed_at=post_at)

    body = (await _pay(client, deal_id, parties.advertiser)).json()

    refund_after = dt.datetime.fromisoformat(body["terms"]["refundAfter"])
    # The post may go up as late as the posting deadline (a day's grace after its time).
    posting_deadline = post_at + dt.timedelta(hours=24)
    assert refund_after == posting_deadline + format_spec(fmt).hold + REFUND_MARGIN


async def test_payment_after_the_deposit_deadline_is_refused(client: httpx.AsyncClient) -> None:
    parties = await _parties(client)
    deal_id = await _deal(client, parties)
    deal = (await client.get(f"/v1/deals/{deal_id}", headers=parties.advertiser)).json()
    deadline = dt.datetime.fromisoformat(deal["depositDeadlineAt"])
    clock.advance(deadline - utcnow() + dt.timedelta(seconds=1))
    advertiser = await login(client, ADVERTISER)  # a day later: a fresh session

    response = await _pay(client, deal_id, advertiser)

    assert response.status_code == 409
    assert response.json()["code"] == "deposit_deadline_passed"


async def test_valid_until_never_outlasts_the_deposit_deadline(client: httpx.AsyncClient) -> None:
    parties = await _parties(client)
    deal_id = await _deal(client, parties)
    deal = (await client.get(f"/v1/deals/{deal_id}", headers=parties.advertiser)).json()
    deadline = dt.datetime.fromisoformat(deal["depositDeadlineAt"])
    clock.advance(deadline - utcnow() - dt.timedelta(seconds=60))
    advertiser = await login(client, ADVERTISER)  # a day later: a fresh session

    body = (await _pay(client, deal_id, advertiser)).json()

    assert body["validUntil"] == int(deadline.timestamp())


async def test_testnet_deployment_names_its_network_and_fee_recipient(
    database_url: str, db: AsyncEngine, tmp_path: Path
) -> None:
    fee_wallet = TonConnectWallet(chain=TESTNET)
    settings = make_settings(
        database_url,
        tmp_path,
        ton={
            "network": "testnet",
            "wallet_mnemonic": SANDBOX_PLATFORM_MNEMONIC,
            "fee_recipient": fee_wallet.friendly,
        },
    )
    async with app_client(settings) as client:
        parties = await _parties(client, chain=TESTNET)
        deal_id = await _deal(client, parties)
        body = (await _pay(client, deal_id, parties.advertiser)).json()
        deal = (await client.get(f"/v1/deals/{deal_id}", headers=parties.publisher)).json()

    assert body["transaction"]["network"] == "-3"
    assert body["address"].startswith("kQ")  # bounceable, test-only
    assert deal["escrowAddressFriendly"] == body["address"]
    assert deal["advertiserWalletFriendly"] == parties.advertiser_wallet.friendly
    assert deal["advertiserWalletFriendly"].startswith("0Q")  # non-bounceable, test-only
    assert _terms(body).fee_recipient == fee_wallet.address
    # The same mnemonic names another wallet (v5r1 wallet id) on testnet than in the sandbox.
    sandbox_wallet = platform_wallet_for(make_settings(database_url, tmp_path))
    assert sandbox_wallet is not None
    assert _terms(body).platform != Address(sandbox_wallet.raw_address)
