"""Verification of a live post through its hold: random probes, then a final check.

Telegram tells a bot nothing when its own post is edited or deleted, so each check looks at the
post and compares it with the fingerprints taken at publishing (`telegram.posting`), in one of two
ways, named as `method` in the check's evidence:

* **mtproto** (when the bot's MTProto session is configured: a views provider that is a
  `PostReader`): `channels.getMessages` answers for up to 100 posts in one call, so a check takes
  along every live ad of the same channel that is due, or whose next random probe (not the
  final check) falls within `deals.probe_batch_ahead_seconds`; when several are due at once, the
  check of the lowest deal id reads them all and the others wait for it (it judges its own last,
  so none of them finds the batch due again and reads it twice). A `messageEmpty` is a
  deleted post. An edit needs both signs: an edit date (the bot never edits its own post; after
  an accepted edit, a date after that edit was seen) and a text fingerprint (text and entities,
  `posting.text_fingerprint`) other than the approved one. Neither sign: the check passes. One
  without the other (a replaced image or keyboard keeps the text; an entity MTProto spells
  differently changes the hash) is settled by the forward probe. Each reading's views, forwards
  and reactions go into the post's view series (`post_view_snapshots`, source "mtproto").
* **forward** (the fallback: no MTProto session, a deal published before text fingerprints, or
  MTProto gave no answer): the post is forwarded into the service chat and the copy deleted.

Anything that is not an answer — a FLOOD_WAIT, an RPC or network error — says nothing about the
post: the forward probe is tried, and when it cannot run either the check is retried later
(`post_check_unavailable`). The formats with top hours (1/24, 2/48, 3/72) also require that no
newer post appeared in the channel during them (`channel_posts`, observed by the bot). Every check
is a timeline entry with its evidence; a deleted post or a newer one in the top hours refunds the
advertiser, an edited one waits for the advertiser's decision (`edits`), and the final check
passing verifies the deal for release.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.channels import repository as channels
from chainfluence.deals import edits, repository, schedule, timeline
from chainfluence.deals.lifecycle import DEAL_POLICY
from chainfluence.deals.state_machine import SYSTEM, Action, transition
from chainfluence.kit.time import utcnow
from chainfluence.models import Deal, DealStatus
from chainfluence.ports import (
    Configured,
    Messenger,
    PostReader,
    PostReading,
    PostReadings,
    ReadUnavailable,
    Sessions,
    ViewsSources,
)
from chainfluence.telegram import posting


class _Ports(Sessions, Configured, Messenger, ViewsSources, Protocol):
    """What this module needs of the process."""


log = logging.getLogger(__name__)

# At most this many live ads of a channel go into one MTProto check.
MAX_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class _Check:
    """One due check of one live deal, as read before asking Telegram."""

    deal_id: int
    channel_id: int
    published: posting.Published
    final: bool
    # The check covers the probe moments up to this (its own, pulled forward or not).
    upto: dt.datetime
    # Edits made up to this were seen already (the edit last accepted; None: none was).
    edits_seen_until: dt.datetime | None


async def check_live_deal(runtime: _Ports, deal_id: int) -> None:
    """Run the check that is due for a live deal, if one is (with the channel's other due live
    ads, when the check goes through MTProto)."""
    now = utcnow()
    reader = post_reader(runtime)
    async with runtime.session(write=False) as session:
        deal = await repository.get(session, deal_id)
        if deal is None or deal.status is not DealStatus.live:
            return
        check = await _due_check(session, deal, now, ahead=dt.timedelta(0))
        if check is None:
            return
        batch = [check]
        if reader is not None and check.published.text_fingerprint:
            ahead = dt.timedelta(seconds=runtime.settings.deals.probe_batch_ahead_seconds)
            for other in await _channel_live_deals(session, deal, now + ahead):
                due = await _due_check(session, other, now, ahead=ahead)
                if due is not None:
                    batch.append(due)
    if reader is None or not check.published.text_fingerprint:
        await _forward_check(runtime, check)
        return
    leader = min(c.deal_id for c in batch if c.upto <= now)
    if leader != deal_id:
        # Several of the channel's ads are due at once: the lowest id's check reads them all.
        log.debug("deal %s: checked with deal %s", deal_id, leader)
        return
    try:
        readings = await reader.read_posts(
            channel_id=check.channel_id,
            message_ids=sorted({i for c in batch for i in c.published.message_ids}),
        )
    except ReadUnavailable as exc:
        log.info("deal %s: MTProto probe unavailable (%s), forwarding", deal_id, exc)
        await _forward_check(runtime, check, mtproto={"unavailable": str(exc)})
        return
    # The leader's own check is judged last: until it is, the leader's check is still due, so a
    # check of another ad in the batch that looks meanwhile leaves the reading to the leader (its
    # own check due, or already judged) instead of reading the channel again.
    for each in [*batch[1:], check]:
        probe, settled = _mtproto_probe(each, readings)
        if settled:
            await _judge(runtime, each, probe, readings)
        else:
            await _forward_check(
                runtime,
                each,
                readings=readings,
                mtproto={"inconclusive": _inconclusive_reason(each, probe)},
            )


def takes_along(
    due: dt.datetime, hold_until: dt.datetime, now: dt.datetime, ahead: dt.timedelta
) -> bool:
    """Whether a check now covers a deal whose next check is `due`: it is due, or it is a random
    probe (never the final check at `hold_until`) due within `ahead`."""
    return due <= now or (due < hold_until and due <= now + ahead)


def post_reader(runtime: ViewsSources) -> PostReader | None:
    """The views provider that can read given posts (the bot's MTProto session), if any."""
    return next((p for p in runtime.stats_providers if isinstance(p, PostReader)), None)


async def _due_check(
    session: AsyncSession, deal: Deal, now: dt.datetime, *, ahead: dt.timedelta
) -> _Check | None:
    """The deal's check if it is due now, or (with `ahead`) a random probe due that soon."""
    if deal.status is not DealStatus.live or deal.hold_until is None:
        return None
    due = schedule.next_probe(deal.probe_schedule) or deal.hold_until
    if not takes_along(due, deal.hold_until, now, ahead):
        return None
    posted_at = deal.posted_at or now
    # The bot never edits its own post: any edit date is an edit, unless one was accepted.
    seen_until: dt.datetime | None = None
    accepted = await timeline.last(session, deal.id, edits.ACCEPTED)
    if accepted is not None:
        detected_at = accepted.details.get("detected_at")
        seen_until = dt.datetime.fromisoformat(detected_at) if detected_at else accepted.created_at
    return _Check(
        deal_id=deal.id,
        channel_id=deal.channel_id,
        published=posting.Published(
            chat_id=deal.channel_id,
            message_ids=list(deal.post_message_ids or [deal.post_message_id or 0]),
            date=posted_at,
            fingerprint=deal.post_fingerprint,
            content_fingerprint=deal.post_content_fingerprint,
            text_fingerprint=deal.post_text_fingerprint,
        ),
        final=now >= deal.hold_until,
        upto=max(now, due),
        edits_seen_until=seen_until,
    )


async def _channel_live_deals(
    session: AsyncSession, deal: Deal, until: dt.datetime
) -> Sequence[Deal]:
    statement = (
        select(Deal)
        .where(
            Deal.channel_id == deal.channel_id,
            Deal.status == DealStatus.live,
            Deal.id != deal.id,
            Deal.post_text_fingerprint.is_not(None),
            Deal.next_check_at <= until,
        )
        .order_by(Deal.next_check_at)
        .limit(MAX_BATCH)
    )
    return (await session.execute(statement)).scalars().all()


def _mtproto_probe(check: _Check, readings: PostReadings) -> tuple[posting.Probe, bool]:
    """The post as MTProto shows it, and whether that settles the check."""
    ids = check.published.message_ids
    shown = [readings.messages.get(i) for i in ids]
    if any(reading is None for reading in shown):
        return posting.Probe(deleted=True, message_ids=list(ids), method="mtproto"), True
    present = [r for r in shown if r is not None]
    edit_dates = [r.edited_at for r in present if r.edited_at is not None]
    probe = posting.Probe(
        deleted=False,
        message_ids=list(ids),
        text="\n\n".join(r.text for r in present if r.text),
        text_fingerprint=posting.text_fingerprint_of([(r.text, r.entities) for r in present]),
        method="mtproto",
        edited_at=max(edit_dates) if edit_dates else None,
    )
    seen_until = check.edits_seen_until
    edited = probe.edited_at is not None and (seen_until is None or probe.edited_at > seen_until)
    return probe, edited != probe.matches(check.published)


def _inconclusive_reason(check: _Check, probe: posting.Probe) -> str:
    if probe.matches(check.published):
        return "edited after it was seen, with the same text: the image or buttons may differ"
    return "the text differs without a newer edit date"


async def _forward_check(
    runtime: _Ports,
    check: _Check,
    *,
    readings: PostReadings | None = None,
    mtproto: dict[str, Any] | None = None,
) -> None:
    if runtime.bot is None:
        reason = "no bot: the post cannot be forwarded for a check"
        if mtproto and "unavailable" in mtproto:
            reason = f"{reason}; MTProto: {mtproto['unavailable']}"
        log.warning("deal %s: %s", check.deal_id, reason)
        await _unavailable(runtime, check.deal_id, reason, final=check.final)
        return
    try:
        probe = await posting.probe_post(
            runtime.bot,
            runtime.settings.telegram.service_chat_id,
            check.channel_id,
            check.published.message_ids,
        )
    except posting.ProbeUnavailable as exc:
        reason = str(exc)
        if mtproto and "unavailable" in mtproto:
            reason = f"{reason}; MTProto: {mtproto['unavailable']}"
        await _unavailable(runtime, check.deal_id, reason, final=check.final)
        return
    await _judge(runtime, check, probe, readings, mtproto=mtproto)


def _series_rows(
    channel_id: int, readings: PostReadings, ids: Sequence[int]
) -> list[dict[str, Any]]:
    rows = []
    for message_id in ids:
        reading = readings.messages.get(message_id)
        if reading is None or reading.views is None:
            continue
        rows.append(
            {
                "channel_id": channel_id,
                "message_id": message_id,
                "taken_at": readings.fetched_at,
                "age_seconds": max(
                    0, int((readings.fetched_at - reading.posted_at).total_seconds())
                ),
                "views": reading.views,
                "forwards": reading.forwards,
                "reactions": reading.reactions,
                "source": readings.source,
            }
        )
    return rows


def _reading_evidence(reading: PostReading | None, message_id: int) -> dict[str, Any]:
    if reading is None:
        return {"message_id": message_id, "empty": True}
    return {
        "message_id": message_id,
        "edited_at": reading.edited_at.isoformat() if reading.edited_at else None,
        "views": reading.views,
        "forwards": reading.forwards,
        "reactions": reading.reactions,
    }


async def _judge(
    runtime: _Ports,
    check: _Check,
    probe: posting.Probe,
    readings: PostReadings | None,
    *,
    mtproto: dict[str, Any] | None = None,
) -> None:
    now = utcnow()
    published = check.published
    async with runtime.session() as session:
        deal = await repository.get_for_update(session, check.deal_id)
        if deal is None or deal.status is not DealStatus.live:
            return
        due = schedule.next_probe(deal.probe_schedule) or deal.hold_until
        if due is None or due > check.upto:
            return  # another check covered this one meanwhile
        expected, seen = probe.hashes(published)
        evidence: dict[str, Any] = {
            "checked_at": now.isoformat(),
            "method": probe.method,
            "message_ids": published.message_ids,
            "expected_fingerprint": published.fingerprint,
            "seen_fingerprint": probe.fingerprint,
            # A forwarded copy may lack the keyboard: then the content alone is compared; MTProto
            # shows text and entities the Bot API's way, not its file ids: the text alone.
            "expected_content_fingerprint": published.content_fingerprint,
            "seen_content_fingerprint": probe.content_fingerprint,
            "expected_text_fingerprint": published.text_fingerprint,
            "seen_text_fingerprint": probe.text_fingerprint,
            "compared": probe.basis(published),
            "expected_hash": expected,
            "seen_hash": seen,
            "final": check.final,
        }
        if probe.edited_at is not None:
            evidence["edited_at"] = probe.edited_at.isoformat()
        if readings is not None:
            evidence["read_at"] = readings.fetched_at.isoformat()
            evidence["mtproto_readings"] = [
                _reading_evidence(readings.messages.get(i), i) for i in published.message_ids
            ]
            await channels.add_snapshots(
                session, _series_rows(deal.channel_id, readings, published.message_ids)
            )
        if mtproto:
            evidence["mtproto"] = mtproto
        violation: str | None = None
        if probe.deleted:
            violation = "The post was deleted before its hold ended."
        elif not probe.matches(published):
            deal.checks_unavailable = 0
            await edits.found(runtime, session, deal, probe, published, evidence)
            return
        elif deal.top_until is not None:
            window_end = min(now, deal.top_until)
            newer = await channels.newer_post_exists(
                session,
                deal.channel_id,
                after_message_id=max(published.message_ids),
                until=window_end,
            )
            evidence["top_until"] = deal.top_until.isoformat()
            if newer:
                violation = "A newer post pushed the ad down during its top hours."
        deal.checks_unavailable = 0
        if violation is not None:
            evidence["violation"] = violation
            await transition(
                session,
                DEAL_POLICY,
                deal.id,
                Action.violation,
                SYSTEM,
                details=evidence,
                reason=violation,
            )
            return
        await timeline.record(
            session,
            deal,
            "post_check_passed",
            actor_type=SYSTEM.actor_type,
            details=evidence,
        )
        upto = max(now, check.upto)
        remaining = [
            moment for moment in deal.probe_schedule if dt.datetime.fromisoformat(moment) > upto
        ]
        deal.probe_schedule = remaining
        if check.final:
            await transition(
                session, DEAL_POLICY, deal.id, Action.hold_passed, SYSTEM, details=evidence
            )
            return
        deal.next_check_at = schedule.next_probe(remaining) or deal.hold_until


async def _unavailable(runtime: _Ports, deal_id: int, reason: str, *, final: bool) -> None:
    """The check could not run: retry soon; after too many at the end, an operator decides."""
    settings = runtime.settings.deals
    async with runtime.session() as session:
        deal = await repository.get_for_update(session, deal_id)
        if deal is None or deal.status is not DealStatus.live:
            return
        deal.checks_unavailable += 1
        await timeline.record(
            session,
            deal,
            "post_check_unavailable",
            actor_type=SYSTEM.actor_type,
            details={"reason": reason, "in_a_row": deal.checks_unavailable, "final": final},
        )
        if final and deal.checks_unavailable >= settings.max_unavailable_checks:
            reason = f"The post could not be verified at the end of its hold: {reason}"
            deal.dispute_reason = reason
            await transition(session, DEAL_POLICY, deal_id, Action.dispute, SYSTEM, reason=reason)
            return
        deal.next_check_at = utcnow() + dt.timedelta(seconds=settings.probe_retry_seconds)
