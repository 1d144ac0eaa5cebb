"""The per-deal escrow contract seen from Python: terms, address, message bodies, get-method.

The contract (documented in ``contracts/README.md``) is compiled at dev time; its code cells are
committed in ``artifacts/`` and loaded from the package once. Two versions exist: version 1
(``contracts/escrow.fc``, FunC, ``escrow.code.boc``) and version 2 (``contracts/escrow-v2.tolk``,
Tolk, ``escrow-v2.code.boc``), which new escrows use. Both have the same data layout, op messages,
exit codes and get-method, so everything but the code (and hence the address) is shared; an escrow
deployed with version 1 keeps it for good, and its deal keeps the StateInit it was created with.

A deal's escrow address is the hash of ``StateInit(code, initial data)``, and the initial data holds
every term, so the same terms and version always give the same address and changing any term gives
another.

Amounts are integer nanotons throughout.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.builder import Builder
from pytoniq_core.boc.cell import Cell
from pytoniq_core.boc.slice import Slice
from pytoniq_core.tlb.account import StateInit

__all__ = [
    "BPS_WHOLE",
    "GET_ESCROW_DATA",
    "PAYOUT_FEE_RESERVE_NANO",
    "EscrowData",
    "EscrowExitCode",
    "EscrowOp",
    "EscrowState",
    "EscrowTerms",
    "EscrowVersion",
    "SplitAmounts",
    "deposit_comment_body",
    "escrow_address",
    "escrow_code",
    "escrow_initial_data",
    "escrow_state_init",
    "escrow_version_of",
    "escrow_version_of_state_init",
    "parse_escrow_data",
    "parse_escrow_initial_data",
    "refund_body",
    "release_body",
    "split_amounts",
    "split_body",
    "storage_rent_nano",
]


class EscrowOp(enum.IntEnum):
    """32-bit op codes: crc32 of the TL-B constructor text in contracts/README.md."""

    COMMENT = 0  # a deposit with a text comment
    RELEASE = 0xC3BDB772
    REFUND = 0x814173E1
    SPLIT = 0x873EDB39


class EscrowVersion(enum.IntEnum):
    """The contract's code version; a deal's StateInit (its code) tells which one it has."""

    V1 = 1  # contracts/escrow.fc (FunC)
    V2 = 2  # contracts/escrow-v2.tolk (Tolk): leftovers after close, terms checked

    @classmethod
    def current(cls) -> EscrowVersion:
        """What new escrows are created with."""
        return cls.V2


_ARTIFACTS: Final = {EscrowVersion.V1: "escrow.code.boc", EscrowVersion.V2: "escrow-v2.code.boc"}


class EscrowState(enum.IntEnum):
    OPEN = 0
    RELEASED = 1
    REFUNDED = 2
    SPLIT = 3

    @property
    def is_closed(self) -> bool:
        return self is not EscrowState.OPEN


class EscrowExitCode(enum.IntEnum):
    """Exit codes the contract throws; a bounceable message that hits one bounces back."""

    UNAUTHORIZED = 401  # release/split not from the platform
    CLOSED = 402  # any op after a payout
    UNDERFUNDED = 403  # balance below the payout plus PAYOUT_FEE_RESERVE_NANO
    REFUND_LOCKED = 404  # refund from a stranger before refund_after
    INVALID_SHARE = 405  # split share above 10,000 basis points
    INVALID_TERMS = 406  # fee above price; v2 also: an address outside the basechain
    # (EscrowTerms refuses to build either)
    CELL_UNDERFLOW = 9  # TVM: a body too short for its op
    UNKNOWN_OP = 0xFFFF


BPS_WHOLE: Final = 10_000
PAYOUT_FEE_RESERVE_NANO: Final = 10_000_000
"""What release/split need in the balance beyond what they pay out (``payout_fee_reserve``)."""

GET_ESCROW_DATA: Final = "get_escrow_data"

_MAX_COINS: Final = (1 << 120) - 1  # Coins = VarUInteger 16
_MAX_UINT64: Final = (1 << 64) - 1
_MAX_UINT32: Final = (1 << 32) - 1
_WORKCHAIN: Final = 0


@dataclass(frozen=True)
class EscrowTerms:
    """Everything the contract's initial data fixes for one deal."""

    deal_id: int
    platform: Address  # the arbiter: sends release / refund / split
    advertiser: Address  # refund address: gets refunds and any excess
    publisher: Address  # payout address: gets price − fee on release
    fee_recipient: Address  # gets the platform fee on release
    price_nano: int
    fee_nano: int
    refund_after: int  # unix time; from then on anyone may trigger the refund

    def __post_init__(self) -> None:
        if not 0 <= self.deal_id <= _MAX_UINT64:
            raise ValueError("deal_id must fit in 64 bits")
        if not 0 < self.price_nano <= _MAX_COINS:
            raise ValueError("price_nano must be positive")
        if not 0 <= self.fee_nano <= self.price_nano:
            raise ValueError("fee_nano must be between 0 and price_nano")
        if not 0 <= self.refund_after <= _MAX_UINT32:
            raise ValueError("refund_after must be a unix time that fits in 32 bits")
        for name in ("platform", "advertiser", "publisher", "fee_recipient"):
            address = getattr(self, name)
            if not isinstance(address, Address):
                raise TypeError(f"{name} must be a pytoniq_core Address")
            # The escrow pays these addresses: one outside the basechain would make every payout
            # to it fail in the action phase, for good (version 2 refuses such terms on chain).
            if address.wc != _WORKCHAIN:
                raise ValueError(f"{name} must be a basechain (workchain 0) address")

    @property
    def publisher_payout_nano(self) -> int:
        """What the publisher receives on release."""
        return self.price_nano - self.fee_nano


