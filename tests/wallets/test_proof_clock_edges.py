"""ton_proof's clock rules at their exact edges: 60 s of skew allowed each way, not one second more.

The HTTP tests (test_router.py) show an hour off either way is refused; these pin the boundary
itself, which needs a fixed "now" and challenge time, so they call the verifier with both.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt

import pytest

from chainfluence.ton.ton_proof import (
    CLOCK_SKEW,
    ProofFailure,
    TonChain,
    TonProofClaim,
    TonProofRejected,
    verify_ton_proof,
)
from tests.wallets.ton_connect_wallet import DOMAIN, MAINNET, TonConnectWallet

ISSUED_AT = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
NOW = ISSUED_AT + dt.timedelta(minutes=5)
SKEW = int(CLOCK_SKEW.total_seconds())


def _claim(wallet: TonConnectWallet, timestamp: int) -> TonProofClaim:
    payload = "ab" * 32
    signature = wallet.sign_proof(payload=payload, domain=DOMAIN, timestamp=timestamp)
    return TonProofClaim(
        address=wallet.raw,
        chain=MAINNET,
        public_key=bytes.fromhex(wallet.public_key),
        state_init=wallet.state_init,
        timestamp=timestamp,
        domain=DOMAIN,
        domain_length=len(DOMAIN.encode()),
        payload=payload,
        signature=base64.b64decode(signature),
    )


async def _verify(
    wallet: TonConnectWallet,
    timestamp: int,
    *,
    accepted: frozenset[TonChain] = frozenset({TonChain.mainnet}),
    **claim: object,
) -> str:
    proven = await verify_ton_proof(
        dataclasses.replace(_claim(wallet, timestamp), **claim),
        allowed_domains=[DOMAIN],
        accepted_chains=accepted,
        issued_at=ISSUED_AT,
        now=NOW,
    )
    return proven.address


def test_the_skew_is_one_minute() -> None:
    assert SKEW == 60


@pytest.mark.parametrize(
    "timestamp",
    [
        pytest.param(int(NOW.timestamp()) + SKEW, id="dated-exactly-60s-ahead"),
        pytest.param(int(ISSUED_AT.timestamp()) - SKEW, id="signed-exactly-60s-before-challenge"),
        pytest.param(int(NOW.timestamp()), id="signed-now"),
        pytest.param(int(ISSUED_AT.timestamp()), id="signed-as-issued"),
    ],
)
async def test_proof_within_the_skew_is_accepted(timestamp: int) -> None:
    wallet = TonConnectWallet()

    assert await _verify(wallet, timestamp) == wallet.raw


@pytest.mark.parametrize(
    ("timestamp", "message"),
    [
        pytest.param(
            int(NOW.timestamp()) + SKEW + 1,
            "The proof is dated in the future; check the clock.",
            id="61s-ahead-of-now",
        ),
        pytest.param(
            int(ISSUED_AT.timestamp()) - SKEW - 1,
            "The proof was signed before this challenge was issued.",
            id="61s-before-challenge",
        ),
    ],
)
async def test_proof_one_second_past_the_skew_is_stale(timestamp: int, message: str) -> None:
    with pytest.raises(TonProofRejected) as refused:
        await _verify(TonConnectWallet(), timestamp)

    assert refused.value.reason is ProofFailure.stale
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("accepted", "claim", "reason", "message"),
    [
        pytest.param(
            frozenset({TonChain.mainnet}),
            {"chain": -3},
            ProofFailure.wrong_network,
            "This wallet is on another TON network (chain -3); connect a mainnet wallet.",
            id="testnet-wallet",
        ),
        pytest.param(
            frozenset({TonChain.mainnet, TonChain.testnet}),
            {"chain": 662387},
            ProofFailure.wrong_network,
            "This wallet is on another TON network (chain 662387); connect a mainnet or "
            "testnet wallet.",
            id="unknown-network",
        ),
        pytest.param(
            frozenset({TonChain.mainnet}),
            {"domain_length": len(DOMAIN) + 1},
            ProofFailure.malformed,
            "The proof's domain lengthBytes does not match its value.",
            id="domain-length-lies",
        ),
        pytest.param(
            frozenset({TonChain.mainnet}),
            {"address": "-1:" + "5" * 64},
            ProofFailure.unsupported_wallet,
            "Only wallets in the base workchain (0:…) can be linked.",
            id="masterchain",
        ),
        pytest.param(
            frozenset({TonChain.mainnet}),
            {"address": "0:" + "5" * 64},
            ProofFailure.address_mismatch,
            "The wallet address does not match its stateInit: this is not that wallet's proof.",
            id="address-not-of-state-init",
        ),
    ],
)
async def test_refusals_say_exactly_what_is_wrong(
    accepted: frozenset[TonChain], claim: dict[str, object], reason: ProofFailure, message: str
) -> None:
    with pytest.raises(TonProofRejected) as refused:
        await _verify(TonConnectWallet(), int(NOW.timestamp()), accepted=accepted, **claim)

    assert refused.value.reason is reason
    assert str(refused.value) == message
