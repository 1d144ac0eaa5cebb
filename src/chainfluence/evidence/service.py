"""The evidence pack of one deal, built from what we recorded and signed with the platform's key.

Everything a party or an arbiter needs to check the deal without us: its terms; the escrow's
contract version, code and StateInit (so the address can be recomputed from the terms); every
timeline entry; each creative version with its content; each check of the live post (when, which
messages, the fingerprint expected and seen, the result); the post's view readings; and the
escrow's chain transactions (hash, lt, amounts, from and to). Money is nanotons as decimal
strings, Telegram ids are strings, times ISO 8601 UTC; the form is `signing.canonical_bytes`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from typing import Any, Final

from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.config import Settings
from chainfluence.deals import creatives, timeline
from chainfluence.evidence.signing import KEY_PATH, Signer
from chainfluence.kit.time import utcnow
from chainfluence.models import (
    ChainTransaction,
    Deal,
    DealEvent,
    Notification,
    NotificationType,
    PostViewSnapshot,
    RelatedType,
)
from chainfluence.models.deals import FINAL_DEAL_STATUSES
from chainfluence.ton.escrow import escrow_version_of_state_init, parse_escrow_initial_data
from chainfluence.ton.transactions import raw_address

FORMAT: Final = "chainfluence.evidence/1"
# Timeline entries that are checks of the live post, and how each ended.
PROBE_RESULTS: Final = {
    "post_check_passed": "passed",
    "violation": "failed",
    "edit_detected": "edited",  # the advertiser then accepts the edit or is refunded
    "post_check_unavailable": "unavailable",
}


def evidence_file_name(deal_id: int) -> str:
    return f"chainfluence-deal-{deal_id}-evidence.json"


def pack_bytes(pack: dict[str, Any]) -> bytes:
    """The pack as a file people read: indented, keys sorted (its signature ignores the layout)."""
    return json.dumps(pack, sort_keys=True, ensure_ascii=False, indent=1).encode()


def signer(settings: Settings) -> Signer:
    return Signer(settings.evidence_seed)


def plain(value: Any) -> Any:
    """``value`` as canonical JSON allows: times as ISO text, floats as their decimal text."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _nano(value: int | None) -> str | None:
    return str(value) if value is not None else None


def _id(value: int | None) -> str | None:
    return str(value) if value is not None else None


def _deal(deal: Deal) -> dict[str, Any]:
    return {
        "id": deal.id,
        "status": deal.status.value,
        "format": deal.format.value,
        "campaignId": deal.campaign_id,
        "offerId": deal.offer_id,
        "channelId": _id(deal.channel_id),
        "advertiserId": _id(deal.advertiser_id),
        "publisherId": _id(deal.publisher_id),
        "priceNano": _nano(deal.price_nano),
        "platformFeeNano": _nano(deal.platform_fee_nano),
        "publisherPayoutNano": _nano(deal.price_nano - deal.platform_fee_nano),
        "depositedNano": _nano(deal.deposited_nano),
        "createdAt": _time(deal.created_at),
        "scheduledAt": _time(deal.scheduled_at),
        "fundedAt": _time(deal.funded_at),
        "creativeVersion": deal.creative_version,
        "contentHash": deal.content_hash,
        "postMessageIds": list(deal.post_message_ids or []),
        "postFingerprint": deal.post_fingerprint,
        "postContentFingerprint": deal.post_content_fingerprint,
        "postTextFingerprint": deal.post_text_fingerprint,
        "postedAt": _time(deal.posted_at),
        "holdUntil": _time(deal.hold_until),
        "topUntil": _time(deal.top_until),
        "depositTxHash": deal.deposit_tx_hash,
        "payoutTxHash": deal.payout_tx_hash,
        "releasedAt": _time(deal.released_at),
        "refundedAt": _time(deal.refunded_at),
        "cancelledAt": _time(deal.cancelled_at),
        "closeReason": deal.close_reason,
        "disputeReason": deal.dispute_reason,
        "disputeOutcome": plain(deal.dispute_outcome),
    }


def _escrow(deal: Deal) -> dict[str, Any] | None:
    """The contract: version, code and StateInit as stored, and the terms read back from them."""
    if deal.escrow_state_init is None or deal.escrow_address is None:
        return None
    state_init = Cell.one_from_boc(base64.b64decode(deal.escrow_state_init))
    version, code = escrow_version_of_state_init(state_init)
    data = StateInit.deserialize(state_init.begin_parse()).data  # type: ignore[no-untyped-call]
    terms = parse_escrow_initial_data(data)
    return {
        "address": deal.escrow_address,
        "contractVersion": int(version),
        "codeHash": bytes(code.hash).hex(),
        "code": base64.b64encode(code.to_boc()).decode(),  # type: ignore[no-untyped-call]
        "stateInit": deal.escrow_state_init,
        "terms": {
            "dealId": terms.deal_id,
            "platform": raw_address(terms.platform),
            "advertiser": raw_address(terms.advertiser),
            "publisher": raw_address(terms.publisher),
            "feeRecipient": raw_address(terms.fee_recipient),
            "priceNano": str(terms.price_nano),
            "feeNano": str(terms.fee_nano),
            "refundAfter": terms.refund_after,
        },
    }


def _event(entry: DealEvent) -> dict[str, Any]:
    return {
        "id": entry.id,
        "event": entry.event,
        "actorType": entry.actor_type.value,
        "actorId": _id(entry.actor_id),
        "fromStatus": entry.from_status.value if entry.from_status else None,
        "toStatus": entry.to_status.value if entry.to_status else None,
        "details": plain(entry.details or {}),
        "txHash": entry.tx_hash,
        "createdAt": _time(entry.created_at),
    }