@dataclass(frozen=True)
class EscrowData:
    """What ``get_escrow_data`` returns: the terms, the state and the current balance."""

    terms: EscrowTerms
    state: EscrowState
    balance_nano: int


@dataclass(frozen=True)
class SplitAmounts:
    publisher_nano: int  # net, after its part of the fee
    fee_nano: int


def escrow_code(version: EscrowVersion | None = None) -> Cell:
    """The compiled contract code of ``version`` (the current one by default), as committed."""
    return _load_code(EscrowVersion.current() if version is None else version)


@cache
def _load_code(version: EscrowVersion) -> Cell:
    artifact = resources.files("chainfluence.ton").joinpath("artifacts", _ARTIFACTS[version])
    return Cell.one_from_boc(artifact.read_bytes())


def escrow_version_of(code: Cell) -> EscrowVersion:
    """Which escrow version ``code`` is; ``ValueError`` if it is none of ours."""
    for version in EscrowVersion:
        if escrow_code(version).hash == code.hash:
            return version
    raise ValueError(f"not an escrow code cell (hash {bytes(code.hash).hex()})")


def escrow_initial_data(terms: EscrowTerms) -> Cell:
    """The contract's initial c4; layout in contracts/README.md."""
    parties = (
        Builder()
        .store_address(terms.advertiser)
        .store_address(terms.publisher)
        .store_address(terms.fee_recipient)
        .end_cell()
    )
    data: Cell = (
        Builder()
        .store_uint(terms.deal_id, 64)
        .store_coins(terms.price_nano)
        .store_coins(terms.fee_nano)
        .store_uint(terms.refund_after, 32)
        .store_uint(EscrowState.OPEN, 8)
        .store_address(terms.platform)
        .store_ref(parties)
        .end_cell()
    )
    return data


def escrow_version_of_state_init(state_init: Cell) -> tuple[EscrowVersion, Cell]:
    """The version and code of a serialized escrow StateInit (as a deal stores it)."""
    code = StateInit.deserialize(state_init.begin_parse()).code  # type: ignore[no-untyped-call]
    if not isinstance(code, Cell):
        raise ValueError("the StateInit carries no code")
    return escrow_version_of(code), code


def escrow_state_init(terms: EscrowTerms, version: EscrowVersion | None = None) -> StateInit:
    """The StateInit the first payment carries (it deploys the contract)."""
    return StateInit(code=escrow_code(version), data=escrow_initial_data(terms))


def escrow_address(terms: EscrowTerms, version: EscrowVersion | None = None) -> Address:
    """The deal's escrow address in the base workchain, for ``version`` (current by default)."""
    return Address((_WORKCHAIN, escrow_state_init(terms, version).serialize().hash))


# Basechain storage prices of the mainnet config (param 18, the entry in force): nanotons per bit
# and per cell per second, in units of 2^-16. TON charges an account for every cell and bit of its
# state from its last transaction on, and collects it first thing in the next one.
_BIT_PRICE_PS: Final = 1
_CELL_PRICE_PS: Final = 500
# The account's own cells beside code and data (address, balance, storage stats): an upper bound.
_ACCOUNT_OVERHEAD_CELLS: Final = 1
_ACCOUNT_OVERHEAD_BITS: Final = 1023


