"""Offline checks of an evidence pack: its signature, its escrow address, its creative hashes.

Nothing here asks us or the chain: the escrow's address is recomputed from the terms in the pack
and the contract code (which must be one of the versions this package ships, with the hash the pack
states), and each creative's content hash from its content. `check` lists every mismatch.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import httpx
from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit

from chainfluence.config import decode_key_bytes
from chainfluence.deals.service import creative_content_hash
from chainfluence.evidence.service import FORMAT
from chainfluence.evidence.signing import signature_problem
from chainfluence.ton.escrow import (
    EscrowTerms,
    EscrowVersion,
    escrow_code,
    escrow_initial_data,
)
from chainfluence.ton.transactions import raw_address


@dataclass
class Report:
    """What was checked (`notes`) and what does not match (`problems`)."""

    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _cell(text: Any, what: str) -> Cell:
    try:
        return Cell.one_from_boc(base64.b64decode(str(text), validate=True))
    except Exception as exc:  # untrusted bytes: the parser's errors are not all ValueErrors
        raise ValueError(f"{what} is not a base64 BOC ({type(exc).__name__}: {exc})") from None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _terms(terms: dict[str, Any]) -> EscrowTerms:
    return EscrowTerms(
        deal_id=int(terms["dealId"]),
        platform=Address(terms["platform"]),
        advertiser=Address(terms["advertiser"]),
        publisher=Address(terms["publisher"]),
        fee_recipient=Address(terms["feeRecipient"]),
        price_nano=int(terms["priceNano"]),
        fee_nano=int(terms["feeNano"]),
        refund_after=int(terms["refundAfter"]),
    )


def _check_escrow(pack: dict[str, Any], report: Report) -> None:
    escrow = pack.get("escrow")
    deal = _object(pack.get("deal"))
    if escrow is None:
        report.notes.append("escrow: none (no payment was ever requested for this deal)")
        return
    try:
        escrow = dict(escrow)
        code = _cell(escrow["code"], "escrow.code")
        terms = _terms(escrow["terms"])
    except Exception as exc:  # untrusted input: addresses raise AddressError, not ValueError
        report.problems.append(f"escrow: the terms or code cannot be read: {exc!r}")
        return
    code_hash = bytes(code.hash).hex()
    if code_hash != escrow.get("codeHash"):
        report.problems.append(
            f"escrow: the code hashes to {code_hash}, the pack states {escrow.get('codeHash')}"
        )
    known = {bytes(escrow_code(v).hash).hex(): v for v in EscrowVersion}
    version = known.get(code_hash)
    if version is None:
        report.problems.append(f"escrow: code {code_hash} is not a Chainfluence escrow contract")
    elif int(version) != escrow.get("contractVersion"):
        report.problems.append(
            f"escrow: the code is contract version {int(version)}, the pack states "
            f"{escrow.get('contractVersion')}"
        )
    state_init = StateInit(code=code, data=escrow_initial_data(terms)).serialize()
    address = raw_address(Address((0, state_init.hash)))
    if address != escrow.get("address"):
        report.problems.append(
            f"escrow: the terms and code give address {address}, the pack states "
            f"{escrow.get('address')}"
        )
    try:
        stored = _cell(escrow["stateInit"], "escrow.stateInit")
        if stored.hash != state_init.hash:
            report.problems.append("escrow: the stateInit is not the one the terms and code give")
    except (KeyError, ValueError) as exc:
        report.problems.append(f"escrow: {exc}")
    for name, ours, theirs in (
        ("deal id", str(terms.deal_id), str(deal.get("id"))),
        ("price", str(terms.price_nano), deal.get("priceNano")),
        ("platform fee", str(terms.fee_nano), deal.get("platformFeeNano")),
    ):
        if ours != theirs:
            report.problems.append(
                f"deal: the {name} is {theirs} but the escrow's terms say {ours} (nanotons for "
                "amounts)"
            )
    if not any(p.startswith("escrow") for p in report.problems):
        report.notes.append(
            f"escrow: address {address} recomputed from the terms and contract version "
            f"{int(version) if version else '?'} (code {code_hash[:16]}…); price "
            f"{terms.price_nano}, fee {terms.fee_nano} nanotons"
        )


def _check_creatives(pack: dict[str, Any], report: Report) -> None:
    versions = [_object(c) for c in pack.get("creatives") or []]
    wrong = 0
    for creative in versions:
        try:
            recomputed = creative_content_hash(
                text=creative["text"],
                entities=creative["entities"],
                images=creative["images"],
                buttons=creative["buttons"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            report.problems.append(f"creative: a version cannot be read ({exc!r})")
            wrong += 1
            continue
        if recomputed != creative.get("contentHash"):
            wrong += 1
            report.problems.append(
                f"creative v{creative.get('version')}: its content hashes to {recomputed}, "
                f"the pack states {creative.get('contentHash')}"
            )
    deal = _object(pack.get("deal"))
    approved = deal.get("creativeVersion")
    if approved is not None:
        match = [c for c in versions if c.get("version") == approved]
        if not match or match[0].get("contentHash") != deal.get("contentHash"):
            wrong += 1
            report.problems.append(
                f"deal: the approved creative v{approved}'s hash is {deal.get('contentHash')}, "
                "which no creative version of the pack has"
            )
    if not wrong:
        report.notes.append(f"creatives: {len(versions)} version(s), every content hash matches")


def check(pack: Any, public_key: bytes) -> Report:
    """Every check of ``pack`` (parsed JSON) under the platform's ``public_key``."""
    report = Report()
    if not isinstance(pack, dict):
        report.problems.append("the file is not a JSON object")
        return report
    if pack.get("format") != FORMAT:
        report.problems.append(f"format is {pack.get('format')!r}, not {FORMAT!r}")
        return report
    problem = signature_problem(pack, public_key)
    if problem is None:
        report.notes.append(f"signature: valid (Ed25519, key {pack['signature']['keyId']})")
    else:
        report.problems.append(f"signature: {problem}")
    _check_escrow(pack, report)
    _check_creatives(pack, report)
    counts = {
        name: len(value) if isinstance(value := pack.get(name), list) else 0
        for name in ("timeline", "probes", "viewSnapshots", "chainTransactions")
    }
    report.notes.append(
        f"contents: {counts['timeline']} timeline entries, {counts['probes']} post checks, "
        f"{counts['viewSnapshots']} view readings, {counts['chainTransactions']} chain "
        "transactions"
    )
    return report


class KeyUnavailable(Exception):
    """The public key to check against could not be had (bad value, URL not answering, ...)."""


def public_key_from(text: str) -> bytes:
    try:
        return decode_key_bytes(text)
    except ValueError as exc:
        raise KeyUnavailable(f"--key: {exc}") from None


def fetch_public_key(url: str, key_id: str) -> bytes:
    """The key named ``key_id`` among those published at ``url`` (KEY_PATH's document)."""
    try:
        response = httpx.get(url, timeout=10, follow_redirects=True)
        response.raise_for_status()
        keys = response.json()["keys"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise KeyUnavailable(f"cannot read the published keys at {url}: {exc}") from None
    for entry in keys:
        if isinstance(entry, dict) and entry.get("keyId") == key_id:
            return public_key_from(str(entry.get("publicKey", "")))
    published = ", ".join(str(e.get("keyId")) for e in keys if isinstance(e, dict)) or "none"
    raise KeyUnavailable(f"key {key_id} is not published at {url} (published: {published})")
