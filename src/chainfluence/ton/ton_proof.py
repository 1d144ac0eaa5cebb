"""TON Connect ton_proof: check that a wallet's owner signed our challenge for our domain.

The signature itself is checked by the `ton-connect` library (`VerifyTonProof`: the exact
``ton-proof-item-v2`` message layout, the public key read from the wallet's StateInit, Ed25519).
Around it this module adds what the library leaves to its caller or does differently:

* a reason code and a sentence for every way a proof can fail, checked before the signature so the
  user learns *what* is wrong (wrong network, domain, stale time, address/StateInit mismatch);
* the project clock (`kit.time.utcnow`) instead of `time.time()`, so the sandbox and the tests can
  move time; freshness is bounded by when our challenge was issued, not by a fixed window;
* the declared ``lengthBytes`` must be the domain's real UTF-8 length (the library signs over the
  declared value, so a lying length would only make the signature fail, but later and less clearly);
* only basechain wallets: payouts go there, and TON Connect wallets live there.

What the proof does *not* authenticate: the network id. It is not part of the signed message, and a
v4r2 wallet's data does not mention it (v5r1's wallet id mixes it in, but not recoverably). Checking
it against the networks we serve is a guard against a user connecting a wallet of the wrong network,
not a security property.

Wallets whose StateInit does not reveal their key (unknown codes) need the key from the chain
(`get_public_key`); pass `resolve_public_key` for that. Without a resolver they are refused:
trusting the key sent in the request would let anyone claim any deployed address.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

from nacl.exceptions import BadSignatureError
from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit
from ton_connect.models import TonProofPayloadDto
from ton_connect.utils import VerifyTonProof
from ton_core import PublicKey

__all__ = [
    "CLOCK_SKEW",
    "ProofFailure",
    "ProvenWallet",
    "PublicKeyResolver",
    "TonChain",
    "TonProofClaim",
    "TonProofRejected",
    "verify_ton_proof",
]

CLOCK_SKEW = dt.timedelta(seconds=60)
"""How far a wallet's clock may be ahead of ours (and behind, relative to the challenge)."""

_BASECHAIN = 0


class TonChain(IntEnum):
    """TON Connect's network ids (`CHAIN` in the protocol), sent as decimal strings."""

    mainnet = -239
    testnet = -3


class ProofFailure(StrEnum):
    malformed = "ton_proof_malformed"
    wrong_network = "ton_proof_wrong_network"
    domain_not_allowed = "ton_proof_domain_not_allowed"
    stale = "ton_proof_stale"
    address_mismatch = "ton_proof_address_mismatch"
    unsupported_wallet = "ton_proof_unsupported_wallet"
    public_key_mismatch = "ton_proof_public_key_mismatch"
    bad_signature = "ton_proof_bad_signature"


