"""The TON client: toncenter v2 over HTTP (toncenter itself, a self-hosted ton-http-api, or the
local chain emulator, unchanged).

Why not tonutils' ``ToncenterClient``: it covers account state, get-methods, sending and account
history, but has no block methods (block scanning), and without an API key limits itself to one
request per 1.3 s. One small client with one retry and rate policy covers everything the watcher
and the platform wallet need; the emulator is checked against tonutils' client too. It speaks
aiohttp (as tonutils does): polling many addresses concurrently, httpx's pool managed about 170
requests/s against the local chain where aiohttp managed 3,200 (``make bench``, 2 cores).

Every transaction is decoded from its BOC (``ChainTx``), never from the JSON around it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import aiohttp
from pytoniq_core.boc.cell import Cell
from pytoniq_core.boc.slice import Slice

from chainfluence.ton.escrow import GET_ESCROW_DATA, EscrowData, parse_escrow_data
from chainfluence.ton.transactions import ChainTx, raw_address

__all__ = [
    "AccountInfo",
    "BlockHeader",
    "BlockRef",
    "GetMethodResult",
    "TonApiError",
    "TonClient",
]

log = logging.getLogger(__name__)

_RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
_PAGE: Final = 100  # the most transactions getTransactions returns per call
EXIT_CODE_NO_CODE: Final = -13  # runGetMethod on an account without code (uninit, nonexistent)


class TonApiError(Exception):
    """The endpoint answered with an error (or not at all, after retries)."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "") -> None:
        super().__init__(f"{method}: {message}" if method else message)
        self.status = status
        self.method = method


@dataclass(frozen=True, slots=True)
class AccountInfo:
    address: str  # raw
    status: str  # "active", "uninit" (also for accounts that never existed) or "frozen"
    balance_nano: int
    code: Cell | None
    data: Cell | None
    last_lt: int
    last_hash: str  # hex; zeros when the account has no transaction

    @property
    def is_active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class GetMethodResult:
    exit_code: int
    stack: list[Any]  # ints, Slices (for slices and cells alike, as toncenter merges them), lists
    gas_used: int


@dataclass(frozen=True, slots=True)
class BlockRef:
    workchain: int
    shard: int  # signed 64-bit, as toncenter prints it
    seqno: int
    root_hash: str  # base64, as given
    file_hash: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BlockRef:
        return cls(
            workchain=int(data["workchain"]),
            shard=int(data["shard"]),
            seqno=int(data["seqno"]),
            root_hash=str(data["root_hash"]),
            file_hash=str(data["file_hash"]),
        )

    @property
    def shard_key(self) -> str:
        """``<wc>:<shard as 16 hex digits>``, the key cursors keep per shard."""
        return f"{self.workchain}:{self.shard & 0xFFFF_FFFF_FFFF_FFFF:016x}"

    def params(self) -> dict[str, Any]:
        return {
            "workchain": self.workchain,
            "shard": self.shard,
            "seqno": self.seqno,
            "root_hash": self.root_hash,
            "file_hash": self.file_hash,
        }


@dataclass(frozen=True, slots=True)
class BlockHeader:
    id: BlockRef
    prev_blocks: tuple[BlockRef, ...]
    gen_utime: int
    start_lt: int
    end_lt: int


def _hash_b64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


class ChainReader(Protocol):
    """What the chain watcher reads of the chain: the masterchain's tip, shard blocks and their
    transactions, an account's transactions. `TonClient` is one; the watcher takes any."""

    calls: int  # API calls made so far (the watcher's per-cycle statistics)

    async def masterchain_info(self) -> tuple[BlockRef, BlockRef]: ...

    async def shards(self, masterchain_seqno: int) -> list[BlockRef]: ...

    async def block_header(self, block: BlockRef) -> BlockHeader: ...

    async def block_transactions(self, block: BlockRef) -> list[ChainTx]: ...

    async def get_transactions(
        self, address: str, *, after_lt: int = 0, max_count: int | None = None
    ) -> list[ChainTx]: ...


class PayoutChain(Protocol):
    """What the platform wallet needs of the chain to send payout orders: accounts, escrow
    data, the last transaction, and sending a message. `TonClient` is one."""

    async def get_account(self, address: str) -> AccountInfo: ...

    async def get_seqno(self, address: str) -> int: ...

    async def get_escrow_data(self, address: str) -> EscrowData | None: ...

    async def get_transactions(
        self, address: str, *, after_lt: int = 0, max_count: int | None = None
    ) -> list[ChainTx]: ...

    async def send_boc(self, boc: bytes) -> None: ...


