"""Fixtures for the local TON chain tests: a fresh chain per test, and it served over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chainfluence.sandbox.ton import RunningTonEmulator, SandboxWallet, TonChain, run_ton_emulator
from chainfluence.sandbox.tvm import Emulator

TON = 1_000_000_000


@pytest.fixture(scope="session")
def tvm() -> Emulator:
    return Emulator()


@pytest.fixture
def ton_chain(tvm: Emulator) -> TonChain:
    return TonChain(emulator=tvm)


@pytest.fixture
async def ton_endpoint(ton_chain: TonChain) -> AsyncIterator[RunningTonEmulator]:
    async with run_ton_emulator(ton_chain) as running:
        yield running


@pytest.fixture
def alice(ton_chain: TonChain) -> SandboxWallet:
    return SandboxWallet.create(ton_chain, balance_nano=50 * TON)
