"""Wallet shapes on the wire: the ton_proof challenge and the TON Connect wallet-link request."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema

from chainfluence.kit.schemas import (
    INT64_MAX,
    INT64_MIN,
    RequestSchema,
    Schema,
    UtcDateTime,
    parse_int,
)

_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")


class TonProofChallenge(Schema):
    payload: str = Field(description="Pass as `tonProof` in TON Connect's connect request.")
    expires_at: UtcDateTime


def _parse_signature(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("must be a base64 string")
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64") from None
    if len(raw) != 64:
        raise ValueError("must be a 64-byte Ed25519 signature")
    return raw


def _parse_public_key(value: Any) -> bytes:
    if not isinstance(value, str) or not _HEX_KEY.match(value.strip()):
        raise ValueError("must be a 32-byte Ed25519 public key as 64 hex digits")
    return bytes.fromhex(value.strip())


WireInt = Annotated[
    int,
    # TON Connect's wire format has decimal strings where its SDKs hand out numbers.
    BeforeValidator(parse_int),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX},
                {"type": "string", "pattern": r"^-?[0-9]{1,18}$"},
            ]
        }
    ),
]
Signature = Annotated[
    bytes,
    BeforeValidator(_parse_signature),
    WithJsonSchema({"type": "string", "format": "base64", "description": "64-byte signature"}),
]
PublicKeyHex = Annotated[
    bytes,
    BeforeValidator(_parse_public_key),
    WithJsonSchema({"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}),
]


class TonProofDomain(Schema):
    length_bytes: int = Field(ge=1, le=255)
    value: str = Field(min_length=1, max_length=255)


class TonProof(Schema):
    """TON Connect's `ton_proof` reply item's `proof`, passed through as the wallet made it."""

    # The wallet's object, not ours: tolerate fields a newer protocol version adds.
    model_config = ConfigDict(extra="ignore")

    timestamp: WireInt
    domain: TonProofDomain
    signature: Signature
    payload: str = Field(min_length=1, max_length=128)
    # Some clients put the wallet's StateInit here (TON Connect demo backend's shape).
    state_init: str | None = Field(default=None, max_length=16_384)


class WalletLink(RequestSchema):
    """TON Connect's `account` (address, chain, public key, StateInit) plus its ton_proof."""

    address: str = Field(min_length=1, max_length=100, examples=["0:" + "ab" * 32])
    network: WireInt = Field(description='TON Connect chain id: "-239" mainnet, "-3" testnet.')
    public_key: PublicKeyHex
    proof: TonProof
    state_init: str | None = Field(
        default=None,
        max_length=16_384,
        description="TON Connect's account.walletStateInit (base64 BOC).",
    )
