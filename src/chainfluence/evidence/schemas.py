"""OpenAPI shapes of the evidence pack and of the published keys (the routes send JSON as built)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from chainfluence.kit.schemas import Schema


class EscrowTermsEvidence(Schema):
    deal_id: int
    platform: str = Field(description="Raw address of the arbiter (release, refund, split).")
    advertiser: str = Field(description="Raw address: refunds and any excess.")
    publisher: str = Field(description="Raw address: the payout.")
    fee_recipient: str
    price_nano: str
    fee_nano: str
    refund_after: int = Field(description="Unix time from which anyone may refund.")


class EscrowEvidence(Schema):
    address: str = Field(description="Raw address: 0:<hash of the StateInit>.")
    contract_version: int
    code_hash: str
    code: str = Field(description="Base64 BOC of the contract code.")
    state_init: str = Field(description="Base64 BOC of StateInit(code, initial data).")
    terms: EscrowTermsEvidence


class ProbeEvidence(Schema):
    timeline_id: int
    checked_at: str
    message_ids: list[int]
    expected_fingerprint: str | None
    seen_fingerprint: str | None
    expected_content_fingerprint: str | None
    seen_content_fingerprint: str | None
    expected_text_fingerprint: str | None = Field(
        default=None, description="Text and entities alone (what the MTProto probe compares)."
    )
    seen_text_fingerprint: str | None = None
    compared: str | None = Field(
        description="full (text, media and keyboard), content (the copy had no keyboard) or text "
        "(text and entities: the MTProto probe)"
    )
    method: str | None = Field(
        default=None,
        description="mtproto (channels.getMessages through the bot's session) or forward (a "
        "copy forwarded into the service chat); null for an unavailable check",
    )
    mtproto_readings: list[dict[str, Any]] | None = Field(
        default=None,
        description="MTProto's reading of each message: edit date, views, forwards, reactions, "
        "or empty (deleted)",
    )
    final: bool
    result: str = Field(
        description="passed, failed, edited (the advertiser then accepts the edit or is refunded) "
        "or unavailable"
    )
    reason: str | None


class SignatureEvidence(Schema):
    algorithm: str = Field(description="Ed25519")
    key_id: str = Field(description="Names the key at /.well-known/chainfluence-evidence-key.")
    value: str = Field(description="Base64 signature of the pack's canonical form without it.")


class EvidencePack(Schema):
    """One deal's signed record. Canonical form: UTF-8 JSON, keys sorted, no whitespace, no
    floats; the signature covers the pack without its `signature` member."""

    format: str = Field(description="chainfluence.evidence/1")
    issued_at: str
    key_url: str = Field(description="Where the platform publishes its evidence keys.")
    deal: dict[str, Any] = Field(description="The deal's terms and milestones.")
    escrow: EscrowEvidence | None = Field(description="Null until the payment terms are fixed.")
    timeline: list[dict[str, Any]]
    creatives: list[dict[str, Any]] = Field(description="Every version with its content hash.")
    probes: list[ProbeEvidence] = Field(description="Each check of the live post.")
    view_snapshots: list[dict[str, Any]]
    chain_transactions: list[dict[str, Any]] = Field(
        description="The escrow's transactions: hash, lt, amounts (nanotons), from and to."
    )
    signature: SignatureEvidence


class PublishedKey(Schema):
    key_id: str
    public_key: str = Field(description="32 bytes, hex.")
    current: bool = Field(description="Signs new packs; the others signed packs before a rotation.")


class EvidenceKeys(Schema):
    algorithm: str
    keys: list[PublishedKey]
