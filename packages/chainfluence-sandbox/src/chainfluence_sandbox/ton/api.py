"""The local chain over HTTP: a toncenter-v2-style API and a small control API for tests and demos.

    app, chain = create_ton_emulator()
    async with serve_in_background(app) as base_url:
        client = TonClient(f"{base_url}/api/v2")     # the production client, unchanged

toncenter API (``/api/v2``), the methods tonutils' ``ToncenterClient`` and our ``TonClient`` call:
``getAddressInformation``, ``getWalletInformation``, ``getAddressBalance``, ``getTransactions``,
``runGetMethod``, ``sendBoc``, ``sendBocReturnHash``, ``getConfigAll``, and for block scanning
``getMasterchainInfo``, ``shards``, ``lookupBlock``, ``getBlockHeader``, ``getBlockTransactions``,
``getBlockTransactionsExt``. Answers are ``{"ok": true, "result": ...}``; errors
``{"ok": false, "error": "...", "code": n}`` with that HTTP status, as toncenter sends them.

Control API (``/sandbox``): mint TON to an address, create a test wallet and send from it (so a
payment request can be paid from the API docs page), mine the mempool, read an account.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit

from chainfluence.ton.signing import WalletVersion
from chainfluence.ton.transactions import raw_address
from chainfluence_sandbox.ton import render
from chainfluence_sandbox.ton.chain import GLOBAL_ID, MessageRejectedError, TonChain
from chainfluence_sandbox.ton.wallets import SandboxWallet
from chainfluence_sandbox.tvm import (
    AccountStatus,
    EmulationError,
    GetMethodError,
    load_mainnet_config,
)

__all__ = ["create_ton_emulator"]

# What getWalletInformation reports for the wallet codes the chain knows, by code hash.
_WALLET_TYPES = {"v4r2": "wallet v4 r2", "v5r1": "wallet v5 r1"}


class TonApiError(Exception):
    def __init__(self, message: str, code: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def _address(value: str) -> str:
    try:
        return raw_address(value)
    except Exception as exc:
        raise TonApiError("Incorrect address", 416) from exc


def _cell_b64(value: str, what: str) -> Cell:
    try:
        return Cell.one_from_boc(base64.b64decode(value))
    except (binascii.Error, ValueError, IndexError) as exc:
        raise TonApiError(f"Invalid {what}: not a base64 bag of cells", 400) from exc


def _wallet_codes() -> dict[bytes, str]:
    from ton_core import CONTRACT_CODES, ContractVersion

    versions = {"v4r2": ContractVersion.WalletV4R2, "v5r1": ContractVersion.WalletV5R1}
    codes: dict[bytes, str] = {}
    for name, version in versions.items():
        cell = Cell.one_from_boc(bytes.fromhex(CONTRACT_CODES[version]))
        codes[bytes(cell.hash)] = name
    return codes


def toncenter_router(chain: TonChain) -> APIRouter:
    router = APIRouter(prefix="/api/v2", tags=["toncenter v2"])
    wallet_codes = _wallet_codes()

    def tip() -> tuple[Any, int]:
        block = chain.last_master_block
        return block.id, block.gen_utime

    @router.get("/getAddressInformation")
    async def get_address_information(address: str) -> dict[str, Any]:
        block, utime = tip()
        account = chain.account(_address(address))
        return _ok(render.account_state(account, block=block, sync_utime=utime))

    @router.get("/getAddressBalance")
    async def get_address_balance(address: str) -> dict[str, Any]:
        return _ok(str(chain.balance(_address(address))))

    @router.get("/getWalletInformation")
    async def get_wallet_information(address: str) -> dict[str, Any]:
        account = chain.account(_address(address))
        state = render.account_state(account, block=tip()[0], sync_utime=tip()[1])
        result: dict[str, Any] = {
            "wallet": False,
            "balance": state["balance"],
            "account_state": state["state"],
            "last_transaction_id": state["last_transaction_id"],
        }
        version = wallet_codes.get(bytes(account.code.hash)) if account.code is not None else None
        if version is not None and account.status is AccountStatus.ACTIVE:
            seqno = chain.run_get_method(account.address, "seqno").stack[0]
            result.update(wallet=True, wallet_type=_WALLET_TYPES[version], seqno=seqno)
            if version == "v4r2":
                result["wallet_id"] = chain.run_get_method(
                    account.address, "get_subwallet_id"
                ).stack[0]
        return _ok(result)

    @router.get("/getTransactions")
    async def get_transactions(
        address: str,
        limit: Annotated[int, Query(gt=0, le=100)] = 10,
        lt: int | None = None,
        hash: str | None = None,
        to_lt: int = 0,
        archival: bool = False,
    ) -> dict[str, Any]:
        account = _address(address)
        if (lt is None) != (hash is None):
            raise TonApiError("lt and hash must be given together", 400)
        if lt is not None and hash is not None:
            wanted = render.decode_hash(hash).hex()
            stored = chain.transaction(wanted)
            if stored is None or stored.tx.account != account or stored.tx.lt != lt:
                raise TonApiError("LITE_SERVER_UNKNOWN: cannot find transaction", 500)
        found = chain.transactions_before(account, lt=lt, limit=limit, to_lt=to_lt)
        return _ok([render.raw_transaction(s) for s in found])

    @router.post("/runGetMethod")
    async def run_get_method(
        address: Annotated[str, Body()],
        method: Annotated[str | int, Body()],
        stack: Annotated[list[Any], Body()],
    ) -> dict[str, Any]:
        account = chain.account(_address(address))
        block, _ = tip()
        result: dict[str, Any] = {
            "@type": "smc.runResult",
            "gas_used": 0,
            "stack": [],
            "exit_code": -13,  # what tonlib reports for an account without code
            "block_id": render.block_id_ext(block),
            "last_transaction_id": render.transaction_id(
                account.last_trans_lt, account.last_trans_hash
            ),
        }
        if account.status is not AccountStatus.ACTIVE:
            return _ok(result)
        try:
            arguments = render.decode_stack(stack)
        except (ValueError, binascii.Error) as exc:
            raise TonApiError(f"Invalid stack: {exc}", 400) from exc
        name: str | int = int(method) if isinstance(method, str) and method.isdigit() else method
        try:
            ran = chain.run_get_method(account.address, name, arguments)
        except GetMethodError as exc:
            result.update(exit_code=exc.exit_code)
            return _ok(result)
        except EmulationError as exc:
            raise TonApiError(f"LITE_SERVER_UNKNOWN: {exc}", 500) from exc
        result.update(
            gas_used=ran.gas_used, stack=render.encode_stack(ran.stack), exit_code=ran.exit_code
        )
        return _ok(result)

    def _send(boc: str) -> Cell:
        message = _cell_b64(boc, "boc")
        try:
            chain.send_external(message)
        except MessageRejectedError as exc:
            raise TonApiError(
                "LITE_SERVER_UNKNOWN: cannot apply external message to current state : "
                f"External message was not accepted\n{exc} (exitcode={exc.exit_code})",
                500,
            ) from exc
        return message

    @router.post("/sendBoc")
    async def send_boc(boc: Annotated[str, Body(embed=True)]) -> dict[str, Any]:
        _send(boc)
        return _ok({"@type": "ok"})

    @router.post("/sendBocReturnHash")
    async def send_boc_return_hash(boc: Annotated[str, Body(embed=True)]) -> dict[str, Any]:
        from ton_core import normalize_hash

        message = _send(boc)
        normalized = bytes.fromhex(normalize_hash(boc))
        return _ok(
            {
                "@type": "raw.extMessageInfo",
                "hash": render.b64(bytes(message.hash)),
                "hash_norm": render.b64(normalized),
            }
        )

    @router.get("/getConfigAll")
    async def get_config_all() -> dict[str, Any]:
        config = {"@type": "tvm.cell", "bytes": render.boc_b64(load_mainnet_config())}
        return _ok({"@type": "configInfo", "config": config})

    @router.get("/getMasterchainInfo")
    async def get_masterchain_info() -> dict[str, Any]:
        block = chain.last_master_block
        return _ok(
            {
                "@type": "blocks.masterchainInfo",
                "last": render.block_id_ext(block.id),
                "state_root_hash": render.b64(block.id.root_hash),
                "init": render.block_id_ext(chain.init_block),
            }
        )

    def _master(seqno: int) -> Any:
        block = chain.master_block(seqno)
        if block is None:
            raise TonApiError("LITE_SERVER_NOTREADY: block is not applied", 500)
        return block

    def _shard(workchain: int, shard: int, seqno: int) -> Any:
        if workchain == -1:
            return _master(seqno)
        block = chain.shard_block(workchain, shard, seqno)
        if block is None:
            raise TonApiError("LITE_SERVER_UNKNOWN: block not found", 500)
        return block

    @router.get("/shards")
    async def shards(seqno: int) -> dict[str, Any]:
        block = _master(seqno)
        return _ok(
            {"@type": "blocks.shards", "shards": [render.block_id_ext(s) for s in block.shards]}
        )

    @router.get("/lookupBlock")
    async def lookup_block(workchain: int, shard: int, seqno: int) -> dict[str, Any]:
        return _ok(render.block_id_ext(_shard(workchain, shard, seqno).id))

    @router.get("/getBlockHeader")
    async def get_block_header(
        workchain: int,
        shard: int,
        seqno: int,
        root_hash: str | None = None,
        file_hash: str | None = None,
    ) -> dict[str, Any]:
        block = _shard(workchain, shard, seqno)
        return _ok(render.block_header(block, global_id=GLOBAL_ID))

    def _block_transactions(
        workchain: int, shard: int, seqno: int, after_lt: int | None, after_hash: str | None
    ) -> tuple[Any, list[Any]]:
        block = _shard(workchain, shard, seqno)
        stored = list(getattr(block, "transactions", []))
        # Block transactions are ordered by (account, lt); "after" resumes behind one of them.
        stored.sort(key=lambda s: (s.tx.account, s.tx.lt))
        if after_lt is not None and after_hash:
            account_hex = render.decode_hash(after_hash).hex()
            stored = [
                s
                for s in stored
                if (s.tx.account.split(":", 1)[1], s.tx.lt) > (account_hex, after_lt)
            ]
        return block, stored

    @router.get("/getBlockTransactions")
    async def get_block_transactions(
        workchain: int,
        shard: int,
        seqno: int,
        root_hash: str | None = None,
        file_hash: str | None = None,
        after_lt: int | None = None,
        after_hash: str | None = None,
        count: int = 40,
    ) -> dict[str, Any]:
        block, stored = _block_transactions(workchain, shard, seqno, after_lt, after_hash)
        # toncenter pages through tonlib until the list is complete, so `incomplete` is false.
        return _ok(
            {
                "@type": "blocks.transactions",
                "id": render.block_id_ext(block.id),
                "req_count": count,
                "incomplete": False,
                "transactions": [render.short_tx_id(s) for s in stored],
            }
        )

    @router.get("/getBlockTransactionsExt")
    async def get_block_transactions_ext(
        workchain: int,
        shard: int,
        seqno: int,
        root_hash: str | None = None,
        file_hash: str | None = None,
        after_lt: int | None = None,
        after_hash: str | None = None,
        count: int = 40,
    ) -> dict[str, Any]:
        block, stored = _block_transactions(workchain, shard, seqno, after_lt, after_hash)
        return _ok(
            {
                "@type": "blocks.transactionsExt",
                "id": render.block_id_ext(block.id),
                "req_count": count,
                "incomplete": False,
                "transactions": [render.raw_transaction(s, block_format=True) for s in stored],
            }
        )

    return router


# ---- control API ------------------------------------------------------------------------------


class FundRequest(BaseModel):
    address: str
    amount_nano: int = Field(gt=0, alias="amountNano")


class WalletCreate(BaseModel):
    version: WalletVersion = WalletVersion.v5r1
    balance_nano: int = Field(default=100 * 10**9, ge=0, alias="balanceNano")
    mnemonic: list[str] | None = None


class TransferRequest(BaseModel):
    """A TON Connect ``sendTransaction`` message (address, amount, payload, stateInit) or a
    plain transfer with a comment."""

    address: str
    amount_nano: int = Field(gt=0, alias="amountNano")
    payload: str | None = None  # base64 BOC of the body
    state_init: str | None = Field(default=None, alias="stateInit")  # base64 BOC
    comment: str | None = None
    bounce: bool | None = None


def control_router(chain: TonChain) -> APIRouter:
    router = APIRouter(prefix="/sandbox", tags=["sandbox control"])
    wallets: dict[str, SandboxWallet] = {}

    def summary(address: str) -> dict[str, Any]:
        account = chain.account(address)
        return {
            "address": address,
            "friendly": render.friendly(address),
            "status": account.status.value,
            "balanceNano": str(account.balance_nano),
            "lastTransactionLt": str(account.last_trans_lt),
        }

    @router.post("/fund")
    async def fund(request: FundRequest) -> dict[str, Any]:
        address = _address(request.address)
        chain.fund(address, request.amount_nano)
        return summary(address)

    @router.post("/wallets")
    async def create_wallet(request: WalletCreate) -> dict[str, Any]:
        wallet = SandboxWallet.create(
            chain,
            balance_nano=request.balance_nano,
            version=request.version,
            mnemonic=request.mnemonic,
        )
        wallets[wallet.raw_address] = wallet
        return {**summary(wallet.raw_address), "mnemonic": wallet.mnemonic}

    @router.post("/wallets/{address}/transfer")
    async def transfer(address: str, request: TransferRequest) -> dict[str, Any]:
        wallet = wallets.get(_address(address))
        if wallet is None:
            raise TonApiError("No such sandbox wallet: create it with POST /sandbox/wallets", 404)
        state_init = None
        if request.state_init:
            state_init = StateInit.deserialize(
                _cell_b64(request.state_init, "stateInit").begin_parse()  # type: ignore[no-untyped-call]
            )
        body = _cell_b64(request.payload, "payload") if request.payload else None
        try:
            message_hash = await wallet.transfer(
                Address(_address(request.address)),
                request.amount_nano,
                comment=request.comment,
                body=body,
                state_init=state_init,
                bounce=request.bounce,
            )
        except (MessageRejectedError, ValueError) as exc:
            raise TonApiError(str(exc), 400) from exc
        return {"messageHash": message_hash, "wallet": summary(wallet.raw_address)}

    @router.post("/mine")
    async def mine() -> dict[str, Any]:
        block = chain.mine()
        return {"masterchainSeqno": block.id.seqno if block else chain.last_master_seqno}

    @router.get("/accounts/{address}")
    async def account(address: str) -> dict[str, Any]:
        return summary(_address(address))

    return router


def create_ton_emulator(chain: TonChain | None = None) -> tuple[FastAPI, TonChain]:
    """An app serving ``chain`` (a new one unless given)."""
    chain = chain or TonChain()
    app = FastAPI(
        title="TON chain emulator",
        description="Local stand-in for a toncenter v2 endpoint; see the /sandbox routes.",
    )

    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TonApiError)
        body = {"ok": False, "error": exc.message, "code": exc.code}
        return JSONResponse(body, status_code=exc.code)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        body = {"ok": False, "error": str(exc.errors()), "code": 422}
        return JSONResponse(body, status_code=422)

    app.add_exception_handler(TonApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.include_router(toncenter_router(chain))
    app.include_router(control_router(chain))
    app.state.chain = chain
    return app, chain
