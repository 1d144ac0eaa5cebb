"""Canonical JSON and the platform's Ed25519 signature over it.

A pack is signed over its canonical form without its ``signature`` member: UTF-8 JSON with keys
sorted, no insignificant whitespace, non-ASCII characters as they are, and no floating-point
numbers anywhere (money is integer nanotons written as decimal strings). The same document
always gives the same bytes, whatever whitespace or key order it was stored or sent with.

A key is named by its id, ``ed25519:`` and the first 16 hex digits of the SHA-256 of the public
key, so a rotated key gets a new id and verifiers pick the published key a pack names.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

ALGORITHM: Final = "Ed25519"
SIGNATURE_FIELD: Final = "signature"
KEY_PATH: Final = "/.well-known/chainfluence-evidence-key"


class NotCanonical(ValueError):
    """The document holds something canonical JSON cannot (a float, a non-string key, ...)."""


def _check(value: Any, where: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return
    if isinstance(value, float):
        raise NotCanonical(f"{where} is a floating-point number ({value!r})")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonical(f"{where} has a non-string key {key!r}")
            _check(item, f"{where}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]")
        return
    raise NotCanonical(f"{where} is a {type(value).__name__}, not a JSON value")


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    """The bytes a pack's signature covers: ``document`` without its signature, canonical."""
    unsigned = {key: value for key, value in document.items() if key != SIGNATURE_FIELD}
    _check(unsigned, "pack")
    text = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def key_id(public_key: bytes) -> str:
    return "ed25519:" + hashlib.sha256(public_key).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    seed: bytes

    @property
    def public_key(self) -> bytes:
        return bytes(SigningKey(self.seed).verify_key)

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, document: dict[str, Any]) -> dict[str, Any]:
        """``document`` with its ``signature`` member (any earlier one replaced)."""
        signature = SigningKey(self.seed).sign(canonical_bytes(document)).signature
        return {
            **{key: value for key, value in document.items() if key != SIGNATURE_FIELD},
            SIGNATURE_FIELD: {
                "algorithm": ALGORITHM,
                "keyId": self.key_id,
                "value": base64.b64encode(signature).decode(),
            },
        }


def published_keys(current: bytes, previous: list[bytes]) -> dict[str, Any]:
    """The document served at KEY_PATH: the current key first, then retired ones."""
    keys = [{"keyId": key_id(current), "publicKey": current.hex(), "current": True}]
    keys += [
        {"keyId": key_id(key), "publicKey": key.hex(), "current": False}
        for key in previous
        if key != current
    ]
    return {"algorithm": ALGORITHM, "keys": keys}


def signature_problem(document: Mapping[str, Any], public_key: bytes) -> str | None:
    """Why ``document``'s signature does not hold under ``public_key``; None when it does."""
    signature = document.get(SIGNATURE_FIELD)
    if not isinstance(signature, Mapping):
        return "the pack carries no signature"
    if signature.get("algorithm") != ALGORITHM:
        return f"the signature's algorithm is {signature.get('algorithm')!r}, not {ALGORITHM}"
    named = signature.get("keyId")
    given = key_id(public_key)
    if named != given:
        return f"the pack was signed with key {named}, but the key given is {given}"
    try:
        raw = base64.b64decode(str(signature.get("value", "")), validate=True)
    except (binascii.Error, ValueError):
        return "the signature value is not base64"
    try:
        payload = canonical_bytes(document)
    except NotCanonical as exc:
        return f"the pack is not canonical JSON: {exc}"
    try:
        VerifyKey(public_key).verify(payload, raw)
    except (BadSignatureError, ValueError):
        return (
            f"the signature does not match the content under key {given}: the pack was "
            "changed after it was signed, or the signature was"
        )
    return None
