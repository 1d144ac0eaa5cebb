"""Deal shapes on the wire (API.md `Deal`): amounts as nanoton strings, ids by the id rules."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from chainfluence.formats import AdFormat
from chainfluence.kit.money import NanoString
from chainfluence.kit.schemas import RequestSchema, Schema, TgId, UtcDateTime
from chainfluence.models import ActorType, DealStatus


class TimelineEvent(Schema):
    id: int
    event: str
    actor_type: ActorType
    actor_id: TgId | None
    from_status: DealStatus | None
    to_status: DealStatus | None
    details: dict[str, Any]
    tx_hash: str | None
    created_at: UtcDateTime


class PendingEdit(Schema):
    """An edit of the live post waiting for the advertiser's decision."""

    detected_at: UtcDateTime
    respond_by: UtcDateTime = Field(description="Accept before this, or the advertiser is refunded")
    old_text: str
    new_text: str
    old_hash: str | None = Field(description='"0x" + 64 hex: the post as it should be')
    new_hash: str | None = Field(description='"0x" + 64 hex: the post as a check saw it')


class Deal(Schema):
    id: int
    deal_id: int = Field(description="Same as id (the Mini App reads dealId)")
    campaign_id: int | None
    offer_id: int | None
    channel_id: TgId
    publisher_id: TgId
    advertiser_id: TgId
    format: AdFormat
    status: DealStatus
    amount: NanoString = Field(description="The agreed price, nanotons")
    amount_nano: NanoString
    platform_fee_nano: NanoString
    deposited_nano: NanoString
    missing_nano: NanoString = Field(
        description="What the escrow still needs before the deal starts (0 once funded)"
    )
    escrow_address: str | None = Field(description="The escrow contract, raw (`0:<hex>`)")
    escrow_address_friendly: str | None = Field(
        description="The escrow, user-friendly bounceable (`EQ…`; `kQ…` on testnet)"
    )
    advertiser_wallet: str | None = Field(description="Raw (`0:<hex>`)")
    advertiser_wallet_friendly: str | None = Field(
        description="User-friendly non-bounceable (`UQ…`; `0Q…` on testnet)"
    )
    publisher_wallet: str | None = Field(description="Raw (`0:<hex>`)")
    publisher_wallet_friendly: str | None = Field(
        description="User-friendly non-bounceable (`UQ…`; `0Q…` on testnet)"
    )
    scheduled_at: UtcDateTime | None
    deposit_deadline_at: UtcDateTime | None
    creative_deadline_at: UtcDateTime | None
    posting_deadline_at: UtcDateTime | None
    hold_until: UtcDateTime | None
    top_until: UtcDateTime | None
    refund_after: UtcDateTime | None
    post_id: int | None = Field(description="Telegram message id of the published post")
    posted_at: int | None = Field(description="Unix seconds")
    duration: int = Field(description="Seconds the post must stay up (the format's hold)")
    content_hash: str | None = Field(description='"0x" + 64 hex of the approved creative')
    creative_version: int | None
    creative_text: str | None
    creative_images: list[str]
    deposit_tx_hash: str | None
    tx_hash: str | None = Field(description="The payout or refund transaction")
    released_at: UtcDateTime | None
    refunded_at: UtcDateTime | None
    cancelled_at: UtcDateTime | None
    dispute_reason: str | None
    disputed_by: TgId | None
    dispute_outcome: dict[str, Any] | None
    close_reason: str | None = Field(description="Why the deal was cancelled or refunded")
    pending_edit: PendingEdit | None = Field(
        description="While edit_pending: the old and new post; POST .../edit/accept keeps the deal"
    )
    edit_notice: str | None = Field(
        description="Until the hold ends: what editing or deleting the post does to the deal"
    )
    timeline: list[TimelineEvent]
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ReasonBody(RequestSchema):
    reason: str | None = Field(default=None, max_length=2000)


class DisputeBody(RequestSchema):
    reason: str = Field(min_length=3, max_length=2000)


class PostResult(Schema):
    success: bool
    message_id: int | None
    channel_username: str | None
    deal: Deal


class ViewsReading(Schema):
    """The ad post's views at one mark: the reading in the mark's window, or why there is none."""

    mark: str = Field(description='"1h", "24h" or "endOfHold"')
    due_at: UtcDateTime | None = Field(description="When the mark's window opens")
    views: int | None = Field(description="Null when no reading was taken in the window")
    forwards: int | None = Field(description="Null when the source does not report forwards")
    reactions: int | None = Field(description="Null when the source does not report reactions")
    source: str | None = Field(description='The views provider that read it ("mtproto", …)')
    taken_at: UtcDateTime | None
    age_seconds: int | None = Field(description="The post's age at the reading")
    missing: str | None = Field(description="Why there is no reading (null when there is one)")


class ProbeCheck(Schema):
    """One check of the live post during its hold."""

    checked_at: UtcDateTime
    result: str = Field(description='"passed", "failed", "edited" or "unavailable"')
    method: str = Field(description='How the post was read ("forward": a forwarded copy)')
    final: bool = Field(description="The check at the end of the hold")
    reason: str | None


class DealReport(Schema):
    """What the advertiser bought: the ad post's views, the effective CPM and the checks."""

    deal_id: int
    campaign_id: int | None
    channel_id: TgId
    channel_username: str | None
    format: AdFormat
    status: DealStatus
    price_nano: NanoString = Field(description="The agreed price")
    spent_nano: NanoString | None = Field(
        description="What the advertiser paid in the end: the price when released, the "
        "publisher's share when split, 0 when refunded or cancelled; null while not settled"
    )
    message_id: int | None = Field(description="The ad post (an album's first message)")
    posted_at: UtcDateTime | None
    hold_until: UtcDateTime | None
    views_1h: ViewsReading = Field(alias="views1h")
    views_24h: ViewsReading = Field(alias="views24h")
    views_end_of_hold: ViewsReading
    latest: ViewsReading | None = Field(description="The newest reading of the post, any age")
    forwards: int | None = Field(description="From the newest reading")
    reactions: int | None = Field(description="From the newest reading")
    verified_views: int | None = Field(
        description="The views the CPM is computed on: the end-of-hold reading (the post was "
        "checked up through the hold)"
    )
    effective_cpm_nano: NanoString | None = Field(
        description="spentNano (or the price while not settled) × 1000 ÷ verifiedViews, rounded "
        "down; null when either is missing or zero"
    )
    cpm_missing: str | None = Field(description="Why effectiveCpmNano is null")
    probes: list[ProbeCheck]
    generated_at: UtcDateTime
