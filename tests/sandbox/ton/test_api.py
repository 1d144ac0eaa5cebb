"""The local chain over HTTP, as toncenter v2: our production client and tonutils' unchanged."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from pytoniq_core.boc.address import Address
from ton_core import NetworkGlobalID
from tonutils.clients import ToncenterClient
from tonutils.contracts.wallet.versions.v5 import WalletV5R1

from chainfluence.kit.time import utcnow
from chainfluence.ton.client import TonApiError, TonClient
from chainfluence.ton.escrow import EscrowState, EscrowTerms, escrow_address, escrow_state_init
from chainfluence.ton.signing import OutgoingMessage
from chainfluence.ton.transactions import raw_address
from chainfluence_sandbox.ton import RunningTonEmulator, SandboxWallet, TonChain
from chainfluence_sandbox.tvm import text_comment
from tests.sandbox.ton.conftest import TON


def nowhere(label: str) -> Address:
    return Address((0, hashlib.sha256(f"{label}-{utcnow()}".encode()).digest()))


@pytest.fixture
async def client(ton_endpoint: RunningTonEmulator) -> AsyncIterator[TonClient]:
    async with TonClient(ton_endpoint.api_url) as client:
        yield client


async def test_account_states_of_nothing_uninit_and_active(
    client: TonClient, chain: TonChain, alice: SandboxWallet
) -> None:
    target = nowhere("t")
    await alice.transfer(target, TON)

    missing = await client.get_account(raw_address(nowhere("missing")))
    uninit = await client.get_account(raw_address(target))
    active = await client.get_account(alice.raw_address)

    assert (missing.status, missing.balance_nano, missing.last_lt) == ("uninit", 0, 0)
    assert (uninit.status, uninit.balance_nano) == ("uninit", TON)
    assert active.is_active
    assert active.balance_nano == alice.balance_nano
    assert active.last_lt == chain.account(alice.address).last_trans_lt
    assert active.last_hash == chain.transactions(alice.address)[-1].tx.hash
    assert await client.get_seqno(alice.raw_address) == 1
    assert await client.get_seqno(raw_address(target)) == 0


async def test_escrow_get_method_decodes_through_the_api(
    client: TonClient, alice: SandboxWallet
) -> None:
    terms = EscrowTerms(
        deal_id=5,
        platform=nowhere("platform"),
        advertiser=alice.address,
        publisher=nowhere("publisher"),
        fee_recipient=nowhere("fee"),
        price_nano=2 * TON,
        fee_nano=TON // 10,
        refund_after=int(utcnow().timestamp()) + 3600,
    )
    address = raw_address(escrow_address(terms))
    assert await client.get_escrow_data(address) is None

    await alice.transfer(address, 2 * TON, state_init=escrow_state_init(terms))
    data = await client.get_escrow_data(address)

    assert data is not None
    assert data.terms == terms
    assert data.state is EscrowState.OPEN
    assert 2 * TON - TON // 100 < data.balance_nano < 2 * TON


async def test_transactions_page_back_to_the_cursor_oldest_first(
    client: TonClient, chain: TonChain
) -> None:
    target = nowhere("busy")
    for i in range(1, 131):
        chain.fund(target, i)
    every = [s.tx for s in chain.transactions(target)]

    everything = await client.get_transactions(raw_address(target))
    calls = client.calls
    after_cursor = await client.get_transactions(raw_address(target), after_lt=every[9].lt)

    assert [tx.hash for tx in everything] == [tx.hash for tx in every]
    assert [tx.in_msg.value_nano for tx in after_cursor] == list(range(11, 131))  # type: ignore[union-attr]
    assert client.calls - calls == 2  # 120 transactions: two pages of 100


async def test_replayed_external_message_is_refused_like_toncenter_refuses_it(
    client: TonClient, alice: SandboxWallet
) -> None:
    signed = await alice.sign([OutgoingMessage(destination=nowhere("x"), value_nano=TON)])
    await client.send_boc(signed.boc)

    with pytest.raises(TonApiError) as refused:
        await client.send_boc(signed.boc)

    assert refused.value.status == 500
    assert "External message was not accepted" in str(refused.value)
    assert alice.seqno() == 1


async def test_blocks_through_the_client_walk_back_to_every_transaction(
    client: TonClient, chain: TonChain, alice: SandboxWallet
) -> None:
    target = nowhere("walk")
    await alice.transfer(target, TON, bounce=False)

    tip, init = await client.masterchain_info()
    (shard_tip,) = await client.shards(tip.seqno)
    header = await client.block_header(shard_tip)
    (previous,) = header.prev_blocks
    in_tip = await client.block_transactions(shard_tip)
    in_previous = await client.block_transactions(previous)

    assert init.seqno == 1
    assert tip.seqno == chain.last_master_seqno
    assert [tx.account for tx in in_tip] == [raw_address(target)]
    assert [tx.account for tx in in_previous] == [alice.raw_address]
    assert in_previous[0].hash == chain.transactions(alice.address)[-1].tx.hash


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/getAddressInformation", {"address": "not-an-address"}, 416),
        ("/getAddressInformation", {}, 422),
        ("/shards", {"seqno": 10**6}, 500),
        ("/getTransactions", {"address": "0:" + "0" * 64, "lt": 5}, 400),
    ],
)
async def test_errors_have_toncenter_shape(
    ton_endpoint: RunningTonEmulator, path: str, params: dict[str, object], status: int
) -> None:
    async with httpx.AsyncClient(base_url=ton_endpoint.api_url) as http:
        response = await http.get(path, params=params)

    assert response.status_code == status
    body = response.json()
    assert body["ok"] is False
    assert body["code"] == status
    assert body["error"]


async def test_tonutils_toncenter_client_and_wallet_work_unchanged(
    ton_endpoint: RunningTonEmulator, chain: TonChain
) -> None:
    client = ToncenterClient(
        NetworkGlobalID.MAINNET, base_url=ton_endpoint.api_url, rps_limit=1000, rps_period=1
    )
    await client.connect()
    try:
        wallet, _public, _private, _words = WalletV5R1.create(client, mnemonic_length=24)
        chain.fund(wallet.address.to_str(is_user_friendly=False), 5 * TON)
        target = nowhere("tonutils")

        await wallet.transfer(raw_address(target), TON, body="from tonutils")
        info = await client.get_info(wallet.address)
        (seqno,) = await client.run_get_method(wallet.address, "seqno")
        transactions = await client.get_transactions(wallet.address, limit=10)
        config = await client.get_config()
    finally:
        await client.close()

    assert chain.balance(target) == TON
    assert chain.transactions(target)[0].tx.in_msg.comment == "from tonutils"  # type: ignore[union-attr]
    assert info.state.value == "active"
    assert seqno == 1
    assert len(transactions) == 2
    assert 34 in config  # the validator set: the real mainnet config is served


async def test_control_api_pays_a_ton_connect_message_from_a_sandbox_wallet(
    ton_endpoint: RunningTonEmulator, chain: TonChain
) -> None:
    terms = EscrowTerms(
        deal_id=9,
        platform=nowhere("platform"),
        advertiser=nowhere("advertiser"),
        publisher=nowhere("publisher"),
        fee_recipient=nowhere("fee"),
        price_nano=3 * TON,
        fee_nano=0,
        refund_after=int(utcnow().timestamp()) + 3600,
    )
    address = raw_address(escrow_address(terms))
    state_init = base64.b64encode(escrow_state_init(terms).serialize().to_boc()).decode()
    payload = base64.b64encode(text_comment("deal 9").to_boc()).decode()

    async with httpx.AsyncClient(base_url=ton_endpoint.base_url) as http:
        created = (await http.post("/sandbox/wallets", json={"balanceNano": 10 * TON})).json()
        paid = await http.post(
            f"/sandbox/wallets/{created['address']}/transfer",
            json={
                "address": address,
                "amountNano": 3 * TON,
                "payload": payload,
                "stateInit": state_init,
            },
        )
        account = (await http.get(f"/sandbox/accounts/{address}")).json()

    assert paid.status_code == 200, paid.text
    assert account["status"] == "active"
    (deposit,) = chain.transactions(address)
    assert deposit.tx.in_msg is not None
    assert deposit.tx.in_msg.comment == "deal 9"
    assert deposit.tx.in_msg.value_nano == 3 * TON
