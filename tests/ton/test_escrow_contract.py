"""The escrow contract in the real TVM under the mainnet config.

Every op from every sender, closing, deposits, bounces, exact payouts. Every transaction is also
checked for conservation of money (what came in == what is left + what went out + fees, to the
nanoton) by `EscrowUnderTest.send`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytoniq_core.boc.builder import Builder
from pytoniq_core.boc.cell import Cell

from chainfluence.ton.escrow import (
    PAYOUT_FEE_RESERVE_NANO,
    EscrowExitCode,
    EscrowState,
    deposit_comment_body,
    escrow_address,
    escrow_code,
    escrow_initial_data,
    refund_body,
    release_body,
    split_amounts,
    split_body,
)
from chainfluence_sandbox.tvm import (
    EMPTY_CELL,
    AccountState,
    AccountStatus,
    Emulator,
    InternalMessage,
)
from tests.ton.escrow_harness import (
    DAY,
    NOW,
    OP_VALUE,
    PARTIES,
    SENDERS,
    TON,
    EscrowUnderTest,
    make_terms,
    payouts,
)

NewEscrow = Callable[..., EscrowUnderTest]

OP_BODIES: dict[str, Callable[[], Cell]] = {
    "release": lambda: release_body(1),
    "refund": lambda: refund_body(2),
    "split": lambda: split_body(3, 5_000),
}
STATE_AFTER = {
    "release": EscrowState.RELEASED,
    "refund": EscrowState.REFUNDED,
    "split": EscrowState.SPLIT,
}
ALLOWED = {
    ("release", "platform"),
    ("refund", "platform"),
    ("refund", "publisher"),
    ("split", "platform"),
}
REJECTED_WITH = {
    "release": EscrowExitCode.UNAUTHORIZED,
    "refund": EscrowExitCode.REFUND_LOCKED,
    "split": EscrowExitCode.UNAUTHORIZED,
}
DEPOSIT_BODIES: dict[str, Cell] = {
    "empty-body": EMPTY_CELL,
    "text-comment": deposit_comment_body("deal 42: payment"),
}


def all_fees(escrow: EscrowUnderTest) -> int:
    """Every fee of the escrow's last transaction: validators' share plus forwarding fees."""
    result = escrow.history[-1]
    return result.total_fees_nano + sum(m.fwd_fee_nano for m in result.out_messages)


def assert_rejected(escrow: EscrowUnderTest, exit_code: int, balance_before: int) -> None:
    """The op threw: nothing was paid, the attached value bounced, the escrow kept its funds."""
    result = escrow.history[-1]
    assert result.exit_code == exit_code
    assert result.aborted
    assert result.bounced
    (bounce,) = result.out_messages
    assert bounce.bounced
    assert not bounce.bounce
    assert 0 < bounce.value_nano < result.in_value_nano
    # Only storage rent for the elapsed time left the escrow; gas came out of the bounced value.
    assert escrow.account.balance_nano == balance_before - result.storage_fees_nano
    assert escrow.data().state is EscrowState.OPEN


# ---- who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize(("op", "sender"), sorted(ALLOWED))
def test_authorised_sender_closes_escrow_and_empties_it(
    funded_escrow: EscrowUnderTest, op: str, sender: str
) -> None:
    result = funded_escrow.send(PARTIES.by_name(sender), OP_VALUE, OP_BODIES[op]())

    assert result.success
    assert funded_escrow.data().state is STATE_AFTER[op]
    assert funded_escrow.account.balance_nano == 0
    assert all(not m.bounce for m in result.out_messages)


@pytest.mark.parametrize(
    ("op", "sender"),
    sorted((op, sender) for op in OP_BODIES for sender in SENDERS if (op, sender) not in ALLOWED),
)
def test_unauthorised_sender_is_rejected_and_value_bounced_back(
    funded_escrow: EscrowUnderTest, op: str, sender: str
) -> None:
    balance_before = funded_escrow.account.balance_nano

    result = funded_escrow.send(PARTIES.by_name(sender), OP_VALUE, OP_BODIES[op]())

    assert_rejected(funded_escrow, REJECTED_WITH[op], balance_before)
    assert result.out_messages[0].dest == PARTIES.by_name(sender)


@pytest.mark.parametrize("sender", ["stranger", "advertiser", "fee_recipient"])
@pytest.mark.parametrize(
    ("seconds_from_refund_after", "allowed"),
    [
        pytest.param(-DAY, False, id="a-day-before"),
        pytest.param(-1, False, id="one-second-before"),
        pytest.param(0, True, id="at-refund-after"),
        pytest.param(30 * DAY, True, id="a-month-after"),
    ],
)
def test_refund_by_anyone_is_allowed_from_refund_after_on(
    funded_escrow: EscrowUnderTest, sender: str, seconds_from_refund_after: int, allowed: bool
) -> None:
    escrow = funded_escrow
    deadline = escrow.terms.refund_after + seconds_from_refund_after
    escrow.now = deadline - 3600
    balance_before = escrow.account.balance_nano

    result = escrow.send(PARTIES.by_name(sender), OP_VALUE, refund_body(9), after=3600)

    if allowed:
        assert result.success
        assert escrow.data().state is EscrowState.REFUNDED
        assert payouts(result) == {
            PARTIES.advertiser: balance_before + OP_VALUE - all_fees(escrow),
        }
    else:
        assert_rejected(escrow, EscrowExitCode.REFUND_LOCKED, balance_before)


# ---- release ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price_nano", "fee_nano"),
    [
        pytest.param(TON, 50_000_000, id="1-TON"),
        pytest.param(4_294_967_297, 123_456_789, id="just-above-2**32-nanotons"),
        pytest.param(10 * TON, TON // 2, id="10-TON"),
        pytest.param(1_000_000 * TON + 7, 50_000 * TON + 3, id="1M-TON"),
        pytest.param(5 * TON, 0, id="no-fee"),
        pytest.param(5 * TON, 5 * TON, id="fee-is-whole-price"),
    ],
)
def test_release_pays_publisher_price_minus_fee_and_fee_recipient_the_fee_exactly(
    new_escrow: NewEscrow, price_nano: int, fee_nano: int
) -> None:
    escrow = new_escrow(price_nano=price_nano, fee_nano=fee_nano)
    escrow.deposit(price_nano)
    balance_before = escrow.account.balance_nano

    result = escrow.send(PARTIES.platform, OP_VALUE, release_body(7), after=DAY)

    assert result.success
    paid = payouts(result)
    assert paid.get(PARTIES.publisher, 0) == price_nano - fee_nano
    assert paid.get(PARTIES.fee_recipient, 0) == fee_nano
    # Nothing is sent as zero: no message at all for a zero amount.
    assert (PARTIES.publisher in paid) == (price_nano > fee_nano)
    assert (PARTIES.fee_recipient in paid) == (fee_nano > 0)
    # The rest (the platform's unused gas money, less the deposit's gas) goes to the advertiser.
    assert paid[PARTIES.advertiser] == (balance_before + OP_VALUE - price_nano - all_fees(escrow))
    assert escrow.account.balance_nano == 0
    assert escrow.data().state is EscrowState.RELEASED


def test_release_returns_overpayment_to_advertiser(new_escrow: NewEscrow) -> None:
    escrow = new_escrow()
    price = escrow.terms.price_nano
    escrow.deposit(price + 3 * TON)
    balance_before = escrow.account.balance_nano

    result = escrow.send(PARTIES.platform, OP_VALUE, release_body(1), after=DAY)

    paid = payouts(result)
    assert paid[PARTIES.publisher] == price - escrow.terms.fee_nano
    assert paid[PARTIES.fee_recipient] == escrow.terms.fee_nano
    excess = paid[PARTIES.advertiser]
    assert excess == balance_before + OP_VALUE - price - all_fees(escrow)
    assert excess > 3 * TON  # the platform's gas money more than covers every fee


def test_release_of_underfunded_escrow_is_refused(new_escrow: NewEscrow) -> None:
    escrow = new_escrow()
    escrow.deposit(escrow.terms.price_nano - TON)
    balance_before = escrow.account.balance_nano

    escrow.send(PARTIES.platform, OP_VALUE, release_body(1), after=DAY)

    assert_rejected(escrow, EscrowExitCode.UNDERFUNDED, balance_before)


def test_release_needs_price_plus_fee_reserve_and_not_a_nanoton_more(
    new_escrow: NewEscrow,
) -> None:
    escrow = new_escrow()
    escrow.deposit(escrow.terms.price_nano - TON)
    # Same unix time as the deposit, so no storage rent: the balance the contract sees is exactly
    # the current balance plus the attached value.
    shortfall = escrow.terms.price_nano + PAYOUT_FEE_RESERVE_NANO - escrow.account.balance_nano

    escrow.send(PARTIES.platform, shortfall - 1, release_body(1))
    assert escrow.history[-1].exit_code == EscrowExitCode.UNDERFUNDED

    result = escrow.send(PARTIES.platform, shortfall, release_body(2))
    assert result.success
    assert payouts(result)[PARTIES.publisher] == escrow.terms.publisher_payout_nano


def test_partial_payments_add_up_and_release_once_fully_funded(new_escrow: NewEscrow) -> None:
    escrow = new_escrow()
    half = escrow.terms.price_nano // 2
    escrow.deposit(half)
    escrow.send(PARTIES.platform, OP_VALUE, release_body(1), after=60)
    assert escrow.history[-1].exit_code == EscrowExitCode.UNDERFUNDED

    escrow.deposit(half, deposit_comment_body("second half"), sender=PARTIES.stranger)
    result = escrow.send(PARTIES.platform, OP_VALUE, release_body(2), after=60)

    assert result.success
    assert payouts(result)[PARTIES.publisher] == escrow.terms.publisher_payout_nano


# ---- a closed escrow never pays twice -----------------------------------------------------------


@pytest.mark.parametrize("second", OP_BODIES)
@pytest.mark.parametrize("first", OP_BODIES)
def test_closed_escrow_rejects_every_further_op(
    funded_escrow: EscrowUnderTest, first: str, second: str
) -> None:
    escrow = funded_escrow
    escrow.send(PARTIES.platform, OP_VALUE, OP_BODIES[first]())
    assert escrow.history[-1].success

    result = escrow.send(PARTIES.platform, OP_VALUE, OP_BODIES[second](), after=60)

    assert result.exit_code == EscrowExitCode.CLOSED
    assert result.bounced
    assert payouts(result) == {PARTIES.platform: result.out_messages[0].value_nano}
    assert escrow.data().state is STATE_AFTER[first]


def test_publisher_refund_after_release_is_rejected(funded_escrow: EscrowUnderTest) -> None:
    escrow = funded_escrow
    escrow.send(PARTIES.platform, OP_VALUE, release_body(1))

    result = escrow.send(PARTIES.publisher, OP_VALUE, refund_body(2), after=60)

    assert result.exit_code == EscrowExitCode.CLOSED


def test_refund_after_deadline_by_stranger_after_release_is_rejected(
    funded_escrow: EscrowUnderTest,
) -> None:
    escrow = funded_escrow
    escrow.send(PARTIES.platform, OP_VALUE, release_body(1))
    escrow.now = escrow.terms.refund_after + DAY

    result = escrow.send(PARTIES.stranger, OP_VALUE, refund_body(2))

    assert result.exit_code == EscrowExitCode.CLOSED


def test_release_refuses_terms_with_fee_above_price(emulator: Emulator) -> None:
    """EscrowTerms cannot express such terms; the contract refuses them on its own anyway."""
    terms = make_terms()
    data = (
        Builder()
        .store_uint(1, 64)
        .store_coins(TON)  # price
        .store_coins(2 * TON)  # fee
        .store_uint(terms.refund_after, 32)
        .store_uint(EscrowState.OPEN, 8)
        .store_address(terms.platform)
        .store_ref(escrow_initial_data(terms).refs[0])
        .end_cell()
    )
    address = escrow_address(terms)
    account = AccountState.active(
        address, code=escrow_code(), data=data, balance_nano=5 * TON, now=NOW
    )
    message = InternalMessage(
        src=PARTIES.platform, dest=address, value_nano=OP_VALUE, body=release_body(1)
    )

    result = emulator.execute(account, message, now=NOW)

    assert result.exit_code == EscrowExitCode.INVALID_TERMS
    assert result.account.balance_nano == 5 * TON


# ---- refund -------------------------------------------------------------------------------------


@pytest.mark.parametrize("paid_nano", [TON, 10 * TON, 10 * TON + 123_456_789, 25_000 * TON])
def test_refund_pays_whole_balance_to_advertiser(new_escrow: NewEscrow, paid_nano: int) -> None:
    escrow = new_escrow()
    escrow.deposit(paid_nano)
    balance_before = escrow.account.balance_nano

    result = escrow.send(PARTIES.publisher, OP_VALUE, refund_body(3), after=DAY)

    assert payouts(result) == {
        PARTIES.advertiser: balance_before + OP_VALUE - all_fees(escrow),
    }
    assert escrow.account.balance_nano == 0


# ---- split --------------------------------------------------------------------------------------

SPLIT_PRICE = 7_777_777_777
SPLIT_FEE = 388_888_889


@pytest.mark.parametrize("share_bps", [0, 1, 3_333, 5_000, 9_999, 10_000])
def test_split_pays_exact_shares_and_rest_to_advertiser(
    new_escrow: NewEscrow, share_bps: int
) -> None:
    escrow = new_escrow(price_nano=SPLIT_PRICE, fee_nano=SPLIT_FEE)
    escrow.deposit(SPLIT_PRICE + TON)  # overpaid: the overpayment is the advertiser's
    balance_before = escrow.account.balance_nano
    publisher_gross = SPLIT_PRICE * share_bps // 10_000
    fee_part = SPLIT_FEE * share_bps // 10_000

    result = escrow.send(PARTIES.platform, OP_VALUE, split_body(4, share_bps), after=DAY)

    assert result.success
    paid = payouts(result)
    assert paid.get(PARTIES.publisher, 0) == publisher_gross - fee_part
    assert paid.get(PARTIES.fee_recipient, 0) == fee_part
    assert paid[PARTIES.advertiser] == (
        balance_before + OP_VALUE - publisher_gross - all_fees(escrow)
    )
    assert split_amounts(escrow.terms, share_bps).publisher_nano == publisher_gross - fee_part
    assert escrow.data().state is EscrowState.SPLIT


def test_split_third_to_publisher_rounds_down_in_advertisers_favour(
    new_escrow: NewEscrow,
) -> None:
    escrow = new_escrow(price_nano=SPLIT_PRICE, fee_nano=SPLIT_FEE)
    escrow.deposit(SPLIT_PRICE)

    result = escrow.send(PARTIES.platform, OP_VALUE, split_body(4, 3_333))

    paid = payouts(result)
    assert paid[PARTIES.publisher] == 2_592_333_333 - 129_616_666
    assert paid[PARTIES.fee_recipient] == 129_616_666


def test_split_share_above_whole_is_rejected(funded_escrow: EscrowUnderTest) -> None:
    balance_before = funded_escrow.account.balance_nano
    body = Builder().store_uint(0x873EDB39, 32).store_uint(1, 64).store_uint(10_001, 16).end_cell()

    funded_escrow.send(PARTIES.platform, OP_VALUE, body)

    assert_rejected(funded_escrow, EscrowExitCode.INVALID_SHARE, balance_before)


def test_split_of_underfunded_escrow_is_refused(new_escrow: NewEscrow) -> None:
    escrow = new_escrow()
    escrow.deposit(TON)
    balance_before = escrow.account.balance_nano

    escrow.send(PARTIES.platform, OP_VALUE, split_body(1, 5_000), after=60)

    assert_rejected(escrow, EscrowExitCode.UNDERFUNDED, balance_before)


# ---- deposits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", DEPOSIT_BODIES)
def test_first_payment_deploys_escrow_with_its_terms(new_escrow: NewEscrow, body: str) -> None:
    escrow = new_escrow()

    result = escrow.deposit(escrow.terms.price_nano, DEPOSIT_BODIES[body])

    assert escrow.account.status is AccountStatus.ACTIVE
    assert escrow.account.data == escrow_initial_data(escrow.terms)
    assert escrow.account.balance_nano == escrow.terms.price_nano - result.total_fees_nano
    assert result.out_messages == ()


@pytest.mark.parametrize("bounce", [True, False], ids=["bounceable", "non-bounceable"])
@pytest.mark.parametrize("body", DEPOSIT_BODIES)
@pytest.mark.parametrize("sender", SENDERS)
def test_deposit_from_anyone_is_kept_in_open_escrow(
    funded_escrow: EscrowUnderTest, sender: str, body: str, bounce: bool
) -> None:
    balance_before = funded_escrow.account.balance_nano

    result = funded_escrow.send(
        PARTIES.by_name(sender), 3 * TON, DEPOSIT_BODIES[body], bounce=bounce, after=60
    )

    assert result.success
    assert result.out_messages == ()
    assert funded_escrow.account.balance_nano == balance_before + 3 * TON - result.total_fees_nano
    assert funded_escrow.data().state is EscrowState.OPEN


@pytest.mark.parametrize("bounce", [True, False], ids=["bounceable", "non-bounceable"])
@pytest.mark.parametrize("body", DEPOSIT_BODIES)
@pytest.mark.parametrize("closing_op", OP_BODIES)
def test_payment_after_close_is_returned_to_payer(
    funded_escrow: EscrowUnderTest, closing_op: str, body: str, bounce: bool
) -> None:
    escrow = funded_escrow
    escrow.send(PARTIES.platform, OP_VALUE, OP_BODIES[closing_op]())

    result = escrow.send(PARTIES.stranger, 2 * TON, DEPOSIT_BODIES[body], bounce=bounce, after=DAY)

    assert result.success
    (returned,) = result.out_messages
    assert returned.dest == PARTIES.stranger
    assert not returned.bounce
    assert returned.value_nano == 2 * TON - all_fees(escrow)
    assert escrow.account.balance_nano == 0
    assert escrow.data().state is STATE_AFTER[closing_op]


def test_late_payment_a_year_after_close_is_returned_despite_storage_debt(
    funded_escrow: EscrowUnderTest,
) -> None:
    escrow = funded_escrow
    escrow.send(PARTIES.platform, OP_VALUE, refund_body(1))

    result = escrow.send(PARTIES.advertiser, TON, bounce=False, after=365 * DAY)

    (returned,) = result.out_messages
    assert returned.dest == PARTIES.advertiser
    assert result.storage_fees_nano > 0
    assert returned.value_nano == TON - all_fees(escrow)
    assert escrow.account.balance_nano == 0


# ---- bounces ------------------------------------------------------------------------------------


def bounce_body(original_op: int) -> Cell:
    body: Cell = Builder().store_uint(0xFFFFFFFF, 32).store_uint(original_op, 32).end_cell()
    return body


def test_bounced_message_to_open_escrow_stays_in_escrow(funded_escrow: EscrowUnderTest) -> None:
    balance_before = funded_escrow.account.balance_nano

    result = funded_escrow.send(
        PARTIES.publisher, TON, bounce_body(0), bounce=False, bounced=True, after=60
    )

    assert result.success
    assert result.out_messages == ()
    assert funded_escrow.account.balance_nano == balance_before + TON - result.total_fees_nano
    assert funded_escrow.data().state is EscrowState.OPEN


def test_bounced_message_to_closed_escrow_goes_on_to_advertiser(
    funded_escrow: EscrowUnderTest,
) -> None:
    escrow = funded_escrow
    escrow.send(PARTIES.platform, OP_VALUE, release_body(1))

    result = escrow.send(PARTIES.publisher, TON, bounce_body(0), bounce=False, bounced=True)

    assert payouts(result) == {PARTIES.advertiser: TON - all_fees(escrow)}
    assert all(not m.bounce for m in result.out_messages)
    assert escrow.data().state is EscrowState.RELEASED


def test_payout_to_undeployed_wallet_lands_instead_of_bouncing(
    funded_escrow: EscrowUnderTest, emulator: Emulator
) -> None:
    result = funded_escrow.send(PARTIES.platform, OP_VALUE, release_body(1))
    (to_publisher,) = (m for m in result.out_messages if m.dest == PARTIES.publisher)
    assert not to_publisher.bounce

    received = emulator.execute(
        AccountState.nonexistent(PARTIES.publisher), to_publisher.cell, now=funded_escrow.now
    )

    assert received.out_messages == ()  # no bounce back into the closed escrow
    assert received.account.status is AccountStatus.UNINIT
    assert received.account.balance_nano == funded_escrow.terms.publisher_payout_nano


# ---- malformed and unknown ops ------------------------------------------------------------------


@pytest.mark.parametrize(
    "op",
    [
        pytest.param(0x1, id="small"),
        pytest.param(0xDEADBEEF, id="random"),
        pytest.param(0xD53276DB, id="excesses"),
        pytest.param(0xFFFFFFFF, id="bounce-marker-without-bounced-flag"),
    ],
)
def test_unknown_op_is_rejected_even_from_platform(funded_escrow: EscrowUnderTest, op: int) -> None:
    balance_before = funded_escrow.account.balance_nano
    body = Builder().store_uint(op, 32).store_uint(0, 64).end_cell()

    funded_escrow.send(PARTIES.platform, OP_VALUE, body)

    assert_rejected(funded_escrow, EscrowExitCode.UNKNOWN_OP, balance_before)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(Builder().store_uint(1, 8).end_cell(), id="shorter-than-an-op"),
        pytest.param(
            Builder().store_uint(0xC3BDB772, 32).end_cell(),
            id="release-without-query-id",
        ),
        pytest.param(
            Builder().store_uint(0x873EDB39, 32).store_uint(1, 64).end_cell(),
            id="split-without-share",
        ),
    ],
)
def test_truncated_body_is_rejected(funded_escrow: EscrowUnderTest, body: Cell) -> None:
    balance_before = funded_escrow.account.balance_nano

    funded_escrow.send(PARTIES.platform, OP_VALUE, body)

    assert_rejected(funded_escrow, EscrowExitCode.CELL_UNDERFLOW, balance_before)


# ---- get-method ---------------------------------------------------------------------------------


def test_get_escrow_data_returns_every_term_state_and_balance(
    funded_escrow: EscrowUnderTest,
) -> None:
    data = funded_escrow.data()

    assert data.terms == funded_escrow.terms
    assert data.state is EscrowState.OPEN
    assert data.balance_nano == funded_escrow.account.balance_nano
    assert data.balance_nano > 2**32  # passed through the 64-bit c7 balance unharmed


def test_escrow_stores_every_term_unchanged_after_close(funded_escrow: EscrowUnderTest) -> None:
    funded_escrow.send(PARTIES.platform, OP_VALUE, split_body(1, 2_500))

    data = funded_escrow.data()

    assert data.terms == funded_escrow.terms
    assert data.state is EscrowState.SPLIT
    assert data.balance_nano == 0


@pytest.mark.parametrize("op", ["release", "split"])
def test_payout_fees_fit_in_fee_reserve_under_mainnet_config(
    funded_escrow: EscrowUnderTest, op: str
) -> None:
    """The reserve covers gas and forwarding; storage rent is taken before the contract runs."""
    result = funded_escrow.send(PARTIES.platform, OP_VALUE, OP_BODIES[op](), after=30 * DAY)

    payout_cost = all_fees(funded_escrow) - result.storage_fees_nano
    assert 0 < payout_cost < PAYOUT_FEE_RESERVE_NANO
    assert result.storage_fees_nano > 0
