"""toncenter v2 JSON shapes: what the local chain answers, exactly as toncenter spells it.

toncenter renders tonlib objects: 64-bit integers as strings, hashes and BOCs in base64,
addresses user-friendly, ``@type`` tags, get-method stacks as ``[tag, value]`` pairs. Clients such
as tonutils' ``ToncenterClient`` parse these shapes, so they are reproduced field for field.
"""

from __future__ import annotations

import base64
from typing import Any

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.builder import Builder
from pytoniq_core.boc.cell import Cell
from pytoniq_core.boc.slice import Slice
from pytoniq_core.tlb.transaction import MessageAny

from chainfluence.ton.transactions import MessageInfo
from chainfluence_sandbox.ton.chain import BlockId, MasterBlock, ShardBlock, StoredTx
from chainfluence_sandbox.tvm import AccountState, AccountStatus, StackValue

__all__ = [
    "account_state",
    "block_header",
    "block_id_ext",
    "decode_hash",
    "decode_stack",
    "encode_stack",
    "friendly",
    "raw_transaction",
    "short_tx_id",
    "transaction_id",
]

ZERO_HASH_B64 = base64.b64encode(bytes(32)).decode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def boc_b64(cell: Cell) -> str:
    return b64(cell.to_boc())  # type: ignore[no-untyped-call]


def friendly(raw: str | None) -> str:
    """toncenter's address form: user-friendly, bounceable, URL-safe; '' for no address."""
    if raw is None:
        return ""
    text: str = Address(raw).to_str(  # type: ignore[no-untyped-call]
        is_user_friendly=True, is_url_safe=True, is_bounceable=True, is_test_only=False
    )
    return text


def decode_hash(value: str) -> bytes:
    """A hash given as 64 hex digits or as (URL-safe) base64, as toncenter accepts both."""
    value = value.strip()
    if len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    padded = value + "=" * (-len(value) % 4)
    data = base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    if len(data) != 32:
        raise ValueError("a hash is 32 bytes")
    return data


def transaction_id(lt: int, tx_hash: bytes) -> dict[str, Any]:
    return {"@type": "internal.transactionId", "lt": str(lt), "hash": b64(tx_hash)}


def block_id_ext(block: BlockId) -> dict[str, Any]:
    return {
        "@type": "ton.blockIdExt",
        "workchain": block.workchain,
        "shard": str(block.shard),
        "seqno": block.seqno,
        "root_hash": b64(block.root_hash),
        "file_hash": b64(block.file_hash),
    }


def account_state(account: AccountState, *, block: BlockId, sync_utime: int) -> dict[str, Any]:
    """``raw.fullAccountState`` plus the ``state`` toncenter adds (uninit and absent alike)."""
    state = {
        AccountStatus.ACTIVE: "active",
        AccountStatus.FROZEN: "frozen",
    }.get(account.status, "uninitialized")
    return {
        "@type": "raw.fullAccountState",
        "balance": str(account.balance_nano),
        "extra_currencies": [],
        "code": boc_b64(account.code) if account.code is not None else "",
        "data": boc_b64(account.data) if account.data is not None else "",
        "last_transaction_id": transaction_id(account.last_trans_lt, account.last_trans_hash),
        "block_id": block_id_ext(block),
        "frozen_hash": "",
        "sync_utime": sync_utime,
        "state": state,
    }


def _address_field(raw: str | None, *, nested: bool) -> Any:
    if nested:
        return {"@type": "accountAddress", "account_address": friendly(raw)}
    return friendly(raw)


def _message_data(message: MessageInfo) -> tuple[dict[str, Any], str]:
    comment = message.comment
    if comment is not None:
        return {"@type": "msg.dataText", "text": b64(comment.encode())}, comment
    parsed = MessageAny.deserialize(message.cell.begin_parse())  # type: ignore[no-untyped-call]
    init = parsed.init
    init_state = boc_b64(init.serialize()) if init is not None else ""
    body_bits: bytes = message.body.bits.tobytes()
    return (
        {"@type": "msg.dataRaw", "body": boc_b64(message.body), "init_state": init_state},
        b64(body_bits),
    )


def raw_message(message: MessageInfo, *, nested: bool = False) -> dict[str, Any]:
    data, text = _message_data(message)
    return {
        "@type": "raw.message",
        "hash": b64(bytes.fromhex(message.hash)),
        "source": _address_field(message.source, nested=nested),
        "destination": _address_field(message.destination, nested=nested),
        "value": str(message.value_nano),
        "extra_currencies": [],
        "fwd_fee": str(message.fwd_fee_nano),
        "ihr_fee": "0",
        "created_lt": str(message.created_lt),
        "body_hash": b64(bytes(message.body.hash)),
        "msg_data": data,
        "message": text,
    }


