"""What the platform wallet attaches to an escrow op: what the op pays out, less what the escrow
holds, plus the gas margin — never less than the margin (pure arithmetic; tests/ton/test_wallet.py
sends these ops on the chain)."""

from __future__ import annotations

import pytest

from chainfluence.models import EscrowAction, EscrowActionKind
from chainfluence.ton.escrow import EscrowData, EscrowState
from chainfluence.ton.wallet import MIN_OP_VALUE_NANO, op_value_nano, payout_nano
from tests.ton.escrow_harness import make_terms

TON = 10**9
TERMS = make_terms(price_nano=10 * TON, fee_nano=TON // 2)


def _action(kind: EscrowActionKind, share_bps: int | None = None) -> EscrowAction:
    return EscrowAction(deal_id=1, kind=kind, publisher_share_bps=share_bps)


@pytest.mark.parametrize(
    ("kind", "share_bps", "paid_out"),
    [
        (EscrowActionKind.release, None, 10 * TON),  # price − fee to the publisher, fee to us
        (EscrowActionKind.refund, None, 0),  # the balance goes back, whatever it is
        # A quarter of the price less a quarter of the fee, plus that quarter of the fee.
        (EscrowActionKind.dispute_split, 2_500, 10 * TON // 4),
        (EscrowActionKind.dispute_split, 0, 0),
        (EscrowActionKind.dispute_split, 10_000, 10 * TON),
    ],
)
def test_an_empty_escrow_needs_the_payout_plus_the_margin(
    kind: EscrowActionKind, share_bps: int | None, paid_out: int
) -> None:
    empty = EscrowData(terms=TERMS, state=EscrowState.OPEN, balance_nano=0)

    assert payout_nano(_action(kind, share_bps), empty) == paid_out
    assert op_value_nano(_action(kind, share_bps), empty) == paid_out + MIN_OP_VALUE_NANO


def test_a_funded_escrow_needs_the_margin_and_a_short_one_its_shortfall_too() -> None:
    release = _action(EscrowActionKind.release)
    funded = EscrowData(terms=TERMS, state=EscrowState.OPEN, balance_nano=10 * TON + 1)
    # Storage rent took 1,234 nanotons from the price.
    short = EscrowData(terms=TERMS, state=EscrowState.OPEN, balance_nano=10 * TON - 1_234)

    assert op_value_nano(release, funded) == MIN_OP_VALUE_NANO
    assert op_value_nano(release, short) == 1_234 + MIN_OP_VALUE_NANO
