"""Run TON transactions and get-methods in the real TVM, offline.

A thin typed layer over TON's own emulator (the node's ``emulator`` library) as the pinned
``@ton/sandbox`` ships it, compiled to WebAssembly (version: ``emulator_version()``). It runs in one
long-lived node process per Python process (``contracts/tvm-server.mjs``, JSON lines over a pipe),
started on first use and ended when Python exits; ``make install`` installs it (``npm ci`` in
``contracts/``). Nothing of it is in the production install: only the sandbox and the tests use it.

It knows nothing about particular contracts: give it an account (code, data, balance, last
transaction lt) and a message, and it returns the account after the transaction, the transaction
itself with its fees, and the messages it sent; or run a get-method against an account. The contract
tests and the local TON chain emulator are built on it. Amounts and logical times cross the pipe
as decimal strings, so nothing is truncated. Requests are serialised by a lock: ``Emulator``
objects may be shared between threads, but they wait for each other.
"""

from __future__ import annotations

import atexit
import base64
import enum
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any, Final, TypeAlias

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.builder import Builder
from pytoniq_core.boc.cell import Cell
from pytoniq_core.boc.slice import Slice
from pytoniq_core.crypto.crc import crc16
from pytoniq_core.tlb.account import ShardAccount, StateInit
from pytoniq_core.tlb.block import CurrencyCollection
from pytoniq_core.tlb.transaction import (
    ExternalMsgInfo,
    ExternalOutMsgInfo,
    InternalMsgInfo,
    MessageAny,
    Transaction,
)
from pytoniq_core.tlb.vm_stack import VmStack

__all__ = [
    "EMPTY_CELL",
    "AccountState",
    "AccountStatus",
    "ComputePhase",
    "EmulationError",
    "Emulator",
    "ExternalMessage",
    "ExternalMessageRejectedError",
    "GetMethodError",
    "GetMethodResult",
    "InternalMessage",
    "OutMessage",
    "StackValue",
    "TransactionResult",
    "emulator_default_config",
    "emulator_version",
    "load_mainnet_config",
    "method_id",
    "text_comment",
]

StackValue: TypeAlias = Any
"""A TVM stack entry as pytoniq-core decodes it: int, Cell, Slice, Builder, None or a list."""

EMPTY_CELL: Final = Builder().end_cell()
_ZERO_HASH: Final = bytes(32)
_DEFAULT_GAS_LIMIT: Final = 1_000_000  # get-methods; generous, as liteservers allow


class EmulationError(RuntimeError):
    """The emulator could not run the transaction or get-method at all."""