def raw_transaction(stored: StoredTx, *, block_format: bool = False) -> dict[str, Any]:
    """``raw.transaction`` as getTransactions returns it (block_format: getBlockTransactionsExt)."""
    tx = stored.tx
    rendered: dict[str, Any] = {
        "@type": "raw.transaction",
        "address": {"@type": "accountAddress", "account_address": friendly(tx.account)},
        "utime": tx.utime,
        "data": boc_b64(tx.cell),
        "transaction_id": transaction_id(tx.lt, bytes.fromhex(tx.hash)),
        "fee": str(tx.total_fees_nano),
        "storage_fee": str(tx.storage_fees_nano),
        "other_fee": str(tx.total_fees_nano - tx.storage_fees_nano),
        "out_msgs": [raw_message(m, nested=block_format) for m in tx.out_msgs],
    }
    if tx.in_msg is not None:
        rendered["in_msg"] = raw_message(tx.in_msg, nested=block_format)
    if block_format:
        rendered["account"] = tx.account
    return rendered


def short_tx_id(stored: StoredTx) -> dict[str, Any]:
    return {
        "@type": "blocks.shortTxId",
        "mode": 135,
        "account": stored.tx.account,
        "lt": str(stored.tx.lt),
        "hash": b64(bytes.fromhex(stored.tx.hash)),
    }


def block_header(block: ShardBlock | MasterBlock, *, global_id: int) -> dict[str, Any]:
    master_ref = block.master_ref_seqno if isinstance(block, ShardBlock) else block.id.seqno
    return {
        "@type": "blocks.header",
        "id": block_id_ext(block.id),
        "global_id": global_id,
        "version": 0,
        "flags": 1,
        "after_merge": False,
        "after_split": False,
        "before_split": False,
        "want_merge": False,
        "want_split": False,
        "validator_list_hash_short": 0,
        "catchain_seqno": 0,
        "min_ref_mc_seqno": master_ref,
        "is_key_block": False,
        "prev_key_block_seqno": 0,
        "start_lt": str(block.start_lt),
        "end_lt": str(block.end_lt),
        "gen_utime": block.gen_utime,
        "vert_seqno": 0,
        "prev_blocks": [block_id_ext(block.prev)] if block.prev is not None else [],
    }


# ---- get-method stacks --------------------------------------------------------------------------


def _cell_object(cell: Cell) -> dict[str, Any]:
    """tvm_valuetypes' ``serialize_to_object``, which toncenter puts next to a cell's bytes."""
    return {
        "data": {"b64": b64(cell.bits.tobytes()), "len": len(cell.bits)},
        "refs": [_cell_object(ref) for ref in cell.refs],
        "special": cell.is_exotic,
    }


def _as_cell(value: Cell | Slice | Builder) -> Cell:
    if isinstance(value, Cell):
        return value
    if isinstance(value, Slice):
        return value.to_cell()  # type: ignore[no-untyped-call,no-any-return]
    return value.end_cell()


def _typed_entry(value: StackValue) -> dict[str, Any]:
    """An element nested in a tuple, in tonlib's typed notation."""
    if isinstance(value, int):
        return {
            "@type": "tvm.stackEntryNumber",
            "number": {"@type": "tvm.numberDecimal", "number": str(value)},
        }
    if isinstance(value, list):
        return {
            "@type": "tvm.stackEntryTuple",
            "tuple": {"@type": "tvm.tuple", "elements": [_typed_entry(v) for v in value]},
        }
    if isinstance(value, (Cell, Slice, Builder)):
        kind = "slice" if isinstance(value, Slice) else "cell"
        return {
            "@type": f"tvm.stackEntry{kind.capitalize()}",
            kind: {"@type": f"tvm.{kind}", "bytes": boc_b64(_as_cell(value))},
        }
    return {"@type": "tvm.stackEntryUnsupported"}


def encode_stack(stack: list[StackValue]) -> list[list[Any]]:
    """A result stack as toncenter prints it: numbers in hex, slices and cells both as "cell"."""
    rendered: list[list[Any]] = []
    for value in stack:
        if isinstance(value, int):
            rendered.append(["num", hex(value)])
        elif isinstance(value, (Cell, Slice, Builder)):
            cell = _as_cell(value)
            rendered.append(["cell", {"bytes": boc_b64(cell), "object": _cell_object(cell)}])
        elif isinstance(value, list):
            elements = [_typed_entry(v) for v in value]
            rendered.append(["tuple", {"@type": "tvm.tuple", "elements": elements}])
        else:
            rendered.append(["null", None])
    return rendered


def decode_stack(entries: list[Any]) -> list[StackValue]:
    """An argument stack in any of the spellings clients send: ``["num", 5]``, ``["num", "0x5"]``,
    ``["tvm.Slice", "<b64>"]``, ``["cell", {"bytes": "<b64>"}]``..."""
    stack: list[StackValue] = []
    for entry in entries:
        if not isinstance(entry, list) or len(entry) != 2:
            raise ValueError(f"bad stack entry {entry!r}")
        tag, value = entry
        if tag == "num":
            stack.append(value if isinstance(value, int) else int(str(value), 0))
            continue
        payload = value.get("bytes") if isinstance(value, dict) else value
        if not isinstance(payload, str):
            raise ValueError(f"bad {tag} payload")
        cell = Cell.one_from_boc(base64.b64decode(payload))
        if tag in ("tvm.Slice", "slice"):
            stack.append(cell.begin_parse())  # type: ignore[no-untyped-call]
        elif tag in ("tvm.Cell", "cell"):
            stack.append(cell)
        else:
            raise ValueError(f"unsupported stack entry type {tag!r}")
    return stack
