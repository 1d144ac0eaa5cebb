"""ton_proof's clock rules at their exact edges: 60 s of skew allowed each way, not one second more.

The HTTP tests (test_router.py) show an hour off either way is refused; these pin the boundary
itself, which needs a fixed "now" and challenge time, so they call the verifier with both.
"""

from __future__ import annotations

import base64
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


async def _verify(wallet: TonConnectWallet, timestamp: int) -> str:
    proven = await verify_ton_proof(
        _claim(wallet, timestamp),
        allowed_domains=[DOMAIN],
        accepted_chains=frozenset({TonChain.mainnet}),
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
        pytest.param(int(NOW.timestamp()) + SKEW + 1, "dated in the future", id="61s-ahead-of-now"),
        pytest.param(
            int(ISSUED_AT.timestamp()) - SKEW - 1,
            "signed before this challenge",
            id="61s-before-challenge",
        ),
    ],
)
async def test_proof_one_second_past_the_skew_is_stale(timestamp: int, message: str) -> None:
    with pytest.raises(TonProofRejected) as refused:
        await _verify(TonConnectWallet(), timestamp)

    assert refused.value.reason is ProofFailure.stale
    assert message in str(refused.value)