def _probe(entry: DealEvent) -> dict[str, Any] | None:
    result = PROBE_RESULTS.get(entry.event)
    details = entry.details or {}
    # A violation reported by Telegram's edit update (not a check) carries no check details.
    if result is None or (result == "failed" and "checked_at" not in details):
        return None
    return {
        "timelineId": entry.id,
        "checkedAt": details.get("checked_at") or _time(entry.created_at),
        "messageIds": details.get("message_ids", []),
        "expectedFingerprint": details.get("expected_fingerprint"),
        "seenFingerprint": details.get("seen_fingerprint"),
        "expectedContentFingerprint": details.get("expected_content_fingerprint"),
        "seenContentFingerprint": details.get("seen_content_fingerprint"),
        "expectedTextFingerprint": details.get("expected_text_fingerprint"),
        "seenTextFingerprint": details.get("seen_text_fingerprint"),
        "compared": details.get("compared"),
        # Checks that do not name their method were made through a forwarded copy.
        "method": details.get("method") or ("forward" if "checked_at" in details else None),
        "mtprotoReadings": details.get("mtproto_readings"),
        "final": bool(details.get("final", False)),
        "result": result,
        "reason": details.get("violation") or details.get("reason"),
    }


async def _creatives(session: AsyncSession, deal_id: int) -> list[dict[str, Any]]:
    return [
        {
            "version": creative.version,
            "status": creative.status.value,
            "authorId": _id(creative.author_id),
            "text": creative.text,
            "entities": plain(creative.entities),
            "images": list(creative.images),
            "buttons": plain(creative.buttons),
            "contentHash": creative.content_hash,
            "reviewComment": creative.review_comment,
            "reviewedBy": _id(creative.reviewed_by),
            "reviewedAt": _time(creative.reviewed_at),
            "createdAt": _time(creative.created_at),
        }
        for creative in await creatives.history(session, deal_id)
    ]


async def _view_snapshots(session: AsyncSession, deal: Deal) -> list[dict[str, Any]]:
    message_ids = list(deal.post_message_ids or [])
    if not message_ids:
        return []
    statement = (
        select(PostViewSnapshot)
        .where(
            PostViewSnapshot.channel_id == deal.channel_id,
            PostViewSnapshot.message_id.in_(message_ids),
        )
        .order_by(PostViewSnapshot.message_id, PostViewSnapshot.taken_at)
    )
    return [
        {
            "messageId": row.message_id,
            "takenAt": _time(row.taken_at),
            "ageSeconds": row.age_seconds,
            "views": row.views,
            "forwards": row.forwards,
            "reactions": row.reactions,
            "source": row.source,
        }
        for row in (await session.execute(statement)).scalars()
    ]


async def _chain_transactions(session: AsyncSession, deal_id: int) -> list[dict[str, Any]]:
    statement = (
        select(ChainTransaction)
        .where(ChainTransaction.deal_id == deal_id)
        .order_by(ChainTransaction.lt, ChainTransaction.id)
    )
    rows = []
    for tx in (await session.execute(statement)).scalars():
        details = tx.details or {}
        rows.append(
            {
                "hash": tx.hash,
                "lt": str(tx.lt),
                "account": tx.account,
                "kind": tx.kind.value,
                "amountNano": str(tx.amount_nano),
                "from": tx.source,
                "to": [
                    {"address": out.get("to"), "amountNano": _nano(out.get("amount_nano"))}
                    for out in details.get("out", [])
                ],
                "feesNano": _nano(details.get("fees_nano")),
                "exitCode": details.get("exit_code"),
                "op": details.get("op"),
                "queryId": _nano(details.get("query_id")),
                "comment": tx.comment,
                "aborted": tx.aborted,
                "utime": _time(tx.utime),
            }
        )
    return rows


async def build_pack(session: AsyncSession, deal: Deal, settings: Settings) -> dict[str, Any]:
    """The deal's evidence pack, signed with the platform's evidence key."""
    entries = await timeline.events(session, deal.id)
    probes = [probe for entry in entries if (probe := _probe(entry)) is not None]
    document: dict[str, Any] = {
        "format": FORMAT,
        "issuedAt": _time(utcnow()),
        "keyUrl": settings.public_url.rstrip("/") + KEY_PATH,
        "deal": _deal(deal),
        "escrow": _escrow(deal),
        "timeline": [_event(entry) for entry in entries],
        "creatives": await _creatives(session, deal.id),
        "probes": probes,
        "viewSnapshots": await _view_snapshots(session, deal),
        "chainTransactions": await _chain_transactions(session, deal.id),
    }
    return signer(settings).sign(document)


log = logging.getLogger(__name__)

# The news of a deal's end, which carries its evidence pack.
FINISHED = frozenset({NotificationType.funds_released, NotificationType.funds_refunded})


async def push_attachment(
    session: AsyncSession, notification: Notification, settings: Settings
) -> tuple[str, bytes] | None:
    """A finished deal's evidence pack, sent to its parties with the news that it finished (the
    wiring hands it to the push job as `ports.Attachments`)."""
    if notification.type not in FINISHED or notification.related_type is not RelatedType.deal:
        return None
    deal = await session.get(Deal, notification.related_id)
    if deal is None or deal.status not in FINAL_DEAL_STATUSES:
        return None
    if notification.user_id not in (deal.advertiser_id, deal.publisher_id):
        return None
    try:
        pack = await build_pack(session, deal, settings)
    except Exception:
        # The news matters more than its attachment: it goes out without the pack (which the
        # parties can still fetch), and the failure is logged with its traceback.
        log.exception("deal %s: the evidence pack could not be built for its push", deal.id)
        return None
    return evidence_file_name(deal.id), pack_bytes(pack)