class ExternalMessageRejectedError(EmulationError):
    """The contract did not accept an external message, so there is no transaction."""

    def __init__(self, message: str, *, exit_code: int, vm_log: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.vm_log = vm_log


class GetMethodError(EmulationError):
    """A get-method ended with an exit code other than 0 or 1."""

    def __init__(self, method: str | int, exit_code: int, vm_log: str) -> None:
        super().__init__(f"get-method {method!r} failed with exit code {exit_code}")
        self.exit_code = exit_code
        self.vm_log = vm_log


# ---- the emulator process -----------------------------------------------------------------------

_SERVER_ENV: Final = "CHAINFLUENCE_TVM_SERVER"  # tvm-server.mjs elsewhere than in this checkout
_NODE_ENV: Final = "CHAINFLUENCE_NODE"  # the node executable, if not `node` on PATH


def _server_script() -> Path:
    configured = os.environ.get(_SERVER_ENV)
    if configured:
        return Path(configured)
    # packages/chainfluence-sandbox/src/chainfluence_sandbox/tvm.py -> the checkout's contracts/
    # (the sandbox is a dev tool, installed editable from the checkout)
    return Path(__file__).resolve().parents[4] / "contracts" / "tvm-server.mjs"


class _TvmProcess:
    """The node process running the emulator; started lazily, restarted in a forked child."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._pid = 0  # the Python process that started it
        self._next_id = 0
        self._configs: dict[str, int] = {}

    def _start(self) -> subprocess.Popen[str]:
        script = _server_script()
        node = os.environ.get(_NODE_ENV) or shutil.which("node")
        if node is None:
            raise EmulationError("the TVM emulator needs node on PATH (see `make install`)")
        if not (script.parent / "node_modules" / "@ton" / "sandbox").is_dir():
            raise EmulationError(
                f"the TVM emulator is not installed in {script.parent}: run `make install`"
            )
        process = subprocess.Popen(  # noqa: S603 - our own script, no shell
            [node, str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=script.parent,
            text=True,
            encoding="utf-8",
        )
        self._process, self._pid, self._configs = process, os.getpid(), {}
        return process

    def _running(self) -> subprocess.Popen[str]:
        process = self._process
        if process is None or self._pid != os.getpid() or process.poll() is not None:
            process = self._start()
        return process

    def request(self, op: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            return self._exchange(self._running(), op, fields)

    def config_request(self, config_b64: str, op: str, **fields: Any) -> dict[str, Any]:
        """A request under a blockchain config, registered with the process once."""
        with self._lock:
            process = self._running()
            config_id = self._configs.get(config_b64)
            if config_id is None:
                reply = self._exchange(process, "config", {"config": config_b64})
                config_id = self._configs[config_b64] = int(reply["config_id"])
            return self._exchange(process, op, {**fields, "config_id": config_id})

    def _exchange(
        self, process: subprocess.Popen[str], op: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        stdin: IO[str] | None = process.stdin
        stdout: IO[str] | None = process.stdout
        assert stdin is not None
        assert stdout is not None
        self._next_id += 1
        request_id = self._next_id
        try:
            stdin.write(json.dumps({"id": request_id, "op": op, **fields}) + "\n")
            stdin.flush()
            line = stdout.readline()
        except OSError as error:
            self._process = None
            raise EmulationError(f"the TVM emulator process failed: {error}") from error
        if not line:
            self._process = None
            raise EmulationError(
                f"the TVM emulator process exited (code {process.wait()}); see its stderr"
            )
        reply: dict[str, Any] = json.loads(line)
        if reply.get("id") != request_id:
            self._process = None
            process.kill()
            raise EmulationError(f"the TVM emulator answered out of turn: {line[:200]!r}")
        if not reply.get("ok"):
            raise EmulationError(f"the TVM emulator refused {op!r}: {reply.get('error')}")
        return reply

    def close(self) -> None:
        process = self._process
        if process is None or self._pid != os.getpid():
            return
        self._process = None
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


_PROCESS: Final = _TvmProcess()
atexit.register(_PROCESS.close)


def emulator_version() -> dict[str, str]:
    """The ``@ton/sandbox`` release and the TON commit (hash, date) its emulator was built from."""
    reply = _PROCESS.request("version")
    return {key: str(reply[key]) for key in ("sandbox", "commit_hash", "commit_date")}


def emulator_default_config() -> tuple[int, Cell]:
    """The mainnet config ``@ton/sandbox`` ships, with the masterchain seqno it was taken at."""
    reply = _PROCESS.request("default_config")
    return int(reply["seqno"]), _cell_from_b64(str(reply["config"]))


@cache
def load_mainnet_config() -> Cell:
    """The mainnet blockchain config in ``chainfluence_sandbox/data`` (realistic fees).

    Mainnet's config at masterchain block 52,956,904: the one ``@ton/sandbox`` 0.41.0 ships
    (``emulator_default_config()``; a test keeps the two equal).
    """
    data = resources.files("chainfluence_sandbox").joinpath("data", "mainnet-config.boc")
    return Cell.one_from_boc(data.read_bytes())


# pytoniq-core leaves these few methods unannotated.
def _boc(cell: Cell) -> bytes:
    boc: bytes = cell.to_boc()  # type: ignore[no-untyped-call]
    return boc


def _parse(cell: Cell) -> Slice:
    cell_slice: Slice = cell.begin_parse()  # type: ignore[no-untyped-call]
    return cell_slice


def _raw_address(address: Address) -> str:
    raw: str = address.to_str(is_user_friendly=False)  # type: ignore[no-untyped-call]
    return raw


def _b64(cell: Cell) -> str:
    return base64.b64encode(_boc(cell)).decode()


def _cell_from_b64(value: str) -> Cell:
    return Cell.one_from_boc(base64.b64decode(value))


def method_id(name: str) -> int:
    """The numeric id FunC gives a get-method called ``name``."""
    return (int.from_bytes(crc16(name.encode()), "big") & 0xFFFF) | 0x10000


# ---- accounts -----------------------------------------------------------------------------------


class AccountStatus(enum.StrEnum):
    NONEXIST = "nonexist"
    UNINIT = "uninit"
    ACTIVE = "active"
    FROZEN = "frozen"


def _storage_used(root: Cell) -> tuple[int, int]:
    """Distinct cells and their bits under ``root`` (what storage fees are charged on)."""
    seen: set[bytes] = set()
    bits = 0
    stack = [root]
    while stack:
        cell = stack.pop()
        if cell.hash in seen:
            continue
        seen.add(cell.hash)
        bits += len(cell.bits)
        stack.extend(cell.refs)
    return len(seen), bits


@dataclass(frozen=True)
class AccountState:
    """An account as the emulator sees it: the exact ``ShardAccount`` cell plus its decoded fields.

    Feed ``TransactionResult.account`` back into the next ``Emulator.execute`` call so that storage
    fees, logical times and the previous transaction hash carry over exactly as on chain.
    """

    address: Address
    shard_account: Cell
    status: AccountStatus
    balance_nano: int
    code: Cell | None
    data: Cell | None
    last_trans_lt: int
    last_trans_hash: bytes
    last_paid: int

    @classmethod
    def nonexistent(cls, address: Address) -> AccountState:
        """An address nothing was ever deployed to or paid to."""
        shard_account = (
            Builder()
            .store_ref(Builder().store_bit_int(0).end_cell())  # account_none$0
            .store_bytes(_ZERO_HASH)
            .store_uint(0, 64)
            .end_cell()
        )
        return cls.from_shard_account(address, shard_account)

    @classmethod
    def active(
        cls,
        address: Address,
        *,
        code: Cell,
        data: Cell,
        balance_nano: int,
        now: int,
        last_trans_lt: int = 0,
        last_trans_hash: bytes = _ZERO_HASH,
    ) -> AccountState:
        """A deployed account, as if its storage had been paid up to ``now``."""
        if balance_nano < 0:
            raise ValueError("balance_nano must not be negative")
        state_init = StateInit(code=code, data=data).serialize()
        storage = (
            Builder()
            .store_uint(last_trans_lt, 64)
            .store_coins(balance_nano)
            .store_bit_int(0)  # no extra currencies
            .store_bit_int(1)  # account_active$1
            .store_cell(state_init)
            .end_cell()
        )
        cells, bits = _storage_used(storage)
        account = (
            Builder()
            .store_bit_int(1)  # account$1
            .store_address(address)
            # StorageUsed: cells and bits as VarUInteger 7 (3-bit length prefix), then
            # public_cells:(VarUInteger 7) = 0 in the emulator's layout; those three zero bits
            # read as storage_extra_none$000 in the newer one, so either parser accepts it.
            .store_var_uint(cells, 3)
            .store_var_uint(bits, 3)
            .store_var_uint(0, 3)
            .store_uint(now, 32)  # last_paid
            .store_bit_int(0)  # no due payment
            .store_cell(storage)
            .end_cell()
        )
        shard_account = (
            Builder()
            .store_ref(account)
            .store_bytes(last_trans_hash)
            .store_uint(last_trans_lt, 64)
            .end_cell()
        )
        return cls.from_shard_account(address, shard_account)

    @classmethod
    def from_shard_account(cls, address: Address, shard_account: Cell) -> AccountState:
        parsed = ShardAccount.deserialize(_parse(shard_account))
        account = parsed.account
        if account is None:
            return cls(
                address=address,
                shard_account=shard_account,
                status=AccountStatus.NONEXIST,
                balance_nano=0,
                code=None,
                data=None,
                last_trans_lt=parsed.last_trans_lt,
                last_trans_hash=parsed.last_trans_hash,
                last_paid=0,
            )
        state = account.storage.state
        status = {
            "account_active": AccountStatus.ACTIVE,
            "account_uninit": AccountStatus.UNINIT,
            "account_frozen": AccountStatus.FROZEN,
        }[state.type_]
        state_init = state.state_init if status is AccountStatus.ACTIVE else None
        return cls(
            address=account.addr,
            shard_account=shard_account,
            status=status,
            balance_nano=account.storage.balance.grams,
            code=state_init.code if state_init is not None else None,
            data=state_init.data if state_init is not None else None,
            last_trans_lt=parsed.last_trans_lt,
            last_trans_hash=parsed.last_trans_hash,
            last_paid=account.storage_stat.last_paid,
        )


# ---- messages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InternalMessage:
    """An internal message, as another account (or a test) would send it."""

    src: Address
    dest: Address
    value_nano: int
    body: Cell = EMPTY_CELL
    bounce: bool = True
    bounced: bool = False
    state_init: StateInit | None = None
    created_lt: int = 0
    created_at: int = 0
    fwd_fee_nano: int = 0

    def to_cell(self) -> Cell:
        if self.value_nano < 0:
            raise ValueError("value_nano must not be negative")
        info = InternalMsgInfo(
            ihr_disabled=True,
            bounce=self.bounce,
            bounced=self.bounced,
            src=self.src,
            dest=self.dest,
            value=CurrencyCollection(self.value_nano),
            ihr_fee=0,
            fwd_fee=self.fwd_fee_nano,
            created_lt=self.created_lt,
            created_at=self.created_at,
        )
        cell: Cell = MessageAny(info=info, init=self.state_init, body=self.body).serialize()
        return cell


@dataclass(frozen=True)
class ExternalMessage:
    """An inbound external message (e.g. a signed wallet request)."""

    dest: Address
    body: Cell = EMPTY_CELL
    state_init: StateInit | None = None

    def to_cell(self) -> Cell:
        no_source: Any = None  # addr_none; pytoniq-core's annotation omits it
        info = ExternalMsgInfo(src=no_source, dest=self.dest, import_fee=0)
        cell: Cell = MessageAny(info=info, init=self.state_init, body=self.body).serialize()
        return cell


@dataclass(frozen=True)
class OutMessage:
    """A message a transaction sent; ``cell`` is what the destination account receives."""

    cell: Cell
    dest: Address | None  # None for an external outbound message (a log/event)
    value_nano: int
    bounce: bool
    bounced: bool
    body: Cell
    state_init: StateInit | None
    fwd_fee_nano: int
    created_lt: int
    created_at: int

    @property
    def is_external(self) -> bool:
        return self.dest is None

    @classmethod
    def from_cell(cls, cell: Cell) -> OutMessage:
        message = MessageAny.deserialize(_parse(cell))
        info = message.info
        body: Cell = message.body
        if isinstance(info, InternalMsgInfo):
            return cls(
                cell=cell,
                dest=info.dest,
                value_nano=info.value.grams,
                bounce=info.bounce,
                bounced=info.bounced,
                body=body,
                state_init=message.init,
                fwd_fee_nano=info.fwd_fee,
                created_lt=info.created_lt,
                created_at=info.created_at,
            )
        if isinstance(info, ExternalOutMsgInfo):
            return cls(
                cell=cell,
                dest=None,
                value_nano=0,
                bounce=False,
                bounced=False,
                body=body,
                state_init=message.init,
                fwd_fee_nano=0,
                created_lt=info.created_lt,
                created_at=info.created_at,
            )
        raise EmulationError("a transaction cannot send an inbound external message")


# ---- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComputePhase:
    skipped: bool
    success: bool
    exit_code: int | None  # None when skipped (e.g. a plain transfer to an uninitialised account)
    gas_used: int
    gas_fees_nano: int


@dataclass(frozen=True)
class TransactionResult:
    """One transaction: the account after it, what it cost and what it sent.

    Money is conserved to the nanoton: ``balance before + inbound value == balance after +
    sum(out value + out fwd_fee) + total_fees_nano`` (for internal inbound messages).
    """

    account: AccountState
    transaction: Cell
    lt: int
    now: int
    in_value_nano: int
    out_messages: tuple[OutMessage, ...]
    total_fees_nano: int
    storage_fees_nano: int
    compute: ComputePhase
    action_success: bool | None  # None when there was no action phase
    action_result_code: int | None
    aborted: bool
    bounced: bool  # a bounce phase sent the inbound value back
    vm_log: str = field(repr=False)

    @property
    def hash(self) -> bytes:
        return bytes(self.transaction.hash)

    @property
    def exit_code(self) -> int | None:
        return self.compute.exit_code

    @property
    def success(self) -> bool:
        """The compute and action phases both succeeded (the contract's state change is in)."""
        return not self.aborted


@dataclass(frozen=True)
class GetMethodResult:
    exit_code: int
    stack: list[StackValue]
    gas_used: int
    vm_log: str = field(repr=False)


def _out_message_cells(transaction: Cell) -> list[Cell]:
    """The out messages exactly as the transaction holds them (their hashes are the messages')."""
    # transaction.refs[0] = ^[ in_msg:(Maybe ^Message) out_msgs:(HashmapE 15 ^Message) ]
    messages = _parse(transaction.refs[0])
    if messages.load_bit():
        messages.load_ref()
    by_index: dict[int, Cell] | None = messages.load_dict(
        15, value_deserializer=lambda value: value.load_ref()
    )
    return [by_index[i] for i in sorted(by_index)] if by_index else []


def _parse_transaction(before: AccountState, raw: dict[str, Any], vm_log: str) -> TransactionResult:
    transaction_cell = _cell_from_b64(raw["transaction"])
    transaction = Transaction.deserialize(_parse(transaction_cell))
    description = transaction.description
    if description.type_ != "ordinary":
        raise EmulationError(f"unexpected {description.type_} transaction")

    compute_phase = description.compute_ph
    if compute_phase.type_ == "skipped":
        compute = ComputePhase(
            skipped=True, success=False, exit_code=None, gas_used=0, gas_fees_nano=0
        )
    else:
        compute = ComputePhase(
            skipped=False,
            success=bool(compute_phase.success),
            exit_code=compute_phase.exit_code,
            gas_used=compute_phase.gas_used,
            gas_fees_nano=compute_phase.gas_fees,
        )
    action = description.action
    storage = description.storage_ph
    in_msg = transaction.in_msg
    in_value = (
        in_msg.info.value.grams
        if in_msg is not None and isinstance(in_msg.info, InternalMsgInfo)
        else 0
    )
    bounce = description.bounce
    after = AccountState.from_shard_account(before.address, _cell_from_b64(raw["shard_account"]))
    return TransactionResult(
        account=after,
        transaction=transaction_cell,
        lt=transaction.lt,
        now=transaction.now,
        in_value_nano=in_value,
        out_messages=tuple(OutMessage.from_cell(c) for c in _out_message_cells(transaction_cell)),
        total_fees_nano=transaction.total_fees.grams,
        storage_fees_nano=storage.storage_fees_collected if storage is not None else 0,
        compute=compute,
        action_success=bool(action.success) if action is not None else None,
        action_result_code=action.result_code if action is not None else None,
        aborted=bool(description.aborted),
        bounced=bounce is not None and bounce.type_ == "ok",
        vm_log=vm_log,
    )


# ---- the emulator -------------------------------------------------------------------------------


class Emulator:
    """Executes transactions and get-methods under one blockchain config (mainnet's by default)."""

    def __init__(
        self,
        config: Cell | None = None,
        *,
        vm_log_verbosity: int = 0,
        ignore_chksig: bool = False,
    ) -> None:
        """``ignore_chksig`` makes signature checks pass, for wallets driven by tests."""
        self.config = config if config is not None else load_mainnet_config()
        self._config_b64 = _b64(self.config)
        self._vm_log_verbosity = vm_log_verbosity
        self._ignore_chksig = ignore_chksig

    def execute(
        self,
        account: AccountState,
        message: InternalMessage | ExternalMessage | Cell,
        *,
        now: int,
        lt: int | None = None,
    ) -> TransactionResult:
        """Run the transaction ``message`` causes on ``account`` at unix time ``now``.

        ``lt`` is the transaction's logical time; by default the next one after both the account's
        last transaction and the message's creation. Raises ``ExternalMessageRejectedError`` when an
        external message is not accepted (no transaction happens then).
        """
        message_cell = message if isinstance(message, Cell) else message.to_cell()
        if lt is None:
            created_lt = 0
            parsed = MessageAny.deserialize(_parse(message_cell))
            if isinstance(parsed.info, InternalMsgInfo):
                created_lt = parsed.info.created_lt
            lt = max(account.last_trans_lt, created_lt) + 1
        if not 0 <= now < 2**32:
            raise EmulationError(f"bad unix time {now}")
        if not 0 <= lt < 2**64:
            raise EmulationError(f"bad logical time {lt}")
        raw = _PROCESS.config_request(
            self._config_b64,
            "transaction",
            shard_account=_b64(account.shard_account),
            message=_b64(message_cell),
            now=now,
            lt=str(lt),
            ignore_chksig=self._ignore_chksig,
            verbosity=self._vm_log_verbosity,
        )
        vm_log = str(raw.get("vm_log") or "")
        if not raw["success"]:
            error = str(raw.get("error", "emulation failed"))
            if raw.get("external_not_accepted"):
                raise ExternalMessageRejectedError(
                    error, exit_code=int(raw.get("vm_exit_code", 0)), vm_log=vm_log
                )
            raise EmulationError(error)
        return _parse_transaction(account, raw, vm_log)

    def run_get_method(
        self,
        account: AccountState,
        method: str | int,
        stack: Sequence[StackValue] = (),
        *,
        now: int,
        gas_limit: int = _DEFAULT_GAS_LIMIT,
    ) -> GetMethodResult:
        """Run a get-method of an active account; raise ``GetMethodError`` if it throws."""
        if account.status is not AccountStatus.ACTIVE or account.code is None:
            raise EmulationError(f"{account.address} is {account.status}, not active")
        data = account.data if account.data is not None else EMPTY_CELL
        numeric_id = method_id(method) if isinstance(method, str) else method
        raw = _PROCESS.config_request(
            self._config_b64,
            "get_method",
            code=_b64(account.code),
            data=_b64(data),
            address=_raw_address(account.address),
            method_id=numeric_id,
            stack=_b64(VmStack.serialize(list(stack))),
            now=now,
            balance=str(account.balance_nano),
            gas_limit=str(gas_limit),
            verbosity=self._vm_log_verbosity,
        )
        if not raw["success"]:
            raise EmulationError(str(raw.get("error", "get-method emulation failed")))
        vm_log = str(raw.get("vm_log") or "")
        exit_code = int(raw["vm_exit_code"])
        if exit_code not in (0, 1):
            raise GetMethodError(method, exit_code, vm_log)
        result_stack: list[StackValue] = VmStack.deserialize(
            Slice.one_from_boc(base64.b64decode(raw["stack"]))
        )
        return GetMethodResult(
            exit_code=exit_code,
            stack=result_stack,
            gas_used=int(raw.get("gas_used", 0)),
            vm_log=vm_log,
        )


def text_comment(text: str) -> Cell:
    """A text-comment body (op 0 followed by the UTF-8 text, snake-encoded)."""
    body: Cell = Builder().store_uint(0, 32).store_snake_string(text).end_cell()
    return body
