"""Fixtures for the escrow tests: one TVM emulator (mainnet config) and escrow factories."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chainfluence.sandbox.tvm import Emulator
from tests.ton.escrow_harness import DAY, EscrowUnderTest, make_terms


@pytest.fixture(scope="session")
def emulator() -> Emulator:
    return Emulator()


@pytest.fixture
def new_escrow(emulator: Emulator) -> Callable[..., EscrowUnderTest]:
    """Makes an escrow (not deployed yet) for `make_terms(**terms)`."""

    def factory(**terms: int) -> EscrowUnderTest:
        return EscrowUnderTest(emulator, make_terms(**terms))

    return factory


@pytest.fixture
def funded_escrow(new_escrow: Callable[..., EscrowUnderTest]) -> EscrowUnderTest:
    """10 TON deal (0.5 TON fee) paid exactly, deployed by the payment, one day old."""
    escrow = new_escrow()
    escrow.deposit(escrow.terms.price_nano)
    escrow.now += DAY
    return escrow