def storage_rent_nano(code: Cell, data: Cell, seconds: int) -> int:
    """The storage rent an account with ``code`` and ``data`` owes after ``seconds`` without a
    transaction, rounded up and slightly over (the account's own cells are bounded from above)."""
    seen: set[bytes] = set()
    cells, bits = _ACCOUNT_OVERHEAD_CELLS, _ACCOUNT_OVERHEAD_BITS
    stack = [code, data]
    while stack:
        cell = stack.pop()
        if cell.hash in seen:
            continue
        seen.add(cell.hash)
        cells += 1
        bits += len(cell.bits)
        stack.extend(cell.refs)
    per_second = bits * _BIT_PRICE_PS + cells * _CELL_PRICE_PS
    return -(-per_second * max(0, seconds) // (1 << 16))


def _check_query_id(query_id: int) -> None:
    if not 0 <= query_id <= _MAX_UINT64:
        raise ValueError("query_id must fit in 64 bits")


def _op_body(op: EscrowOp, query_id: int) -> Cell:
    _check_query_id(query_id)
    body: Cell = Builder().store_uint(op, 32).store_uint(query_id, 64).end_cell()
    return body


def release_body(query_id: int) -> Cell:
    """``release query_id:uint64``: platform only; pays publisher and fee, excess to advertiser."""
    return _op_body(EscrowOp.RELEASE, query_id)


def refund_body(query_id: int) -> Cell:
    """``refund query_id:uint64``: the whole balance to the advertiser."""
    return _op_body(EscrowOp.REFUND, query_id)


def split_body(query_id: int, publisher_share_bps: int) -> Cell:
    """``split query_id:uint64 publisher_share_bps:uint16``: platform only, for disputes."""
    _check_query_id(query_id)
    if not 0 <= publisher_share_bps <= BPS_WHOLE:
        raise ValueError("publisher_share_bps must be between 0 and 10000")
    body: Cell = (
        Builder()
        .store_uint(EscrowOp.SPLIT, 32)
        .store_uint(query_id, 64)
        .store_uint(publisher_share_bps, 16)
        .end_cell()
    )
    return body


def deposit_comment_body(text: str) -> Cell:
    """A text-comment payment body (op 0); the contract accepts any comment as a deposit."""
    body: Cell = Builder().store_uint(EscrowOp.COMMENT, 32).store_snake_string(text).end_cell()
    return body


def split_amounts(terms: EscrowTerms, publisher_share_bps: int) -> SplitAmounts:
    """What a split pays, computed exactly as the contract does (both parts round down)."""
    if not 0 <= publisher_share_bps <= BPS_WHOLE:
        raise ValueError("publisher_share_bps must be between 0 and 10000")
    gross = terms.price_nano * publisher_share_bps // BPS_WHOLE
    fee = terms.fee_nano * publisher_share_bps // BPS_WHOLE
    return SplitAmounts(publisher_nano=gross - fee, fee_nano=fee)


def _address(entry: object) -> Address:
    if isinstance(entry, Cell):
        entry = entry.begin_parse()  # type: ignore[no-untyped-call]
    if not isinstance(entry, Slice):
        raise TypeError(f"expected an address slice, got {type(entry).__name__}")
    address = entry.load_address()
    if not isinstance(address, Address):
        raise ValueError("expected an internal address")
    return address


def _int(entry: object) -> int:
    if not isinstance(entry, int) or isinstance(entry, bool):
        raise TypeError(f"expected an integer, got {type(entry).__name__}")
    return entry


def parse_escrow_data(stack: Sequence[object]) -> EscrowData:
    """Decode the ``get_escrow_data`` stack (ints, and slices or cells for the addresses)."""
    if len(stack) != 10:
        raise ValueError(f"get_escrow_data returns 10 values, got {len(stack)}")
    (
        deal_id,
        price,
        fee,
        refund_after,
        state,
        platform,
        advertiser,
        publisher,
        fee_recipient,
        balance,
    ) = stack
    terms = EscrowTerms(
        deal_id=_int(deal_id),
        platform=_address(platform),
        advertiser=_address(advertiser),
        publisher=_address(publisher),
        fee_recipient=_address(fee_recipient),
        price_nano=_int(price),
        fee_nano=_int(fee),
        refund_after=_int(refund_after),
    )
    return EscrowData(terms=terms, state=EscrowState(_int(state)), balance_nano=_int(balance))


def parse_escrow_initial_data(data: Cell) -> EscrowTerms:
    """The terms in an escrow's c4 (as ``escrow_initial_data`` writes it, any version)."""
    root = data.begin_parse()  # type: ignore[no-untyped-call]
    deal_id = root.load_uint(64)
    price = root.load_coins()
    fee = root.load_coins()
    refund_after = root.load_uint(32)
    root.load_uint(8)  # state
    platform = root.load_address()
    parties = root.load_ref().begin_parse()
    return EscrowTerms(
        deal_id=deal_id,
        platform=platform,
        advertiser=parties.load_address(),
        publisher=parties.load_address(),
        fee_recipient=parties.load_address(),
        price_nano=price,
        fee_nano=fee,
        refund_after=refund_after,
    )
