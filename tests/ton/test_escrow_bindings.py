"""The Python side of the escrow: terms validation, address derivation, message bodies, parsing."""

from __future__ import annotations

import dataclasses
import zlib

import pytest
from pytoniq_core.boc.builder import Builder

from chainfluence.ton.escrow import (
    EscrowOp,
    EscrowState,
    escrow_address,
    escrow_code,
    escrow_initial_data,
    escrow_state_init,
    parse_escrow_data,
    parse_escrow_initial_data,
    refund_body,
    release_body,
    split_amounts,
    split_body,
)
from tests.ton.escrow_harness import PARTIES, TON, make_terms, party


def test_initial_data_decodes_back_to_its_terms() -> None:
    terms = make_terms(price_nano=123 * TON + 7, fee_nano=TON + 1, deal_id=2**64 - 1)

    assert parse_escrow_initial_data(escrow_initial_data(terms)) == terms


def test_same_terms_give_same_address() -> None:
    assert escrow_address(make_terms()) == escrow_address(make_terms())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("deal_id", 43),
        ("platform", party("another platform")),
        ("advertiser", party("another advertiser")),
        ("publisher", party("another publisher")),
        ("fee_recipient", party("another fee recipient")),
        ("price_nano", 10 * TON + 1),
        ("fee_nano", TON // 2 + 1),
        ("refund_after", make_terms().refund_after + 1),
    ],
)
def test_any_changed_term_gives_another_address(field: str, value: object) -> None:
    changed = dataclasses.replace(make_terms(), **{field: value})

    assert escrow_address(changed) != escrow_address(make_terms())


def test_address_is_hash_of_state_init_in_base_workchain() -> None:
    terms = make_terms()

    address = escrow_address(terms)

    assert address.wc == 0
    assert address.hash_part == escrow_state_init(terms).serialize().hash
    assert escrow_state_init(terms).code is escrow_code()  # loaded once


def test_address_swapping_publisher_and_advertiser_differs() -> None:
    terms = make_terms()
    swapped = dataclasses.replace(terms, advertiser=terms.publisher, publisher=terms.advertiser)

    assert escrow_address(swapped) != escrow_address(terms)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"fee_nano": 10 * TON + 1}, id="fee-above-price"),
        pytest.param({"fee_nano": -1}, id="negative-fee"),
        pytest.param({"price_nano": 0}, id="zero-price"),
        pytest.param({"price_nano": 1 << 120, "fee_nano": 0}, id="price-beyond-coins"),
        pytest.param({"deal_id": 1 << 64}, id="deal-id-beyond-64-bits"),
        pytest.param({"deal_id": -1}, id="negative-deal-id"),
        pytest.param({"refund_after": 1 << 32}, id="refund-after-beyond-32-bits"),
    ],
)
def test_invalid_terms_are_refused(changes: dict[str, int]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        dataclasses.replace(make_terms(), **changes)


def test_terms_require_addresses() -> None:
    with pytest.raises(TypeError):
        dataclasses.replace(make_terms(), publisher="EQ...")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("op", "scheme"),
    [
        (EscrowOp.RELEASE, "release query_id:uint64 = EscrowMsg"),
        (EscrowOp.REFUND, "refund query_id:uint64 = EscrowMsg"),
        (EscrowOp.SPLIT, "split query_id:uint64 publisher_share_bps:uint16 = EscrowMsg"),
    ],
)
def test_op_codes_are_crc32_of_their_tlb_schemes(op: EscrowOp, scheme: str) -> None:
    assert op == zlib.crc32(scheme.encode())


def test_op_bodies_use_op_and_query_id_layout() -> None:
    release = release_body(2**64 - 1).begin_parse()
    refund = refund_body(5).begin_parse()
    split = split_body(6, 2_500).begin_parse()

    assert (release.load_uint(32), release.load_uint(64)) == (EscrowOp.RELEASE, 2**64 - 1)
    assert (refund.load_uint(32), refund.load_uint(64)) == (EscrowOp.REFUND, 5)
    assert (split.load_uint(32), split.load_uint(64), split.load_uint(16)) == (
        EscrowOp.SPLIT,
        6,
        2_500,
    )
    assert release.remaining_bits == refund.remaining_bits == split.remaining_bits == 0


@pytest.mark.parametrize("share_bps", [-1, 10_001])
def test_split_share_outside_basis_points_is_refused(share_bps: int) -> None:
    refusal = "^publisher_share_bps must be between 0 and 10000$"
    with pytest.raises(ValueError, match=refusal):
        split_body(1, share_bps)
    with pytest.raises(ValueError, match=refusal):
        split_amounts(make_terms(), share_bps)


@pytest.mark.parametrize("query_id", [-1, 2**64])
def test_query_id_outside_64_bits_is_refused(query_id: int) -> None:
    with pytest.raises(ValueError, match="query_id"):
        release_body(query_id)


def test_initial_data_layout() -> None:
    terms = make_terms()
    data = escrow_initial_data(terms).begin_parse()

    assert data.load_uint(64) == terms.deal_id
    assert data.load_coins() == terms.price_nano
    assert data.load_coins() == terms.fee_nano
    assert data.load_uint(32) == terms.refund_after
    assert data.load_uint(8) == EscrowState.OPEN
    assert data.load_address() == terms.platform
    parties = data.load_ref().begin_parse()
    assert data.remaining_bits == 0
    assert data.remaining_refs == 0
    assert parties.load_address() == terms.advertiser
    assert parties.load_address() == terms.publisher
    assert parties.load_address() == terms.fee_recipient
    assert parties.remaining_bits == 0


def test_parse_escrow_data_accepts_addresses_as_cells_or_slices() -> None:
    terms = make_terms()

    def address_cell(name: str) -> object:
        return Builder().store_address(PARTIES.by_name(name)).end_cell()

    stack = [
        terms.deal_id,
        terms.price_nano,
        terms.fee_nano,
        terms.refund_after,
        int(EscrowState.REFUNDED),
        address_cell("platform"),
        address_cell("advertiser").begin_parse(),  # type: ignore[attr-defined]
        address_cell("publisher"),
        address_cell("fee_recipient"),
        0,
    ]

    data = parse_escrow_data(stack)

    assert data.terms == terms
    assert data.state is EscrowState.REFUNDED
    assert data.state.is_closed
    assert data.balance_nano == 0


def test_parse_escrow_data_rejects_a_short_stack() -> None:
    with pytest.raises(ValueError, match="10 values"):
        parse_escrow_data([1, 2, 3])
