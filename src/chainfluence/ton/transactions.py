"""TON transactions decoded from their BOC: the fields the watcher and the wallet reason about.

Endpoints render transactions as JSON in slightly different shapes (``getTransactions`` and
``getBlockTransactionsExt`` already disagree on how they spell a source address); every one of them
also returns the transaction's BOC, which is the authority. So everything here is read from the
cell itself: its hash is the transaction hash, and the messages are exactly what the chain holds.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.boc.slice import Slice
from pytoniq_core.tlb.transaction import (
    ExternalMsgInfo,
    ExternalOutMsgInfo,
    InternalMsgInfo,
    MessageAny,
    Transaction,
)

__all__ = ["ChainTx", "MessageInfo", "raw_address"]


def raw_address(address: Address | str) -> str:
    """The canonical raw form ``<wc>:<64 hex>`` of an address object or any address string."""
    value = address if isinstance(address, Address) else Address(address)
    raw: str = value.to_str(is_user_friendly=False)  # type: ignore[no-untyped-call]
    return raw


def _maybe_raw(address: Any) -> str | None:
    return raw_address(address) if isinstance(address, Address) else None


def _parse(cell: Cell) -> Slice:
    cell_slice: Slice = cell.begin_parse()  # type: ignore[no-untyped-call]
    return cell_slice


@dataclass(frozen=True, slots=True)
class MessageInfo:
    """One message of a transaction (its inbound one or one it sent)."""

    hash: str  # hex hash of the message cell
    source: str | None  # raw; None for an inbound external message
    destination: str | None  # raw; None for an outbound external message (a log)
    value_nano: int
    fwd_fee_nano: int
    created_lt: int
    created_at: int
    bounce: bool
    bounced: bool
    is_external: bool
    has_state_init: bool
    body: Cell
    cell: Cell  # the whole message

    @classmethod
    def from_cell(cls, cell: Cell) -> MessageInfo:
        message = MessageAny.deserialize(_parse(cell))
        info = message.info
        body: Cell = message.body
        # (source, destination, value, fwd fee, created lt, created at, bounce, bounced, external)
        fields: tuple[str | None, str | None, int, int, int, int, bool, bool, bool]
        if isinstance(info, InternalMsgInfo):
            fields = (
                _maybe_raw(info.src),
                _maybe_raw(info.dest),
                info.value.grams,
                info.fwd_fee,
                info.created_lt,
                info.created_at,
                info.bounce,
                info.bounced,
                False,
            )
        elif isinstance(info, ExternalMsgInfo):
            fields = (None, _maybe_raw(info.dest), 0, 0, 0, 0, False, False, True)
        else:
            assert isinstance(info, ExternalOutMsgInfo)
            fields = (
                _maybe_raw(info.src),
                None,
                0,
                0,
                info.created_lt,
                info.created_at,
                False,
                False,
                True,
            )
        source, destination, value, fwd_fee, created_lt, created_at, bounce, bounced, ext = fields
        return cls(
            hash=bytes(cell.hash).hex(),
            source=source,
            destination=destination,
            value_nano=value,
            fwd_fee_nano=fwd_fee,
            created_lt=created_lt,
            created_at=created_at,
            bounce=bounce,
            bounced=bounced,
            is_external=ext,
            has_state_init=message.init is not None,
            body=body,
            cell=cell,
        )

    @property
    def op(self) -> int | None:
        """The body's leading 32-bit op code; None for an empty (or shorter) body."""
        if len(self.body.bits) < 32:
            return None
        op: int = _parse(self.body).load_uint(32)
        return op

    @property
    def query_id(self) -> int | None:
        """The TEP-74 query_id following a non-zero op, if the body has one."""
        if not self.op or len(self.body.bits) < 96:
            return None
        body = _parse(self.body)
        body.skip_bits(32)
        query_id: int = body.load_uint(64)
        return query_id

    @property
    def comment(self) -> str | None:
        """The text of a comment body (op 0); None for any other body or undecodable text."""
        if self.op != 0:
            return None
        body = _parse(self.body)
        body.skip_bits(32)
        try:
            text: str = body.load_snake_string()
        except (UnicodeDecodeError, ValueError):
            return None
        return text


def _message_cells(transaction: Cell) -> tuple[Cell | None, list[Cell]]:
    """The messages exactly as the transaction holds them (re-serializing could change hashes)."""
    # transaction.refs[0] = ^[ in_msg:(Maybe ^Message) out_msgs:(HashmapE 15 ^Message) ]
    messages = _parse(transaction.refs[0])
    in_cell: Cell | None = messages.load_ref() if messages.load_bit() else None
    by_index: dict[int, Cell] | None = messages.load_dict(
        15, value_deserializer=lambda value: value.load_ref()
    )
    out_cells = [by_index[i] for i in sorted(by_index)] if by_index else []
    return in_cell, out_cells


@dataclass(frozen=True, slots=True)
class ChainTx:
    """An account's transaction: what came in, what went out, and whether it succeeded."""

    account: str  # raw
    hash: str  # hex
    lt: int
    utime: int
    prev_lt: int
    prev_hash: str
    in_msg: MessageInfo | None
    out_msgs: tuple[MessageInfo, ...]
    total_fees_nano: int
    storage_fees_nano: int
    aborted: bool
    compute_skipped: bool
    exit_code: int | None  # compute phase exit code; None when it was skipped
    action_result_code: int | None
    bounced_back: bool  # a bounce phase returned the inbound value
    cell: Cell

    @classmethod
    def from_cell(cls, cell: Cell, *, workchain: int = 0) -> ChainTx:
        tx = Transaction.deserialize(_parse(cell))
        description = tx.description
        compute = getattr(description, "compute_ph", None)
        action = getattr(description, "action", None)
        storage = getattr(description, "storage_ph", None)
        bounce = getattr(description, "bounce", None)
        skipped = compute is None or compute.type_ == "skipped"
        in_cell, out_cells = _message_cells(cell)
        return cls(
            account=f"{workchain}:{tx.account_addr_hex}",
            hash=bytes(cell.hash).hex(),
            lt=tx.lt,
            utime=tx.now,
            prev_lt=tx.prev_trans_lt,
            prev_hash=bytes(tx.prev_trans_hash).hex(),
            in_msg=MessageInfo.from_cell(in_cell) if in_cell is not None else None,
            out_msgs=tuple(MessageInfo.from_cell(c) for c in out_cells),
            total_fees_nano=tx.total_fees.grams,
            storage_fees_nano=storage.storage_fees_collected if storage is not None else 0,
            aborted=bool(getattr(description, "aborted", False)),
            compute_skipped=skipped,
            exit_code=None if skipped or compute is None else compute.exit_code,
            action_result_code=action.result_code if action is not None else None,
            bounced_back=bounce is not None and bounce.type_ == "ok",
            cell=cell,
        )

    @classmethod
    def from_boc(cls, boc: bytes | str, *, workchain: int = 0) -> ChainTx:
        data = base64.b64decode(boc) if isinstance(boc, str) else boc
        return cls.from_cell(Cell.one_from_boc(data), workchain=workchain)

    @property
    def out_value_nano(self) -> int:
        return sum(m.value_nano for m in self.out_msgs)
