"""The local TON chain: accounts run by the real TVM, messages, transactions and blocks.

State is a map of accounts (the exact ``ShardAccount`` cells the TVM produced) plus every
transaction, indexed by account and by hash, and a simple block structure: one basechain shard
(``0:8000000000000000``) and a masterchain that commits its blocks.

How a step runs (``mine``): the external messages waiting in the mempool are applied in one shard
block; the internal messages those transactions sent are delivered in the next shard block, and so
on until no message is left in flight (one shard block per hop, as a message crossing accounts
lands in a later block on the real chain); then one masterchain block references the newest shard
block. A block scanner therefore has to walk shard blocks back through ``prev_blocks`` exactly as
on mainnet. With ``auto_mine`` (the default) every sent message is mined at once; without it
messages wait in the mempool until ``mine()``, which lets tests hold a payout "in flight".

Time is the project clock (``chainfluence.kit.time.utcnow``), so tests that ``advance()`` it move
the chain too. Logical times are global and increase with every transaction, as on chain.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit
from pytoniq_core.tlb.transaction import ExternalMsgInfo, InternalMsgInfo, MessageAny

from chainfluence.kit.time import utcnow
from chainfluence.ton.transactions import ChainTx, raw_address
from chainfluence_sandbox.tvm import (
    EMPTY_CELL,
    AccountState,
    Emulator,
    ExternalMessageRejectedError,
    GetMethodResult,
    InternalMessage,
    StackValue,
    TransactionResult,
)

__all__ = [
    "BASECHAIN_SHARD",
    "MASTERCHAIN_SHARD",
    "BlockId",
    "MasterBlock",
    "MessageRejectedError",
    "ShardBlock",
    "StoredTx",
    "TonChain",
]

log = logging.getLogger(__name__)

# Shard ids as toncenter prints them: the signed 64-bit value of the prefix 0x8000000000000000.
MASTERCHAIN_SHARD: Final = -(2**63)
BASECHAIN_SHARD: Final = -(2**63)
GLOBAL_ID: Final = -239  # the bundled config is mainnet's
_LT_PER_BLOCK: Final = 1_000_000
_MAX_HOPS_PER_MINE: Final = 64
# The address value is minted from: an account that never exists, only sends.
FAUCET: Final = Address("-1:" + "fa" * 32)


class MessageRejectedError(Exception):
    """The destination did not accept an external message (bad signature, seqno, expiry...)."""

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class BlockId:
    workchain: int
    shard: int
    seqno: int
    root_hash: bytes
    file_hash: bytes


@dataclass(frozen=True, slots=True)
class StoredTx:
    tx: ChainTx
    result: TransactionResult | None  # None for transactions restored without emulator output
    block: BlockId


@dataclass(slots=True)
class ShardBlock:
    id: BlockId
    gen_utime: int
    start_lt: int
    end_lt: int
    prev: BlockId | None
    master_ref_seqno: int
    transactions: list[StoredTx] = field(default_factory=list)


@dataclass(slots=True)
class MasterBlock:
    id: BlockId
    gen_utime: int
    start_lt: int
    end_lt: int
    prev: BlockId | None
    shards: list[BlockId]


def _block_id(workchain: int, shard: int, seqno: int, salt: bytes) -> BlockId:
    root = hashlib.sha256(b"root" + workchain.to_bytes(4, "big", signed=True) + salt).digest()
    file = hashlib.sha256(b"file" + root).digest()
    return BlockId(workchain, shard, seqno, root, file)


def _now() -> int:
    return int(utcnow().timestamp())


class TonChain:
    """An in-memory chain. Single-threaded: drive it from one event loop (no awaits inside)."""

    def __init__(
        self,
        *,
        emulator: Emulator | None = None,
        auto_mine: bool = True,
        state_path: Path | None = None,
    ) -> None:
        """``state_path``: keep the chain in this file across restarts (``chainfluence serve``)."""
        self.emulator = emulator or Emulator()
        self.auto_mine = auto_mine
        self.state_path = state_path
        self.accounts: dict[str, AccountState] = {}
        self._txs_by_account: dict[str, list[StoredTx]] = {}
        self._tx_lts: dict[str, list[int]] = {}
        self._txs_by_hash: dict[str, StoredTx] = {}
        self._mempool: list[tuple[str, Cell]] = []  # (normalized key, message)
        self._in_flight: list[Cell] = []  # internal messages not yet delivered
        self._next_lt = 1_000_000_000
        genesis_time = _now()
        # A new chain is another chain: its genesis differs, so a watcher can tell.
        self.init_block = _block_id(-1, MASTERCHAIN_SHARD, 1, secrets.token_bytes(16))
        first_shard = _block_id(0, BASECHAIN_SHARD, 1, b"genesis-shard")
        self.shard_blocks: dict[int, ShardBlock] = {
            1: ShardBlock(first_shard, genesis_time, self._next_lt, self._next_lt, None, 1)
        }
        self.master_blocks: dict[int, MasterBlock] = {
            1: MasterBlock(
                self.init_block, genesis_time, self._next_lt, self._next_lt, None, [first_shard]
            )
        }
        self.last_master_seqno = 1
        self.last_shard_seqno = 1
        if state_path is not None and state_path.exists():
            self._load(state_path)

    # ---- reading --------------------------------------------------------------------------------

    def now(self) -> int:
        return _now()

    def account(self, address: Address | str) -> AccountState:
        key = raw_address(address)
        state = self.accounts.get(key)
        return state if state is not None else AccountState.nonexistent(Address(key))

    def balance(self, address: Address | str) -> int:
        return self.account(address).balance_nano

    def transactions(self, address: Address | str) -> list[StoredTx]:
        """The account's transactions, oldest first."""
        return list(self._txs_by_account.get(raw_address(address), []))

    def transaction(self, tx_hash: str) -> StoredTx | None:
        return self._txs_by_hash.get(tx_hash)

    def transactions_before(
        self, address: Address | str, *, lt: int | None, limit: int, to_lt: int = 0
    ) -> list[StoredTx]:
        """Newest first, starting at ``lt`` (inclusive; the newest if None), above ``to_lt``."""
        key = raw_address(address)
        stored = self._txs_by_account.get(key, [])
        lts = self._tx_lts.get(key, [])
        end = len(stored) if lt is None else bisect.bisect_right(lts, lt)
        start = bisect.bisect_right(lts, to_lt)
        window = stored[max(start, end - limit) : end]
        return list(reversed(window))

    @property
    def last_master_block(self) -> MasterBlock:
        return self.master_blocks[self.last_master_seqno]

    def run_get_method(
        self, address: Address | str, method: str | int, stack: Iterable[StackValue] = ()
    ) -> GetMethodResult:
        return self.emulator.run_get_method(self.account(address), method, list(stack), now=_now())

    # ---- sending --------------------------------------------------------------------------------

    def send_external(self, message: Cell) -> str:
        """Accept an inbound external message as a liteserver does; returns its cell hash (hex).

        The message is checked against the current state first (a rejected one raises
        ``MessageRejectedError`` and never enters the mempool); it then waits in the mempool and
        is applied by the next ``mine()``, at once with ``auto_mine``. Sending the same message
        twice is harmless: the wallet's seqno lets only one of them through.
        """
        parsed = MessageAny.deserialize(message.begin_parse())  # type: ignore[no-untyped-call]
        if not isinstance(parsed.info, ExternalMsgInfo) or parsed.info.dest is None:
            raise MessageRejectedError("not an inbound external message", exit_code=0)
        dest = raw_address(parsed.info.dest)
        try:
            self.emulator.execute(self.account(dest), message, now=_now(), lt=self._next_lt)
        except ExternalMessageRejectedError as exc:
            raise MessageRejectedError(str(exc), exit_code=exc.exit_code) from exc
        self._mempool.append((dest, message))
        if self.auto_mine:
            self.mine()
        return bytes(message.hash).hex()

    def send_internal(
        self,
        *,
        source: Address,
        destination: Address,
        value_nano: int,
        body: Cell | None = None,
        bounce: bool = False,
        state_init: StateInit | None = None,
    ) -> None:
        """Deliver an internal message from an account that is not simulated (tests, the faucet)."""
        message = InternalMessage(
            src=source,
            dest=destination,
            value_nano=value_nano,
            body=body if body is not None else EMPTY_CELL,
            bounce=bounce,
            state_init=state_init,
            created_lt=self._next_lt,
            created_at=_now(),
        )
        self._in_flight.append(message.to_cell())
        if self.auto_mine:
            self.mine()

    def fund(self, address: Address | str, value_nano: int, *, body: Cell | None = None) -> None:
        """Mint ``value_nano`` to ``address`` by a non-bounceable transfer (creates it if new)."""
        if value_nano <= 0:
            raise ValueError("value_nano must be positive")
        destination = address if isinstance(address, Address) else Address(address)
        self.send_internal(source=FAUCET, destination=destination, value_nano=value_nano, body=body)

    @property
    def pending_messages(self) -> int:
        return len(self._mempool) + len(self._in_flight)

    def drop_pending(self) -> int:
        """Lose every external message not mined yet, as a lossy network may; returns how many."""
        dropped = len(self._mempool)
        self._mempool = []
        return dropped

    # ---- producing blocks -----------------------------------------------------------------------

    def mine(self) -> MasterBlock | None:
        """Apply everything waiting: a shard block per hop, then a masterchain block."""
        if not self._mempool and not self._in_flight:
            return None
        hops = 0
        externals, self._mempool = self._mempool, []
        while (externals or self._in_flight) and hops < _MAX_HOPS_PER_MINE:
            block = self._open_shard_block()
            outgoing: list[Cell] = []
            for dest, message in externals:
                try:
                    result = self._execute(dest, message, block)
                except ExternalMessageRejectedError:
                    # Its seqno was used by an earlier message, or it expired while waiting.
                    log.debug("external message to %s dropped at mining", dest)
                    continue
                outgoing.extend(m.cell for m in result.out_messages if not m.is_external)
            externals = []
            delivering, self._in_flight = self._in_flight, []
            for message in delivering:
                parsed = MessageAny.deserialize(message.begin_parse())  # type: ignore[no-untyped-call]
                assert isinstance(parsed.info, InternalMsgInfo)
                result = self._execute(raw_address(parsed.info.dest), message, block)
                outgoing.extend(m.cell for m in result.out_messages if not m.is_external)
            self._in_flight = outgoing
            self._close_shard_block(block)
            hops += 1
        committed = self._commit_master_block()
        if self.state_path is not None:
            self._save(self.state_path)
        return committed

    def _open_shard_block(self) -> ShardBlock:
        seqno = self.last_shard_seqno + 1
        start_lt = -(-self._next_lt // _LT_PER_BLOCK) * _LT_PER_BLOCK
        self._next_lt = start_lt + 1
        block_id = _block_id(0, BASECHAIN_SHARD, seqno, seqno.to_bytes(8, "big"))
        return ShardBlock(
            id=block_id,
            gen_utime=_now(),
            start_lt=start_lt,
            end_lt=start_lt,
            prev=self.shard_blocks[self.last_shard_seqno].id,
            master_ref_seqno=self.last_master_seqno,
        )

    def _close_shard_block(self, block: ShardBlock) -> None:
        block.end_lt = self._next_lt
        # The root hash commits to the block's transactions, as a real block's would.
        digest = hashlib.sha256(block.id.seqno.to_bytes(8, "big"))
        for stored in block.transactions:
            digest.update(bytes.fromhex(stored.tx.hash))
        salt = digest.digest()
        block.id = _block_id(0, BASECHAIN_SHARD, block.id.seqno, salt)
        block.transactions = [
            StoredTx(tx=s.tx, result=s.result, block=block.id) for s in block.transactions
        ]
        for stored in block.transactions:
            self._index(stored)
        self.shard_blocks[block.id.seqno] = block
        self.last_shard_seqno = block.id.seqno

    def _commit_master_block(self) -> MasterBlock:
        seqno = self.last_master_seqno + 1
        tip = self.shard_blocks[self.last_shard_seqno]
        block = MasterBlock(
            id=_block_id(-1, MASTERCHAIN_SHARD, seqno, tip.id.root_hash),
            gen_utime=_now(),
            start_lt=tip.end_lt,
            end_lt=tip.end_lt + 1,
            prev=self.last_master_block.id,
            shards=[tip.id],
        )
        self._next_lt = max(self._next_lt, block.end_lt + 1)
        self.master_blocks[seqno] = block
        self.last_master_seqno = seqno
        return block

    def _execute(self, dest: str, message: Cell, block: ShardBlock) -> TransactionResult:
        account = self.account(dest)
        lt = max(self._next_lt, account.last_trans_lt + 1)
        parsed = MessageAny.deserialize(message.begin_parse())  # type: ignore[no-untyped-call]
        if isinstance(parsed.info, InternalMsgInfo):
            lt = max(lt, parsed.info.created_lt + 1)
        result = self.emulator.execute(account, message, now=block.gen_utime, lt=lt)
        self.accounts[dest] = result.account
        # The transaction's out messages take the lts right after it.
        self._next_lt = result.lt + len(result.out_messages) + 1
        workchain = int(dest.split(":", 1)[0])
        tx = ChainTx.from_cell(result.transaction, workchain=workchain)
        block.transactions.append(StoredTx(tx=tx, result=result, block=block.id))
        return result

    def _index(self, stored: StoredTx) -> None:
        account = stored.tx.account
        self._txs_by_account.setdefault(account, []).append(stored)
        self._tx_lts.setdefault(account, []).append(stored.tx.lt)
        self._txs_by_hash[stored.tx.hash] = stored

    # ---- blocks ---------------------------------------------------------------------------------

    def master_block(self, seqno: int) -> MasterBlock | None:
        return self.master_blocks.get(seqno)

    def shard_block(self, workchain: int, shard: int, seqno: int) -> ShardBlock | None:
        if workchain != 0 or shard != BASECHAIN_SHARD:
            return None
        return self.shard_blocks.get(seqno)

    # ---- persistence ----------------------------------------------------------------------------

    def _save(self, path: Path) -> None:
        """Write the whole chain (accounts, blocks, transactions as BOCs), atomically."""

        def block_ref(block: BlockId | None) -> dict[str, Any] | None:
            if block is None:
                return None
            return {
                "workchain": block.workchain,
                "shard": block.shard,
                "seqno": block.seqno,
                "root_hash": block.root_hash.hex(),
                "file_hash": block.file_hash.hex(),
            }

        def boc(cell: Cell) -> str:
            return base64.b64encode(cell.to_boc()).decode()  # type: ignore[no-untyped-call]

        state = {
            "version": 1,
            "next_lt": self._next_lt,
            "init_block": block_ref(self.init_block),
            "accounts": {key: boc(a.shard_account) for key, a in self.accounts.items()},
            "shard_blocks": [
                {
                    "id": block_ref(b.id),
                    "gen_utime": b.gen_utime,
                    "start_lt": b.start_lt,
                    "end_lt": b.end_lt,
                    "prev": block_ref(b.prev),
                    "master_ref_seqno": b.master_ref_seqno,
                    "transactions": [[s.tx.account, boc(s.tx.cell)] for s in b.transactions],
                }
                for b in self.shard_blocks.values()
            ],
            "master_blocks": [
                {
                    "id": block_ref(b.id),
                    "gen_utime": b.gen_utime,
                    "start_lt": b.start_lt,
                    "end_lt": b.end_lt,
                    "prev": block_ref(b.prev),
                    "shards": [block_ref(s) for s in b.shards],
                }
                for b in self.master_blocks.values()
            ],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, path)

    def _load(self, path: Path) -> None:
        state = json.loads(path.read_text())

        def block_id(data: dict[str, Any] | None) -> BlockId | None:
            if data is None:
                return None
            return BlockId(
                data["workchain"],
                data["shard"],
                data["seqno"],
                bytes.fromhex(data["root_hash"]),
                bytes.fromhex(data["file_hash"]),
            )

        def cell(text: str) -> Cell:
            return Cell.one_from_boc(base64.b64decode(text))

        self._next_lt = state["next_lt"]
        init = block_id(state["init_block"])
        assert init is not None
        self.init_block = init
        self.accounts = {
            key: AccountState.from_shard_account(Address(key), cell(text))
            for key, text in state["accounts"].items()
        }
        self.shard_blocks, self.master_blocks = {}, {}
        self._txs_by_account, self._tx_lts, self._txs_by_hash = {}, {}, {}
        for data in state["shard_blocks"]:
            shard_id = block_id(data["id"])
            assert shard_id is not None
            block = ShardBlock(
                shard_id,
                data["gen_utime"],
                data["start_lt"],
                data["end_lt"],
                block_id(data["prev"]),
                data["master_ref_seqno"],
            )
            for account, text in data["transactions"]:
                tx = ChainTx.from_cell(cell(text), workchain=int(account.split(":", 1)[0]))
                stored = StoredTx(tx=tx, result=None, block=shard_id)
                block.transactions.append(stored)
                self._index(stored)
            self.shard_blocks[shard_id.seqno] = block
        for data in state["master_blocks"]:
            master_id = block_id(data["id"])
            assert master_id is not None
            shards = [block_id(s) for s in data["shards"]]
            self.master_blocks[master_id.seqno] = MasterBlock(
                master_id,
                data["gen_utime"],
                data["start_lt"],
                data["end_lt"],
                block_id(data["prev"]),
                [s for s in shards if s is not None],
            )
        self.last_shard_seqno = max(self.shard_blocks)
        self.last_master_seqno = max(self.master_blocks)
