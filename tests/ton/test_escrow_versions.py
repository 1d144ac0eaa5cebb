"""The two escrow versions side by side: the two weaknesses of v1 reproduced, and closed in v2.

1. Leftovers after close: on a closed v1 escrow, value that a failed non-bounceable op left behind
   goes to whoever sends the next plain transfer (mode 128 to the sender). v2 returns only the
   sender's own value and sends the rest to the advertiser.
2. A fee recipient outside the basechain: v1 takes the deposit and then fails every release in the
   action phase, for good (only a refund gets the money out). v2 refuses such terms: the deposit
   bounces and a release throws 406, while a refund still works. Python refuses to build them.
"""

from __future__ import annotations

import hashlib

import pytest
from pytoniq_core.boc.address import Address
from pytoniq_core.boc.builder import Builder
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit

from chainfluence.ton.escrow import (
    EscrowExitCode,
    EscrowState,
    EscrowTerms,
    EscrowVersion,
    escrow_code,
    escrow_initial_data,
    escrow_version_of,
    refund_body,
    release_body,
    storage_rent_nano,
)
from chainfluence_sandbox.tvm import AccountState, AccountStatus, Emulator
from tests.ton.escrow_harness import (
    DAY,
    OP_VALUE,
    PARTIES,
    TON,
    EscrowUnderTest,
    make_terms,
    payouts,
)

UNKNOWN_OP = 0x12345678


def unknown_op_body() -> Cell:
    body: Cell = Builder().store_uint(UNKNOWN_OP, 32).store_uint(0, 64).end_cell()
    return body


def closed_escrow_with_leftover(
    emulator: Emulator, version: EscrowVersion, leftover_nano: int
) -> EscrowUnderTest:
    """A released escrow holding `leftover_nano` a failed non-bounceable op left behind."""
    escrow = EscrowUnderTest(emulator, make_terms(), version=version)
    escrow.deposit(escrow.terms.price_nano)
    escrow.send(PARTIES.platform, OP_VALUE, release_body(1), after=DAY)
    assert escrow.account.balance_nano == 0
    failed = escrow.send(PARTIES.publisher, leftover_nano, unknown_op_body(), bounce=False)
    assert not failed.success
    assert failed.out_messages == ()
    assert escrow.account.balance_nano > leftover_nano - TON // 100
    return escrow


def test_v1_gives_leftovers_after_close_to_the_next_sender(emulator: Emulator) -> None:
    escrow = closed_escrow_with_leftover(emulator, EscrowVersion.V1, 3 * TON)
    leftover = escrow.account.balance_nano

    result = escrow.send(PARTIES.stranger, TON, bounce=False, after=60)

    (returned,) = result.out_messages
    assert returned.dest == PARTIES.stranger
    assert returned.value_nano > TON + leftover - TON // 100  # the stranger takes the leftover


def test_v2_returns_only_the_senders_value_and_the_leftover_to_the_advertiser(
    emulator: Emulator,
) -> None:
    escrow = closed_escrow_with_leftover(emulator, EscrowVersion.V2, 3 * TON)
    leftover = escrow.account.balance_nano

    result = escrow.send(PARTIES.stranger, TON, bounce=False, after=60)

    assert result.success
    paid = payouts(result)
    assert set(paid) == {PARTIES.stranger, PARTIES.advertiser}
    assert (
        TON - TON // 100 < paid[PARTIES.stranger] < TON
    )  # own value, less this transaction's fees
    assert leftover - TON // 100 < paid[PARTIES.advertiser] <= leftover
    assert all(not message.bounce for message in result.out_messages)
    assert escrow.account.balance_nano == 0
    assert escrow.data().state is EscrowState.RELEASED


# ---- terms with a fee recipient outside the basechain --------------------------------------------


def outside_basechain(workchain: int) -> Address:
    return Address((workchain, hashlib.sha256(b"fee recipient elsewhere").digest()))


def escrow_with_fee_recipient(
    emulator: Emulator, version: EscrowVersion, fee_recipient: Address
) -> EscrowUnderTest:
    """An escrow whose data EscrowTerms would refuse to build (the fee recipient is elsewhere)."""
    terms = make_terms()
    parties = (
        Builder()
        .store_address(terms.advertiser)
        .store_address(terms.publisher)
        .store_address(fee_recipient)
        .end_cell()
    )
    root = escrow_initial_data(terms)
    data = Builder().store_bits(root.bits).store_ref(parties).end_cell()
    escrow = EscrowUnderTest(emulator, terms, version=version)
    state_init = StateInit(code=escrow_code(version), data=data)
    escrow.address = Address((0, state_init.serialize().hash))
    escrow.account = AccountState.nonexistent(escrow.address)
    escrow.state_init = state_init
    return escrow


@pytest.mark.parametrize("workchain", [-1, 1])
def test_terms_refuse_a_fee_recipient_outside_the_basechain(workchain: int) -> None:
    terms = make_terms()
    with pytest.raises(ValueError, match="fee_recipient must be a basechain"):
        EscrowTerms(
            deal_id=terms.deal_id,
            platform=terms.platform,
            advertiser=terms.advertiser,
            publisher=terms.publisher,
            fee_recipient=outside_basechain(workchain),
            price_nano=terms.price_nano,
            fee_nano=terms.fee_nano,
            refund_after=terms.refund_after,
        )