class _RateLimiter:
    """At most ``rate`` calls per second, spaced evenly (toncenter counts per second)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self._interval
        if delay > 0:
            await asyncio.sleep(delay)


class TonClient:
    """toncenter v2 at ``base_url`` (e.g. ``https://toncenter.com/api/v2``)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 15.0,
        rate_limit: float | None = None,
        max_concurrency: int = 32,
        retries: int = 3,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"X-API-Key": api_key} if api_key else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_concurrency = max_concurrency
        self._http: aiohttp.ClientSession | None = None  # opened in the loop that first calls
        self._limiter = _RateLimiter(rate_limit) if rate_limit else None
        self._retries = retries
        self.calls = 0  # API calls made (benchmarks and tests count them)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                headers=self._headers,
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=self._max_concurrency),
            )
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def __aenter__(self) -> TonClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _call(
        self,
        method: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        retry: bool = True,
    ) -> Any:
        attempts = self._retries if retry else 1
        for attempt in range(1, attempts + 1):
            if self._limiter is not None:
                await self._limiter.wait()
            self.calls += 1
            url = f"{self._base_url}/{method}"
            query = {k: str(v) for k, v in (params or {}).items()}
            try:
                async with self._session().request(
                    "GET" if body is None else "POST", url, params=query, json=body
                ) as response:
                    status = response.status
                    text = await response.text()
            except (aiohttp.ClientError, TimeoutError) as exc:
                if attempt == attempts:
                    raise TonApiError(f"unreachable: {exc!r}", method=method) from exc
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            if status in _RETRY_STATUSES and attempt < attempts:
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            try:
                payload = json.loads(text)
            except ValueError as exc:
                raise TonApiError(f"HTTP {status}, not JSON", status=status, method=method) from exc
            if status >= 400 or not isinstance(payload, dict) or not payload.get("ok", False):
                error = (
                    payload.get("error") or payload.get("detail")
                    if isinstance(payload, dict)
                    else None
                )
                raise TonApiError(str(error or f"HTTP {status}"), status=status, method=method)
            return payload["result"]
        raise AssertionError("unreachable")

    # ---- accounts -------------------------------------------------------------------------------

    async def get_account(self, address: str) -> AccountInfo:
        raw = raw_address(address)
        result = await self._call("getAddressInformation", params={"address": raw})
        state = str(result.get("state", "uninitialized"))
        last = result.get("last_transaction_id") or {}
        return AccountInfo(
            address=raw,
            status={"uninitialized": "uninit"}.get(state, state),
            balance_nano=max(0, int(result.get("balance", 0))),
            code=Cell.one_from_boc(base64.b64decode(result["code"]))
            if result.get("code")
            else None,
            data=Cell.one_from_boc(base64.b64decode(result["data"]))
            if result.get("data")
            else None,
            last_lt=int(last.get("lt", 0)),
            last_hash=_hash_b64_to_hex(last["hash"]) if last.get("hash") else "0" * 64,
        )

    async def run_get_method(
        self, address: str, method: str, stack: Sequence[int | Cell] = ()
    ) -> GetMethodResult:
        encoded: list[list[Any]] = []
        for value in stack:
            if isinstance(value, int):
                encoded.append(["num", str(value)])
            else:
                encoded.append(["tvm.Cell", base64.b64encode(value.to_boc()).decode()])  # type: ignore[no-untyped-call]
        result = await self._call(
            "runGetMethod",
            body={"address": raw_address(address), "method": method, "stack": encoded},
        )
        return GetMethodResult(
            exit_code=int(result.get("exit_code", 0)),
            stack=[_decode_entry(entry) for entry in result.get("stack") or []],
            gas_used=int(result.get("gas_used", 0)),
        )

    async def get_escrow_data(self, address: str) -> EscrowData | None:
        """The escrow's terms, state and balance; None while it is not deployed."""
        result = await self.run_get_method(address, GET_ESCROW_DATA)
        if result.exit_code == EXIT_CODE_NO_CODE:
            return None
        if result.exit_code not in (0, 1):
            raise TonApiError(f"exit code {result.exit_code}", method=GET_ESCROW_DATA)
        return parse_escrow_data(result.stack)

    async def get_seqno(self, address: str) -> int:
        """A wallet's seqno; 0 while it is not deployed (its first message deploys it)."""
        result = await self.run_get_method(address, "seqno")
        if result.exit_code == EXIT_CODE_NO_CODE:
            return 0
        if result.exit_code not in (0, 1) or not result.stack:
            raise TonApiError(f"exit code {result.exit_code}", method="seqno")
        seqno: int = result.stack[0]
        return seqno

    async def send_boc(self, boc: bytes) -> None:
        """Broadcast an external message. Safe to repeat: a wallet accepts its seqno once."""
        await self._call("sendBoc", body={"boc": base64.b64encode(boc).decode()})

    # ---- transactions ---------------------------------------------------------------------------

    async def get_transactions(
        self, address: str, *, after_lt: int = 0, max_count: int | None = None
    ) -> list[ChainTx]:
        """The account's transactions with lt above ``after_lt``, oldest first.

        Pages backwards from the newest (toncenter's order) until ``after_lt`` is reached, so
        nothing between the cursor and now is skipped, however many there are.
        """
        raw = raw_address(address)
        workchain = int(raw.split(":", 1)[0])
        found: list[ChainTx] = []
        params: dict[str, Any] = {"address": raw, "limit": _PAGE, "archival": "true"}
        if after_lt:
            params["to_lt"] = after_lt
        while True:
            page = await self._call("getTransactions", params=params)
            txs = [ChainTx.from_boc(item["data"], workchain=workchain) for item in page]
            fresh = [tx for tx in txs if tx.lt > after_lt]
            found.extend(fresh)
            if max_count is not None and len(found) >= max_count:
                found = found[:max_count]
                break
            if len(txs) < _PAGE or len(fresh) < len(txs) or txs[-1].prev_lt <= after_lt:
                break
            oldest = txs[-1]
            params.update(lt=oldest.prev_lt, hash=oldest.prev_hash)
        found.reverse()
        return found

    # ---- blocks ---------------------------------------------------------------------------------

    async def masterchain_info(self) -> tuple[BlockRef, BlockRef]:
        """The newest masterchain block and the chain's first one (which identifies the chain)."""
        result = await self._call("getMasterchainInfo")
        return BlockRef.from_json(result["last"]), BlockRef.from_json(result["init"])

    async def shards(self, masterchain_seqno: int) -> list[BlockRef]:
        result = await self._call("shards", params={"seqno": masterchain_seqno})
        return [BlockRef.from_json(item) for item in result["shards"]]

    async def block_header(self, block: BlockRef) -> BlockHeader:
        result = await self._call("getBlockHeader", params=block.params())
        return BlockHeader(
            id=BlockRef.from_json(result["id"]),
            prev_blocks=tuple(BlockRef.from_json(item) for item in result["prev_blocks"]),
            gen_utime=int(result["gen_utime"]),
            start_lt=int(result["start_lt"]),
            end_lt=int(result["end_lt"]),
        )

    async def block_transactions(self, block: BlockRef) -> list[ChainTx]:
        """Every transaction of a block, decoded (``getBlockTransactionsExt``, paged)."""
        found: list[ChainTx] = []
        params: dict[str, Any] = {**block.params(), "count": 256}
        while True:
            result = await self._call("getBlockTransactionsExt", params=params)
            items = result.get("transactions") or []
            found.extend(ChainTx.from_boc(i["data"], workchain=block.workchain) for i in items)
            if not result.get("incomplete") or not items:
                return found
            last = found[-1]
            account_id = bytes.fromhex(last.account.split(":", 1)[1])
            params.update(after_lt=last.lt, after_hash=base64.b64encode(account_id).decode())


