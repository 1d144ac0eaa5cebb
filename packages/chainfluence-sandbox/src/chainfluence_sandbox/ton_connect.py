"""The wallet-app half of TON Connect, for sandbox wallets: answer a ton_proof, send a transaction.

A newcomer in the sandbox has no wallet app, so the sandbox plays it: it signs the backend's
ton_proof challenge exactly as a wallet does (the TON Connect spec's ``ton-proof-item-v2``
message; the backend checks it with the ``ton-connect`` library, so nothing here can make a bad
proof pass), and it executes a ``sendTransaction`` request through the wallet's own contract on the
local chain (signature and seqno checked by the wallet code in the TVM).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit

from chainfluence.kit.time import utcnow
from chainfluence.ton.signing import OutgoingMessage
from chainfluence_sandbox.keyring import SandboxKey
from chainfluence_sandbox.ton import SandboxWallet, TonChain
from chainfluence_sandbox.ton.chain import MessageRejectedError
from chainfluence_sandbox.tvm import AccountStatus

__all__ = [
    "MAINNET",
    "TransactionRefused",
    "send_signed",
    "send_transaction",
    "sign_transaction",
    "ton_proof_digest",
    "ton_proof_reply",
]

MAINNET = "-239"  # TON Connect's CHAIN id; the local chain runs mainnet's config


class TransactionRefused(Exception):
    """What a wallet app would show instead of sending: an expired or malformed request."""


def ton_proof_digest(address: Address, *, payload: str, domain: str, timestamp: int) -> bytes:
    """What a wallet signs for a ton_proof: the TON Connect spec's ``ton-proof-item-v2`` hash."""
    domain_bytes = domain.encode()
    message = (
        b"ton-proof-item-v2/"
        + address.wc.to_bytes(4, "big", signed=True)
        + address.hash_part
        + len(domain_bytes).to_bytes(4, "little")
        + domain_bytes
        + timestamp.to_bytes(8, "little")
        + payload.encode()
    )
    return hashlib.sha256(b"\xff\xff" + b"ton-connect" + hashlib.sha256(message).digest()).digest()


def _proof_signature(key: SandboxKey, *, payload: str, domain: str, timestamp: int) -> str:
    digest = ton_proof_digest(
        key.wallet.address, payload=payload, domain=domain, timestamp=timestamp
    )
    return base64.b64encode(key.sign(digest)).decode()


def ton_proof_reply(key: SandboxKey, *, payload: str, domain: str) -> dict[str, Any]:
    """The ``POST /v1/users/me/wallet`` body: TON Connect's account and its ton_proof reply to
    the challenge ``payload``, signed now for ``domain``."""
    timestamp = int(utcnow().timestamp())
    state_init: bytes = key.wallet.state_init.serialize().to_boc()  # type: ignore[no-untyped-call]
    return {
        "address": key.raw_address,
        "network": MAINNET,
        "publicKey": key.public_key.hex(),
        "stateInit": base64.b64encode(state_init).decode(),
        "proof": {
            "timestamp": timestamp,
            "domain": {"lengthBytes": len(domain.encode()), "value": domain},
            "signature": _proof_signature(key, payload=payload, domain=domain, timestamp=timestamp),
            "payload": payload,
        },
    }


def _cell(value: str, what: str) -> Cell:
    try:
        return Cell.one_from_boc(base64.b64decode(value))
    except (binascii.Error, ValueError, IndexError) as exc:
        raise TransactionRefused(f"the request's {what} is not a base64 bag of cells") from exc


def _outgoing(chain: TonChain, message: dict[str, Any], amount_nano: int | None) -> OutgoingMessage:
    text = str(message["address"])
    try:
        destination = Address(text)
    except Exception as exc:
        raise TransactionRefused(f"{text!r} is not a TON address") from exc
    # As wallet apps do: a user-friendly address says whether to bounce; a raw one does not,
    # so bounce only to a contract that exists.
    bounce = (
        destination.is_bounceable
        if ":" not in text
        else chain.account(destination).status is AccountStatus.ACTIVE
    )
    state_init = None
    if message.get("stateInit"):
        state_init = StateInit.deserialize(_cell(message["stateInit"], "stateInit").begin_parse())  # type: ignore[no-untyped-call]
    return OutgoingMessage(
        destination=destination,
        value_nano=int(message["amount"]) if amount_nano is None else amount_nano,
        body=_cell(message["payload"], "payload") if message.get("payload") else None,
        state_init=state_init,
        bounce=bounce,
    )


async def sign_transaction(
    chain: TonChain,
    key: SandboxKey,
    transaction: dict[str, Any],
    *,
    amount_nano: int | None = None,
) -> Cell:
    """Check TON Connect's ``sendTransaction`` request as a wallet app does and sign it from the
    key's wallet: the external message to send. ``amount_nano`` replaces the (single) message's
    amount, to play an under- or over-payment."""
    messages = transaction.get("messages") or []
    if not messages:
        raise TransactionRefused("the request has no messages")
    if amount_nano is not None and len(messages) != 1:
        raise TransactionRefused("an amount can only replace the amount of a single message")
    if int(transaction.get("validUntil", 0)) < int(utcnow().timestamp()):
        raise TransactionRefused("the request has expired; ask for a fresh one")
    network = transaction.get("network")
    if network is not None and str(network) != MAINNET:
        raise TransactionRefused(f"the request is for network {network}, the wallet's is {MAINNET}")
    sender = transaction.get("from")
    if sender is not None and Address(sender) != key.wallet.address:
        raise TransactionRefused(f"the request must be sent from {sender}, not this wallet")
    wallet = SandboxWallet(chain, key.wallet)
    outgoing = [_outgoing(chain, message, amount_nano) for message in messages]
    signed = await wallet.sign(outgoing)
    return signed.cell


def send_signed(chain: TonChain, message: Cell) -> str:
    """Send a signed external message on the local chain; returns its hash."""
    try:
        return chain.send_external(message)
    except MessageRejectedError as exc:
        raise TransactionRefused(f"the wallet contract refused the message: {exc}") from exc


async def send_transaction(
    chain: TonChain,
    key: SandboxKey,
    transaction: dict[str, Any],
    *,
    amount_nano: int | None = None,
) -> str:
    """Sign and send TON Connect's ``sendTransaction`` request from the key's wallet; returns the
    external message's hash (see ``sign_transaction``)."""
    message = await sign_transaction(chain, key, transaction, amount_nano=amount_nano)
    return send_signed(chain, message)