def test_v1_takes_the_deposit_then_fails_every_release(emulator: Emulator) -> None:
    escrow = escrow_with_fee_recipient(emulator, EscrowVersion.V1, outside_basechain(1))
    escrow.deposit(escrow.terms.price_nano + TON)

    for attempt in range(2):
        release = escrow.send(PARTIES.platform, OP_VALUE, release_body(attempt), after=DAY)
        assert release.compute.success
        assert release.action_success is False  # the payout to workchain 1 cannot be sent
        assert release.out_messages == ()
        assert escrow.state() is EscrowState.OPEN

    refund = escrow.send(PARTIES.platform, OP_VALUE, refund_body(9))
    assert refund.success
    assert set(payouts(refund)) == {PARTIES.advertiser}


@pytest.mark.parametrize("workchain", [-1, 1])
def test_v2_bounces_the_deposit_and_refuses_release_but_refunds(
    emulator: Emulator, workchain: int
) -> None:
    escrow = escrow_with_fee_recipient(emulator, EscrowVersion.V2, outside_basechain(workchain))

    deposit = escrow.send(PARTIES.advertiser, 11 * TON, bounce=True)
    assert deposit.exit_code == EscrowExitCode.INVALID_TERMS
    assert deposit.bounced
    assert payouts(deposit) == {
        PARTIES.advertiser: 11 * TON
        - deposit.total_fees_nano
        - sum(m.fwd_fee_nano for m in deposit.out_messages)
    }

    # A non-bounceable payment stays; the platform cannot release it, but it can be refunded.
    escrow.send(PARTIES.advertiser, 11 * TON, bounce=False)
    release = escrow.send(PARTIES.platform, OP_VALUE, release_body(1), after=DAY)
    assert release.exit_code == EscrowExitCode.INVALID_TERMS
    assert escrow.state() is EscrowState.OPEN
    refund = escrow.send(PARTIES.platform, OP_VALUE, refund_body(2))
    assert refund.success
    assert set(payouts(refund)) == {PARTIES.advertiser}
    assert payouts(refund)[PARTIES.advertiser] > 11 * TON - TON // 100
    assert escrow.state() is EscrowState.REFUNDED


def test_each_code_cell_is_recognised_as_its_version() -> None:
    assert escrow_version_of(escrow_code(EscrowVersion.V1)) is EscrowVersion.V1
    assert escrow_version_of(escrow_code(EscrowVersion.V2)) is EscrowVersion.V2
    assert escrow_code().hash == escrow_code(EscrowVersion.current()).hash
    with pytest.raises(ValueError, match="not an escrow code"):
        escrow_version_of(Builder().store_uint(1, 8).end_cell())


# ---- storage rent -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", list(EscrowVersion), ids=lambda v: f"v{int(v)}")
@pytest.mark.parametrize("days", [1, 365, 550, 3 * 365])
def test_storage_rent_estimate_covers_what_the_chain_collects(
    emulator: Emulator, version: EscrowVersion, days: int
) -> None:
    escrow = EscrowUnderTest(emulator, make_terms(), version=version)
    escrow.deposit(escrow.terms.price_nano)
    account = escrow.account
    assert account.code is not None
    assert account.data is not None
    estimate = storage_rent_nano(account.code, account.data, days * DAY)

    result = escrow.send(PARTIES.advertiser, TON, bounce=False, after=days * DAY)

    assert 0 < result.storage_fees_nano <= estimate
    assert estimate <= result.storage_fees_nano * 1.15  # a bound, not a guess


# ---- a frozen closed escrow ----------------------------------------------------------------------


@pytest.mark.parametrize("version", list(EscrowVersion), ids=lambda v: f"v{int(v)}")
def test_unfreezing_a_closed_escrow_pays_the_unfreezer_only_on_v1(
    emulator: Emulator, version: EscrowVersion
) -> None:
    """Left closed for 20 years, an escrow's storage debt passes the freeze limit (0.1 TON) and
    the next message freezes it; non-bounceable payments then stay in it. Its closed-state
    StateInit is computable by anyone, and a message carrying it unfreezes it."""
    escrow = EscrowUnderTest(emulator, make_terms(), version=version)
    escrow.deposit(escrow.terms.price_nano)
    escrow.send(PARTIES.platform, OP_VALUE, release_body(1), after=DAY)
    closed = escrow.account
    assert closed.code is not None
    assert closed.data is not None
    closed_state = StateInit(code=closed.code, data=closed.data)
    escrow.send(PARTIES.stranger, TON // 100, after=20 * 365 * DAY)
    assert escrow.account.status is AccountStatus.FROZEN
    escrow.state_init = None  # a plain payment: it stays in the frozen account
    escrow.send(PARTIES.publisher, 3 * TON, bounce=False, after=60)
    assert escrow.account.status is AccountStatus.FROZEN
    left = escrow.account.balance_nano
    assert left > 3 * TON - TON // 2  # what the payment left after paying the debt

    escrow.state_init = closed_state  # the harness sends it to an account that is not active
    result = escrow.send(PARTIES.stranger, TON, bounce=False, after=60)

    assert result.success
    assert escrow.account.status is AccountStatus.ACTIVE  # unfrozen, in its closed state
    assert escrow.state() is EscrowState.RELEASED
    paid = payouts(result)
    if version is EscrowVersion.V1:
        assert set(paid) == {PARTIES.stranger}
        assert paid[PARTIES.stranger] > left + TON - TON // 100  # the stranger drains it
    else:
        assert set(paid) == {PARTIES.stranger, PARTIES.advertiser}
        assert paid[PARTIES.stranger] < TON
        assert paid[PARTIES.advertiser] > left - TON // 100