def _decode_entry(entry: Any) -> Any:
    """A toncenter stack entry: ``["num", "0x.."]``, ``["cell", {"bytes": ..}]``, tuples."""
    if not isinstance(entry, list) or len(entry) != 2:
        raise TonApiError(f"unexpected stack entry {entry!r}")
    tag, value = entry
    if tag == "num":
        return value if isinstance(value, int) else int(str(value), 0)
    if tag in ("cell", "slice", "tvm.Cell", "tvm.Slice"):
        payload = value.get("bytes") if isinstance(value, dict) else value
        if not isinstance(payload, str):
            raise TonApiError(f"unexpected {tag} payload {payload!r}")
        cell = Cell.one_from_boc(base64.b64decode(payload))
        parsed: Slice = cell.begin_parse()  # type: ignore[no-untyped-call]
        return parsed
    if tag in ("tuple", "list"):
        return [_decode_typed(element) for element in (value or {}).get("elements", [])]
    if tag == "null":
        return None
    raise TonApiError(f"unsupported stack entry type {tag!r}")


def _decode_typed(entry: dict[str, Any]) -> Any:
    kind = entry.get("@type", "")
    if kind == "tvm.stackEntryNumber":
        return int(entry["number"]["number"])
    for key in ("cell", "slice"):
        if kind == f"tvm.stackEntry{key.capitalize()}":
            cell = Cell.one_from_boc(base64.b64decode(entry[key]["bytes"]))
            return cell.begin_parse()  # type: ignore[no-untyped-call]
    if kind in ("tvm.stackEntryTuple", "tvm.stackEntryList"):
        key = "tuple" if kind.endswith("Tuple") else "list"
        return [_decode_typed(e) for e in entry[key]["elements"]]
    return None
