"""The local TON chain: real wallet code checks signatures and seqnos, messages bounce, logical
times grow, blocks link up, the project clock is the chain's clock, and state survives restarts."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from pathlib import Path

import pytest
from pytoniq_core.boc.address import Address
from pytoniq_core.tlb.transaction import MessageAny

from chainfluence.kit.time import advance, utcnow
from chainfluence.ton.signing import OfflineWallet, OutgoingMessage, WalletVersion
from chainfluence_sandbox.ton import SandboxWallet, TonChain
from chainfluence_sandbox.ton.chain import MessageRejectedError
from chainfluence_sandbox.tvm import AccountStatus, Emulator, ExternalMessage
from tests.sandbox.ton.conftest import TON


def nowhere(label: str) -> Address:
    return Address((0, hashlib.sha256(f"{label}-{utcnow()}".encode()).digest()))


@pytest.mark.parametrize("version", list(WalletVersion))
async def test_wallet_transfer_with_comment_reaches_a_new_address_exactly(
    chain: TonChain, version: WalletVersion
) -> None:
    wallet = SandboxWallet.create(chain, balance_nano=10 * TON, version=version)
    target = nowhere("target")

    await wallet.transfer(target, 3 * TON, comment="hello")

    assert chain.balance(target) == 3 * TON
    assert chain.account(target).status is AccountStatus.UNINIT
    assert wallet.seqno() == 1
    (received,) = chain.transactions(target)
    assert received.tx.in_msg is not None
    assert received.tx.in_msg.comment == "hello"
    assert received.tx.in_msg.source == wallet.raw_address
    # Funding, deploy-and-send: the sender paid 3 TON plus fees, nothing else.
    fees = sum(s.tx.total_fees_nano for s in chain.transactions(wallet.address))
    forwarded = sum(
        m.fwd_fee_nano for s in chain.transactions(wallet.address) for m in s.tx.out_msgs
    )
    assert wallet.balance_nano == 10 * TON - 3 * TON - fees - forwarded


async def test_replayed_message_is_rejected_by_the_wallet_code(
    chain: TonChain, alice: SandboxWallet
) -> None:
    signed = await alice.sign([OutgoingMessage(destination=nowhere("a"), value_nano=TON)])
    chain.send_external(signed.cell)

    with pytest.raises(MessageRejectedError):
        chain.send_external(signed.cell)

    assert alice.seqno() == 1


async def test_message_signed_with_another_key_is_rejected(
    chain: TonChain, alice: SandboxWallet
) -> None:
    await alice.transfer(nowhere("deploy"), TON)
    impostor = OfflineWallet(private_key=secrets.token_bytes(32))
    forged = await impostor.sign(
        [OutgoingMessage(destination=nowhere("thief"), value_nano=10 * TON)],
        seqno=alice.seqno(),
        valid_until=int(utcnow().timestamp()) + 60,
        deploy=False,
    )
    body = MessageAny.deserialize(forged.cell.begin_parse()).body

    with pytest.raises(MessageRejectedError):
        chain.send_external(ExternalMessage(dest=alice.address, body=body).to_cell())

    assert alice.seqno() == 1


async def test_expired_message_is_rejected(chain: TonChain, alice: SandboxWallet) -> None:
    signed = await alice.sign([OutgoingMessage(destination=nowhere("a"), value_nano=TON)])

    advance(dt.timedelta(minutes=2))

    with pytest.raises(MessageRejectedError):
        chain.send_external(signed.cell)


async def test_bounceable_transfer_to_nothing_comes_back_less_fees(
    chain: TonChain, alice: SandboxWallet
) -> None:
    await alice.transfer(nowhere("b"), TON)  # deploys alice
    before = alice.balance_nano
    target = nowhere("missing")

    await alice.transfer(target, TON, bounce=True)

    assert chain.account(target).status is AccountStatus.NONEXIST
    (bounced,) = chain.transactions(target)
    assert bounced.tx.bounced_back
    assert before - 2 * TON // 100 < alice.balance_nano < before


async def test_messages_wait_in_the_mempool_until_mined_and_duplicates_apply_once(
    chain: TonChain, alice: SandboxWallet
) -> None:
    chain.auto_mine = False
    target = nowhere("later")
    signed = await alice.sign([OutgoingMessage(destination=target, value_nano=TON, bounce=False)])

    chain.send_external(signed.cell)
    chain.send_external(signed.cell)
    assert chain.balance(target) == 0
    assert chain.pending_messages == 2
    chain.mine()

    assert chain.balance(target) == TON
    assert chain.pending_messages == 0
    assert len(chain.transactions(alice.address)) == 2  # the funding, one transfer


async def test_each_hop_lands_in_a_later_shard_block_and_blocks_link_up(
    chain: TonChain, alice: SandboxWallet
) -> None:
    before = chain.last_master_block
    target = nowhere("hop")

    await alice.transfer(target, TON, bounce=False)

    master = chain.last_master_block
    assert master.id.seqno == before.id.seqno + 1
    assert master.prev == before.id
    (tip,) = master.shards
    wallet_tx = chain.transactions(alice.address)[-1]
    target_tx = chain.transactions(target)[-1]
    assert target_tx.block == tip
    assert wallet_tx.block.seqno == tip.seqno - 1
    shard = chain.shard_block(0, tip.shard, tip.seqno)
    assert shard is not None
    assert shard.prev == wallet_tx.block
    assert wallet_tx.tx.lt < target_tx.tx.in_msg.created_lt < target_tx.tx.lt  # type: ignore[union-attr]
    assert bytes.fromhex(target_tx.tx.hash) == target_tx.tx.cell.hash


async def test_chain_time_is_the_project_clock(chain: TonChain, alice: SandboxWallet) -> None:
    advance(dt.timedelta(days=3))
    before = int(utcnow().timestamp())

    await alice.transfer(nowhere("c"), TON)

    latest = chain.transactions(alice.address)[-1]
    # Between the project clock's readings around the transfer (however long a loaded machine
    # takes over it), three days from real time.
    assert before <= latest.tx.utime <= int(utcnow().timestamp())


async def test_chain_state_survives_a_restart(tvm: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "chain.json"
    chain = TonChain(emulator=tvm, state_path=path)
    wallet = SandboxWallet.create(chain, balance_nano=10 * TON)
    target = nowhere("kept")
    await wallet.transfer(target, TON)

    restarted = TonChain(emulator=tvm, state_path=path)
    again = SandboxWallet(restarted, wallet.wallet)
    await again.transfer(target, TON)

    assert restarted.init_block == chain.init_block
    assert restarted.balance(target) == 2 * TON
    assert again.seqno() == 2
    assert (
        next(s.tx.hash for s in restarted.transactions(target))
        == chain.transactions(target)[0].tx.hash
    )
    assert restarted.last_master_seqno == chain.last_master_seqno + 1
    assert TonChain(emulator=tvm).init_block != chain.init_block  # a new chain is another chain
