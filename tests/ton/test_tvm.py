"""The generic TVM harness: accounts, transfers, 64-bit amounts and lts, get-methods, errors."""

from __future__ import annotations

import pytest

from chainfluence.ton.escrow import (
    GET_ESCROW_DATA,
    escrow_address,
    escrow_code,
    escrow_initial_data,
    parse_escrow_data,
)
from chainfluence_sandbox.tvm import (
    AccountState,
    AccountStatus,
    EmulationError,
    Emulator,
    ExternalMessage,
    ExternalMessageRejectedError,
    GetMethodError,
    InternalMessage,
    emulator_default_config,
    emulator_version,
    load_mainnet_config,
)
from tests.ton.escrow_harness import NOW, PARTIES, TON, make_terms, party

ABOVE_32_BITS = 2**32 + 123_456_789  # ~4.42 TON: more than a 32-bit integer holds


def escrow_account(balance_nano: int) -> AccountState:
    terms = make_terms()
    return AccountState.active(
        escrow_address(terms),
        code=escrow_code(),
        data=escrow_initial_data(terms),
        balance_nano=balance_nano,
        now=NOW,
    )


def test_emulator_is_the_pinned_sandbox_release() -> None:
    version = emulator_version()

    assert version["sandbox"] == "0.41.0"
    assert len(version["commit_hash"]) == 40
    assert version["commit_date"].startswith("2025-12-05")


def test_committed_mainnet_config_is_the_emulators_own() -> None:
    seqno, config = emulator_default_config()

    assert seqno == 52_956_904
    assert load_mainnet_config().hash == config.hash
    assert load_mainnet_config() is load_mainnet_config()


@pytest.mark.parametrize("balance_nano", [0, 2**32 - 1, ABOVE_32_BITS, 10**18])
def test_get_method_sees_balance_beyond_32_bits(emulator: Emulator, balance_nano: int) -> None:
    result = emulator.run_get_method(escrow_account(balance_nano), GET_ESCROW_DATA, now=NOW)

    assert parse_escrow_data(result.stack).balance_nano == balance_nano
    assert result.gas_used > 0


def test_logical_time_beyond_32_bits_is_kept(emulator: Emulator) -> None:
    target = party("new wallet")
    message = InternalMessage(src=PARTIES.advertiser, dest=target, value_nano=1, bounce=False)

    result = emulator.execute(AccountState.nonexistent(target), message, now=NOW, lt=2**40 + 5)

    assert result.lt == 2**40 + 5
    assert result.account.last_trans_lt == 2**40 + 5
    assert result.account.last_trans_hash == result.hash


@pytest.mark.parametrize("value_nano", [TON, ABOVE_32_BITS, 10**9 * TON])
def test_non_bounceable_transfer_to_new_address_creates_uninit_account(
    emulator: Emulator, value_nano: int
) -> None:
    target = party("new wallet")
    message = InternalMessage(
        src=PARTIES.advertiser, dest=target, value_nano=value_nano, bounce=False
    )

    result = emulator.execute(AccountState.nonexistent(target), message, now=NOW)

    assert result.compute.skipped
    assert result.account.status is AccountStatus.UNINIT
    assert result.account.balance_nano == value_nano
    assert result.out_messages == ()


def test_bounceable_transfer_to_new_address_bounces_value_less_fees(emulator: Emulator) -> None:
    target = party("new wallet")
    message = InternalMessage(src=PARTIES.advertiser, dest=target, value_nano=ABOVE_32_BITS)

    result = emulator.execute(AccountState.nonexistent(target), message, now=NOW)

    assert result.bounced
    (bounce,) = result.out_messages
    assert bounce.dest == PARTIES.advertiser
    assert bounce.bounced
    assert bounce.value_nano + bounce.fwd_fee_nano + result.total_fees_nano == ABOVE_32_BITS
    assert result.account.status is AccountStatus.NONEXIST


def test_storage_rent_accrues_with_time(emulator: Emulator) -> None:
    account = escrow_account(10 * TON)
    message = InternalMessage(src=PARTIES.advertiser, dest=account.address, value_nano=TON)

    same_day = emulator.execute(account, message, now=NOW)
    year_later = emulator.execute(account, message, now=NOW + 365 * 86_400)

    assert same_day.storage_fees_nano == 0
    assert year_later.storage_fees_nano > 0
    assert year_later.account.last_paid == NOW + 365 * 86_400


def test_external_message_the_contract_does_not_accept_raises(emulator: Emulator) -> None:
    account = escrow_account(TON)

    with pytest.raises(ExternalMessageRejectedError) as rejected:
        emulator.execute(account, ExternalMessage(dest=account.address), now=NOW)

    assert rejected.value.exit_code != 0


def test_unknown_get_method_raises_with_exit_code(emulator: Emulator) -> None:
    with pytest.raises(GetMethodError) as failed:
        emulator.run_get_method(escrow_account(TON), "no_such_method", now=NOW)

    assert failed.value.exit_code == 11


def test_get_method_of_account_without_code_raises(emulator: Emulator) -> None:
    with pytest.raises(EmulationError, match="nonexist"):
        emulator.run_get_method(AccountState.nonexistent(party("nobody")), "seqno", now=NOW)


def test_negative_value_is_refused() -> None:
    with pytest.raises(ValueError, match="value_nano"):
        InternalMessage(src=PARTIES.advertiser, dest=PARTIES.publisher, value_nano=-1).to_cell()
