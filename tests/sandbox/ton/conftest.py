"""Fixtures for the local TON chain tests; the chain itself (`chain`, `ton_endpoint`) comes from
tests/conftest.py."""

from __future__ import annotations

import pytest

from chainfluence_sandbox.ton import SandboxWallet, TonChain

TON = 1_000_000_000


@pytest.fixture
def alice(chain: TonChain) -> SandboxWallet:
    return SandboxWallet.create(chain, balance_nano=50 * TON)
