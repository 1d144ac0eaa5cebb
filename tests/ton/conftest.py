"""Fixtures for the TON tests: the TVM emulator, escrow factories, and the local chain with a
runtime pointed at it (client, watcher, platform wallet)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.bootstrap import build_runtime
from chainfluence.config import Settings
from chainfluence.runtime import Runtime
from chainfluence.ton.escrow import EscrowVersion
from chainfluence_sandbox.ton import RunningTonEmulator, SandboxWallet, TonChain
from chainfluence_sandbox.tvm import Emulator
from tests.conftest import make_settings
from tests.ton.chain_harness import TON
from tests.ton.escrow_harness import DAY, EscrowUnderTest, make_terms


@pytest.fixture(scope="session")
def emulator() -> Emulator:
    return Emulator()


@pytest.fixture(params=list(EscrowVersion), ids=lambda version: f"v{int(version)}")
def escrow_version(request: pytest.FixtureRequest) -> EscrowVersion:
    """Every escrow test runs on both contract versions: v1 escrows stay on chain for good."""
    version: EscrowVersion = request.param
    return version


@pytest.fixture
def new_escrow(emulator: Emulator, escrow_version: EscrowVersion) -> Callable[..., EscrowUnderTest]:
    """Makes an escrow (not deployed yet) for `make_terms(**terms)`."""

    def factory(**terms: int) -> EscrowUnderTest:
        return EscrowUnderTest(emulator, make_terms(**terms), version=escrow_version)

    return factory


@pytest.fixture
def funded_escrow(new_escrow: Callable[..., EscrowUnderTest]) -> EscrowUnderTest:
    """10 TON deal (0.5 TON fee) paid exactly, deployed by the payment, one day old."""
    escrow = new_escrow()
    escrow.deposit(escrow.terms.price_nano)
    escrow.now += DAY
    return escrow


# ---- a runtime pointed at the local chain (`chain` and `ton_endpoint` are in tests/conftest.py) --


@pytest.fixture
def chain_settings(
    db: AsyncEngine, database_url: str, tmp_path: Path, ton_endpoint: RunningTonEmulator
) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        ton={
            "api_url": ton_endpoint.api_url,
            "watch_mode": "blocks",
            "delivery_timeout_seconds": 60,
        },
    )


@pytest.fixture
async def chain_runtime(chain_settings: Settings, chain: TonChain) -> AsyncIterator[Runtime]:
    """A runtime with the chain services (client, watcher, platform wallet), loops not started:
    tests drive watcher cycles and wallet passes themselves. The platform wallet is funded."""
    runtime = build_runtime(chain_settings)
    assert runtime.chain is not None
    assert runtime.chain.wallet is not None
    chain.fund(runtime.chain.wallet.address, 1_000 * TON)
    try:
        yield runtime
    finally:
        await runtime.queue.drain()
        await runtime.close()


@pytest.fixture
def advertiser(chain: TonChain) -> SandboxWallet:
    return SandboxWallet.create(chain, balance_nano=100 * TON)
