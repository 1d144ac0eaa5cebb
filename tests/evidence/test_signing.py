"""The canonical form a pack is signed over, and what its signature check says."""

from __future__ import annotations

import hashlib
import json

import pytest
from nacl.signing import SigningKey

from chainfluence.evidence.signing import NotCanonical, Signer, canonical_bytes, signature_problem

SIGNER = Signer(bytes(range(32)))


def test_the_canonical_form_ignores_key_order_and_whitespace_but_not_content() -> None:
    pack = SIGNER.sign({"deal": {"priceNano": "10", "id": 7}, "format": "f", "text": "Привет"})
    reordered = json.loads(json.dumps(pack, indent=4))
    reordered = {key: reordered[key] for key in reversed(list(reordered))}

    assert canonical_bytes(pack) == (
        '{"deal":{"id":7,"priceNano":"10"},"format":"f","text":"Привет"}'.encode()
    )
    assert signature_problem(reordered, SIGNER.public_key) is None
    assert signature_problem({**pack, "text": "Privet"}, SIGNER.public_key) is not None


def test_floats_are_refused_when_signing_and_named_when_checking() -> None:
    with pytest.raises(NotCanonical, match=r"pack.deal.views is a floating-point number"):
        SIGNER.sign({"deal": {"views": 1.5}})
    pack = SIGNER.sign({"deal": {"views": 1}})
    pack["deal"]["views"] = 1.0

    assert signature_problem(pack, SIGNER.public_key) == (
        "the pack is not canonical JSON: pack.deal.views is a floating-point number (1.0)"
    )


def test_a_missing_signature_an_unknown_algorithm_and_a_wrong_key_are_named() -> None:
    pack = SIGNER.sign({"format": "f"})
    other = Signer(bytes(SigningKey.generate()))

    assert signature_problem({"format": "f"}, SIGNER.public_key) == "the pack carries no signature"
    assert (
        signature_problem(
            {**pack, "signature": {**pack["signature"], "algorithm": "RSA"}}, SIGNER.public_key
        )
        == "the signature's algorithm is 'RSA', not Ed25519"
    )
    assert signature_problem(pack, other.public_key) == (
        f"the pack was signed with key {SIGNER.key_id}, but the key given is {other.key_id}"
    )
    assert SIGNER.key_id == "ed25519:" + hashlib.sha256(SIGNER.public_key).hexdigest()[:16]
