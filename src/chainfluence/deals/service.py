"""Deal service: creating a deal from an accepted offer, and fixing the escrow it is paid into.

The state machine (`state_machine.py`) moves deals afterwards; this module brings a deal into the
world, in status `pending`, in the same transaction that accepts the offer, and stores the escrow
the escrow domain fixed for it (`fix_escrow`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.config import DealSettings
from chainfluence.deals import edits, repository, schedule, schemas, timeline
from chainfluence.deals.notices import edit_notice
from chainfluence.formats import AdFormat, format_spec
from chainfluence.kit.schemas import iso_utc
from chainfluence.kit.time import utcnow
from chainfluence.kit.ton_address import friendly_or_none
from chainfluence.models import (
    ActorType,
    Campaign,
    Creative,
    CreativeStatus,
    Deal,
    DealEvent,
    DealStatus,
    Offer,
)

BPS = 10_000
ESCROW_FIXED_EVENT = "escrow_terms_fixed"


@dataclass(frozen=True, slots=True)
class FixedEscrow:
    """The escrow a deal is paid into, as the escrow domain fixed it (addresses raw)."""

    address: str
    platform: str
    state_init_b64: str  # the exact StateInit bytes the address is the hash of
    advertiser_wallet: str
    publisher_wallet: str
    fee_recipient: str
    refund_after: dt.datetime


async def fix_escrow(
    session: AsyncSession,
    deal: Deal,
    escrow: FixedEscrow,
    *,
    actor_id: int,
    details: dict[str, Any],
) -> None:
    """Store the deal's escrow (once: the caller holds the row lock and found none) and put the
    terms on the timeline, with `details` the escrow domain adds (price, contract version...)."""
    deal.escrow_address = escrow.address
    deal.escrow_platform = escrow.platform
    deal.escrow_state_init = escrow.state_init_b64
    deal.advertiser_wallet = escrow.advertiser_wallet
    deal.publisher_wallet = escrow.publisher_wallet
    deal.fee_recipient = escrow.fee_recipient
    deal.refund_after = escrow.refund_after
    await session.flush()
    await timeline.record(
        session,
        deal,
        ESCROW_FIXED_EVENT,
        actor_type=ActorType.user,
        actor_id=actor_id,
        details={
            "escrowAddress": escrow.address,
            "platform": escrow.platform,
            "advertiserWallet": escrow.advertiser_wallet,
            "publisherWallet": escrow.publisher_wallet,
            "feeRecipient": escrow.fee_recipient,
            **details,
        },
    )


def platform_fee(price_nano: int, fee_bps: int) -> int:
    """The platform's cut of a price, rounded down to the nanoton.

    Integer arithmetic only; the fee never exceeds the exact percentage, and the remainder of
    the division (under a nanoton per basis point) stays with the publisher.
    """
    if price_nano < 0 or not 0 <= fee_bps <= BPS:
        raise ValueError("price must be non-negative and the fee between 0 and 10000 bps")
    return price_nano * fee_bps // BPS


def creative_content_hash(
    *, text: str, entities: list[Any], images: list[str], buttons: list[Any]
) -> str:
    """ "0x" + SHA-256 of the creative's canonical JSON: the same content always hashes the same."""
    canonical = json.dumps(
        {"text": text, "entities": entities, "images": images, "buttons": buttons},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "0x" + hashlib.sha256(canonical.encode()).hexdigest()


async def create_from_offer(
    session: AsyncSession,
    offer: Offer,
    *,
    campaign: Campaign | None,
    actor_id: int,
    fee_bps: int,
    settings: DealSettings,
) -> Deal:
    """The deal an accepted offer makes: its terms, the campaign's creative as draft 1, and a
    `deal_created` timeline entry. The caller holds the offer's row lock and marks it accepted.
    """
    now = utcnow()
    deadline = schedule.deposit_deadline(now, offer.proposed_at, settings)
    # Known from the start, so the escrow's refund_after can leave room for the whole deal.
    creative_deadline = schedule.creative_deadline(now, offer.proposed_at, settings)
    deal = Deal(
        offer_id=offer.id,
        campaign_id=offer.campaign_id,
        channel_id=offer.channel_id,
        publisher_id=offer.publisher_id,
        advertiser_id=offer.advertiser_id,
        format=offer.format,
        status=DealStatus.pending,
        price_nano=offer.amount_nano,
        platform_fee_nano=platform_fee(offer.amount_nano, fee_bps),
        deposited_nano=0,
        scheduled_at=offer.proposed_at,
        deposit_deadline_at=deadline,
        creative_deadline_at=creative_deadline,
        posting_deadline_at=schedule.posting_deadline(creative_deadline, settings),
        next_check_at=deadline,
    )
    session.add(deal)
    await session.flush()
    creative = await _first_draft(session, deal, campaign)
    await timeline.record(
        session,
        deal,
        "deal_created",
        actor_type=ActorType.user,
        actor_id=actor_id,
        to_status=DealStatus.pending,
        details={
            "offer_id": offer.id,
            "offer_version": offer.version,
            "direction": offer.direction.value,
            "campaign_id": offer.campaign_id,
            "price_nano": str(deal.price_nano),
            "platform_fee_nano": str(deal.platform_fee_nano),
            "fee_bps": fee_bps,
            "deposit_deadline_at": deadline.isoformat(),
            "creative_version": creative.version if creative else None,
        },
    )
    return deal


async def _first_draft(
    session: AsyncSession, deal: Deal, campaign: Campaign | None
) -> Creative | None:
    """The campaign's creative, when it has one, becomes the deal's first draft."""
    if campaign is None or not (campaign.creative_text or campaign.creative_images):
        return None
    text = campaign.creative_text or ""
    images = list(campaign.creative_images)
    creative = Creative(
        deal_id=deal.id,
        version=1,
        author_id=campaign.advertiser_id,
        text=text,
        entities=[],
        images=images,
        buttons=[],
        status=CreativeStatus.submitted,
        content_hash=creative_content_hash(text=text, entities=[], images=images, buttons=[]),
    )
    session.add(creative)
    await session.flush()
    return creative


async def render(
    session: AsyncSession, deals: Sequence[Deal], *, testnet: bool
) -> list[schemas.Deal]:
    """Deals as the API shows them, with creatives and timelines loaded for the whole page.

    `testnet`: the network's flag for the user-friendly address forms."""
    ids = [deal.id for deal in deals]
    creatives: dict[int, list[Creative]] = {}
    for creative in await repository.creatives_of(session, ids):
        creatives.setdefault(creative.deal_id, []).append(creative)
    events: dict[int, list[DealEvent]] = {}
    for event in await timeline.events_of(session, ids):
        events.setdefault(event.deal_id, []).append(event)
    return [
        _to_schema(deal, creatives.get(deal.id, []), events.get(deal.id, []), testnet=testnet)
        for deal in deals
    ]


def _to_schema(
    deal: Deal, creatives: list[Creative], events: list[DealEvent], *, testnet: bool
) -> schemas.Deal:
    # The approved version once there is one, else the latest draft.
    shown = next((c for c in creatives if c.version == deal.creative_version), None)
    if shown is None and creatives:
        shown = creatives[-1]
    return schemas.Deal(
        id=deal.id,
        deal_id=deal.id,
        campaign_id=deal.campaign_id,
        offer_id=deal.offer_id,
        channel_id=deal.channel_id,
        publisher_id=deal.publisher_id,
        advertiser_id=deal.advertiser_id,
        format=deal.format,
        status=deal.status,
        amount=deal.price_nano,
        amount_nano=deal.price_nano,
        platform_fee_nano=deal.platform_fee_nano,
        deposited_nano=deal.deposited_nano,
        missing_nano=max(0, deal.price_nano - deal.deposited_nano)
        if deal.status is DealStatus.pending
        else 0,
        escrow_address=deal.escrow_address,
        escrow_address_friendly=friendly_or_none(
            deal.escrow_address, bounceable=True, testnet=testnet
        ),
        advertiser_wallet=deal.advertiser_wallet,
        advertiser_wallet_friendly=friendly_or_none(
            deal.advertiser_wallet, bounceable=False, testnet=testnet
        ),
        publisher_wallet=deal.publisher_wallet,
        publisher_wallet_friendly=friendly_or_none(
            deal.publisher_wallet, bounceable=False, testnet=testnet
        ),
        scheduled_at=deal.scheduled_at,
        deposit_deadline_at=deal.deposit_deadline_at,
        creative_deadline_at=deal.creative_deadline_at,
        posting_deadline_at=deal.posting_deadline_at,
        hold_until=deal.hold_until,
        top_until=deal.top_until,
        refund_after=deal.refund_after,
        post_id=deal.post_message_id,
        posted_at=int(deal.posted_at.timestamp()) if deal.posted_at else None,
        # The hold actually planned once posted; the format's standard one before.
        duration=int((deal.hold_until - deal.posted_at).total_seconds())
        if deal.hold_until and deal.posted_at
        else int(format_spec(deal.format).hold.total_seconds()),
        content_hash=deal.content_hash,
        creative_version=deal.creative_version,
        creative_text=shown.text if shown else None,
        creative_images=list(shown.images) if shown else [],
        deposit_tx_hash=deal.deposit_tx_hash,
        tx_hash=deal.payout_tx_hash,
        released_at=deal.released_at,
        refunded_at=deal.refunded_at,
        cancelled_at=deal.cancelled_at,
        dispute_reason=deal.dispute_reason,
        disputed_by=deal.disputed_by,
        dispute_outcome=deal.dispute_outcome,
        close_reason=deal.close_reason,
        pending_edit=edits.pending(deal, events),
        edit_notice=_edit_notice(deal, events),
        timeline=[schemas.TimelineEvent.model_validate(event) for event in events],
        created_at=deal.created_at,
        updated_at=deal.updated_at,
    )


# The statuses whose deal shows the publisher what editing the post does (`Deal.edit_notice`).
_EDIT_NOTICE_STATUSES = frozenset({DealStatus.in_escrow, DealStatus.live, DealStatus.edit_pending})


def _edit_notice(deal: Deal, events: list[DealEvent]) -> str | None:
    if deal.status not in _EDIT_NOTICE_STATUSES:
        return None
    publish = next((e for e in reversed(events) if e.event == "publish"), None)
    return edit_notice((publish.details if publish else {}).get("edit_window_hours"))


def list_item(
    row: tuple[Any, ...], events: list[tuple[Any, ...]], *, testnet: bool
) -> dict[str, Any]:
    """A deal as `schemas.Deal` puts it on the wire (what `render` answers), from a row of
    `repository.LIST_COLUMNS` and its timeline's `timeline.ROW_COLUMNS` rows, for the deal
    list and GET /v1/deals/{id} (tested equal to `render`'s for deals in every status). Its
    times stay aware UTC datetimes, which `kit.pagination.json_page` writes as the model does;
    strings are stripped as the response models strip theirs (`kit.schemas.Schema`)."""
    (
        id_, campaign_id, offer_id, channel_id, publisher_id, advertiser_id, format_, status,
        price_nano, platform_fee_nano, deposited_nano, escrow_address, advertiser_wallet,
        publisher_wallet, scheduled_at, deposit_deadline_at, creative_deadline_at,
        posting_deadline_at, hold_until, top_until, refund_after, post_message_id, posted_at,
        content_hash, creative_version, creative_text, creative_images, deposit_tx_hash,
        payout_tx_hash, released_at, refunded_at, cancelled_at, dispute_reason, disputed_by,
        dispute_outcome, close_reason, created_at, updated_at,
    ) = row  # fmt: skip
    if isinstance(creative_images, str):  # a scalar subquery's JSON, on SQLite
        creative_images = orjson.loads(creative_images)
    if hold_until and posted_at:
        duration = int((hold_until - posted_at).total_seconds())
    else:
        duration = int(format_spec(AdFormat(format_)).hold.total_seconds())
    pending_edit = None
    notice = None
    if status in _EDIT_NOTICE_STATUSES:
        if status == DealStatus.edit_pending:
            detected = next((e for e in reversed(events) if e[2] == edits.DETECTED), None)
            if detected is not None:
                pending_edit = _pending_edit_item(edits.pending_from(detected[7]))
        publish = next((e for e in reversed(events) if e[2] == "publish"), None)
        notice = edit_notice((publish[7] if publish else {}).get("edit_window_hours")).strip()
    amount = str(price_nano)
    return {
        "id": id_,
        "dealId": id_,
        "campaignId": campaign_id,
        "offerId": offer_id,
        "channelId": str(channel_id),
        "publisherId": str(publisher_id),
        "advertiserId": str(advertiser_id),
        "format": format_,
        "status": status,
        "amount": amount,
        "amountNano": amount,
        "platformFeeNano": str(platform_fee_nano),
        "depositedNano": str(deposited_nano),
        "missingNano": str(max(0, price_nano - deposited_nano))
        if status == DealStatus.pending
        else "0",
        "escrowAddress": _stripped(escrow_address),
        "escrowAddressFriendly": friendly_or_none(escrow_address, bounceable=True, testnet=testnet),
        "advertiserWallet": _stripped(advertiser_wallet),
        "advertiserWalletFriendly": friendly_or_none(
            advertiser_wallet, bounceable=False, testnet=testnet
        ),
        "publisherWallet": _stripped(publisher_wallet),
        "publisherWalletFriendly": friendly_or_none(
            publisher_wallet, bounceable=False, testnet=testnet
        ),
        "scheduledAt": scheduled_at,
        "depositDeadlineAt": deposit_deadline_at,
        "creativeDeadlineAt": creative_deadline_at,
        "postingDeadlineAt": posting_deadline_at,
        "holdUntil": hold_until,
        "topUntil": top_until,
        "refundAfter": refund_after,
        "postId": post_message_id,
        "postedAt": int(posted_at.timestamp()) if posted_at else None,
        "duration": duration,
        "contentHash": _stripped(content_hash),
        "creativeVersion": creative_version,
        "creativeText": _stripped(creative_text),
        "creativeImages": [image.strip() for image in creative_images or ()],
        "depositTxHash": _stripped(deposit_tx_hash),
        "txHash": _stripped(payout_tx_hash),
        "releasedAt": released_at,
        "refundedAt": refunded_at,
        "cancelledAt": cancelled_at,
        "disputeReason": _stripped(dispute_reason),
        "disputedBy": None if disputed_by is None else str(disputed_by),
        "disputeOutcome": dispute_outcome,
        "closeReason": _stripped(close_reason),
        "pendingEdit": pending_edit,
        "editNotice": notice,
        "timeline": [_timeline_item(event) for event in events],
        "createdAt": created_at,
        "updatedAt": updated_at,
    }


def _stripped(text: str | None) -> str | None:
    return None if text is None else text.strip()


def _pending_edit_item(edit: dict[str, Any]) -> dict[str, Any]:
    """`schemas.PendingEdit` on the wire: its times in any offset, written in UTC as the model
    writes them."""
    return {
        "detectedAt": iso_utc(edit["detected_at"]),
        "respondBy": iso_utc(edit["respond_by"]),
        "oldText": edit["old_text"].strip(),
        "newText": edit["new_text"].strip(),
        "oldHash": _stripped(edit["old_hash"]),
        "newHash": _stripped(edit["new_hash"]),
    }


def _timeline_item(row: tuple[Any, ...]) -> dict[str, Any]:
    """`schemas.TimelineEvent` on the wire, from a `timeline.ROW_COLUMNS` row."""
    _deal_id, id_, event, actor_type, actor_id, from_status, to_status, details, tx_hash, at = row
    return {
        "id": id_,
        "event": event.strip(),
        "actorType": actor_type,
        "actorId": None if actor_id is None else str(actor_id),
        "fromStatus": from_status,
        "toStatus": to_status,
        "details": details,
        "txHash": _stripped(tx_hash),
        "createdAt": at,
    }