class TonProofRejected(Exception):
    def __init__(self, reason: ProofFailure, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


PublicKeyResolver = Callable[[str], Awaitable[bytes | None]]
"""Reads a deployed wallet's current key from the chain (`get_public_key`), by raw address."""


@dataclass(frozen=True, slots=True)
class TonProofClaim:
    """What the client sends: TON Connect's `account` and its `ton_proof` reply, decoded."""

    address: str  # any form the wallet sent: raw "0:<hex>" or user-friendly
    chain: int
    public_key: bytes  # 32 bytes
    state_init: str  # base64 BOC of the wallet's StateInit
    timestamp: int
    domain: str
    domain_length: int
    payload: str
    signature: bytes  # 64 bytes


@dataclass(frozen=True, slots=True)
class ProvenWallet:
    address: str  # raw "0:<64 hex>"
    chain: TonChain
    public_key: str  # 64 hex
    domain: str


class _Verifier(VerifyTonProof):
    """The library's verifier, reading time from the project clock instead of `time.time()`.

    Freshness is checked by `verify_ton_proof` against the challenge's own lifetime before the
    library runs, so the library's fixed-window check is switched off here.
    """

    @classmethod
    def _ensure_timestamp_valid(cls, timestamp: int, valid_auth_time: int) -> None:
        return None


# The library's sentences for the checks it makes after ours (ton-connect 1.1).
_LIBRARY_FAILURES = {
    "Public key not found": ProofFailure.unsupported_wallet,
    "Public key mismatch": ProofFailure.public_key_mismatch,
    "Domain not allowed": ProofFailure.domain_not_allowed,
    "Address does not match wallet_state_init": ProofFailure.address_mismatch,
    "Cannot validate address against state_init": ProofFailure.address_mismatch,
}


def _reject(reason: ProofFailure, message: str) -> TonProofRejected:
    return TonProofRejected(reason, message)


def _parse_state_init(value: str) -> StateInit:
    try:
        cell = Cell.one_from_boc(base64.b64decode(value, validate=True))
        state_init: StateInit = StateInit.deserialize(cell.begin_parse())  # type: ignore[no-untyped-call]
    except Exception as exc:  # binascii, and pytoniq-core's own error types for broken BOCs
        raise _reject(
            ProofFailure.malformed, "The wallet's stateInit is not a valid base64 StateInit BOC."
        ) from exc
    return state_init


def _parse_address(value: str) -> Address:
    try:
        return Address(value)
    except Exception as exc:
        raise _reject(ProofFailure.malformed, f"{value!r} is not a TON address.") from exc


async def verify_ton_proof(
    claim: TonProofClaim,
    *,
    allowed_domains: list[str],
    accepted_chains: frozenset[TonChain],
    issued_at: dt.datetime,
    now: dt.datetime,
    resolve_public_key: PublicKeyResolver | None = None,
) -> ProvenWallet:
    """The wallet the claim proves, or `TonProofRejected` saying why not.

    `issued_at` is when our challenge payload was handed out: a proof signed before that cannot be
    an answer to it. The caller checks that the payload itself is ours, unused and unexpired.
    """
    try:
        chain = TonChain(claim.chain)
    except ValueError:
        chain = None
    if chain is None or chain not in accepted_chains:
        names = " or ".join(sorted(c.name for c in accepted_chains))
        raise _reject(
            ProofFailure.wrong_network,
            f"This wallet is on another TON network (chain {claim.chain}); connect a {names} "
            "wallet.",
        )

    if claim.domain_length != len(claim.domain.encode()):
        raise _reject(
            ProofFailure.malformed, "The proof's domain lengthBytes does not match its value."
        )
    if claim.domain not in allowed_domains:
        raise _reject(
            ProofFailure.domain_not_allowed,
            f"The proof was made for {claim.domain!r}, which is not this app's domain.",
        )

    signed_at = claim.timestamp
    if signed_at > (now + CLOCK_SKEW).timestamp():
        raise _reject(ProofFailure.stale, "The proof is dated in the future; check the clock.")
    if signed_at < (issued_at - CLOCK_SKEW).timestamp():
        raise _reject(ProofFailure.stale, "The proof was signed before this challenge was issued.")

    address = _parse_address(claim.address)
    if address.wc != _BASECHAIN:
        raise _reject(
            ProofFailure.unsupported_wallet,
            "Only wallets in the base workchain (0:…) can be linked.",
        )
    state_init = _parse_state_init(claim.state_init)
    if Address((address.wc, state_init.serialize().hash)) != address:
        raise _reject(
            ProofFailure.address_mismatch,
            "The wallet address does not match its stateInit: this is not that wallet's proof.",
        )

    dto = TonProofPayloadDto.model_validate(
        {
            "address": address.to_str(is_user_friendly=False),  # type: ignore[no-untyped-call]
            "network": str(int(chain)),
            "publicKey": claim.public_key.hex(),
            "walletStateInit": claim.state_init,
            "proof": {
                "timestamp": claim.timestamp,
                "domain": {"lengthBytes": claim.domain_length, "value": claim.domain},
                "signature": base64.b64encode(claim.signature).decode(),
                "payload": claim.payload,
            },
        }
    )
    resolver = _library_resolver(resolve_public_key) if resolve_public_key else None
    try:
        valid = await _Verifier(dto).verify(allowed_domains, get_wallet_public_key=resolver)
    except BadSignatureError as exc:
        reason = _LIBRARY_FAILURES.get(str(exc), ProofFailure.bad_signature)
        raise _reject(reason, _MESSAGES[reason]) from exc
    if not valid:
        raise _reject(ProofFailure.bad_signature, _MESSAGES[ProofFailure.bad_signature])

    return ProvenWallet(
        address=address.to_str(is_user_friendly=False),  # type: ignore[no-untyped-call]
        chain=chain,
        public_key=claim.public_key.hex(),
        domain=claim.domain,
    )


_MESSAGES = {
    ProofFailure.unsupported_wallet: (
        "This wallet type does not reveal its public key in its stateInit, so its proof cannot be "
        "checked; use a standard wallet (v4r2, v5r1)."
    ),
    ProofFailure.public_key_mismatch: "The public key does not belong to this wallet.",
    ProofFailure.domain_not_allowed: "The proof was made for another app's domain.",
    ProofFailure.address_mismatch: "The wallet address does not match its stateInit.",
    ProofFailure.bad_signature: "The wallet's signature on the proof is not valid.",
}


def _library_resolver(resolve: PublicKeyResolver) -> Callable[[Any], Awaitable[PublicKey | None]]:
    async def resolver(address: Any) -> PublicKey | None:
        key = await resolve(address.to_str(is_user_friendly=False))
        return PublicKey(key) if key is not None else None

    return resolver
