"""Edits of a live ad: the advertiser accepts them, or the advertiser is refunded.

A check that finds the post changed (`verification`) moves the deal to `edit_pending` with the old
and new text and fingerprints on its timeline. Until the window ends (`deals.edit_window_hours`)
the advertiser may accept the edit — the deal goes back to `live` and every later check compares
the post with the edited version — or refuse it; a refusal, or no answer in time, refunds the
advertiser. The hold clock keeps running meanwhile: the post stays up, edited, and once the
advertiser accepts, its time counts for the hold; a hold that ended during the window gets its
final check as soon as the edit is accepted. Probes pause while the edit waits. A deleted post
still refunds at once, and an edit after an accepted one takes the same path again.

Telegram does not tell a bot that its own post was edited, so an edit is found by the next check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.deals import repository, schedule, timeline
from chainfluence.deals.exceptions import DealNotFound
from chainfluence.deals.lifecycle import DEAL_POLICY
from chainfluence.deals.state_machine import (
    SYSTEM,
    Action,
    Actor,
    InvalidTransition,
    check,
    transition,
)
from chainfluence.kit.time import utcnow
from chainfluence.models import Creative, Deal, DealEvent, DealStatus
from chainfluence.ports import Configured, Sessions
from chainfluence.telegram import posting


class _Ports(Sessions, Configured, Protocol):
    """What this module needs of the process."""


DETECTED = Action.edit_detected.value
ACCEPTED = Action.edit_accepted.value


async def _reference_text(session: AsyncSession, deal: Deal) -> str:
    """The text the post should show: the last accepted edit's, else the approved creative's."""
    accepted = await timeline.last(session, deal.id, ACCEPTED)
    if accepted is not None and "new_text" in accepted.details:
        return str(accepted.details["new_text"])
    text = await session.scalar(
        select(Creative.text).where(
            Creative.deal_id == deal.id, Creative.version == deal.creative_version
        )
    )
    return text or ""


async def found(
    runtime: _Ports,
    session: AsyncSession,
    deal: Deal,
    probe: posting.Probe,
    published: posting.Published,
    evidence: dict[str, Any],
) -> None:
    """A check of the live (and locked) `deal` saw its post changed: the advertiser decides."""
    checked_at = dt.datetime.fromisoformat(evidence["checked_at"])
    respond_by = checked_at + dt.timedelta(hours=runtime.settings.deals.edit_window_hours)
    # The fingerprints the check compared: with the buttons when the forwarded copy carried
    # them, the content without them, or (MTProto) the text and entities alone.
    old_hash, new_hash = probe.hashes(published)
    details = {
        **evidence,
        "old_text": await _reference_text(session, deal),
        "new_text": probe.text,
        "old_hash": old_hash,
        "new_hash": new_hash,
        # What the edited post becomes the reference with, if accepted (MTProto sees no file
        # ids or keyboards: then only the text's, and later forward probes compare the text).
        "new_fingerprint": probe.fingerprint,
        "new_content_fingerprint": probe.content_fingerprint,
        "new_text_fingerprint": probe.text_fingerprint,
        "respond_by": respond_by.isoformat(),
    }
    deal.next_check_at = respond_by
    await transition(
        session,
        DEAL_POLICY,
        deal.id,
        Action.edit_detected,
        SYSTEM,
        details=details,
        reason="The post was edited after it was published.",
    )


async def accept(session: AsyncSession, deal_id: int, actor: Actor) -> Deal:
    """The advertiser accepts the pending edit: the edited post becomes the reference."""
    deal = await repository.get_for_update(session, deal_id)
    if deal is None:
        raise DealNotFound()
    check(deal, Action.edit_accepted, actor)
    detected = await timeline.last(session, deal_id, DETECTED)
    if detected is None:
        raise InvalidTransition("No edit of the post is waiting for a decision.")
    edit = detected.details
    deal.post_fingerprint = edit.get("new_fingerprint")
    deal.post_content_fingerprint = edit.get("new_content_fingerprint")
    deal.post_text_fingerprint = edit.get("new_text_fingerprint")
    now = utcnow()
    deal.probe_schedule = [
        moment for moment in deal.probe_schedule if dt.datetime.fromisoformat(moment) > now
    ]
    deal.next_check_at = schedule.next_probe(deal.probe_schedule) or deal.hold_until
    return await transition(
        session,
        DEAL_POLICY,
        deal_id,
        Action.edit_accepted,
        actor,
        details={
            "edit_event_id": detected.id,
            # Edits of the post up to this were seen (the MTProto probe compares edit dates).
            "detected_at": edit["checked_at"],
            "old_hash": edit["old_hash"],
            "new_hash": edit["new_hash"],
            "new_text": edit["new_text"],
        },
    )


async def refuse(session: AsyncSession, deal_id: int, actor: Actor) -> Deal:
    return await transition(
        session,
        DEAL_POLICY,
        deal_id,
        Action.edit_refused,
        actor,
        reason="The advertiser refused the edit of the post.",
    )


async def expire_when_due(runtime: _Ports, deal_id: int) -> None:
    """The window of a pending edit ended without an answer: refund the advertiser."""
    now = utcnow()
    async with runtime.session() as session:
        deal = await repository.get_for_update(session, deal_id)
        if deal is None or deal.status is not DealStatus.edit_pending:
            return
        detected = await timeline.last(session, deal_id, DETECTED)
        respond_by = dt.datetime.fromisoformat(detected.details["respond_by"]) if detected else now
        if now < respond_by:
            deal.next_check_at = respond_by
            return
        await transition(
            session,
            DEAL_POLICY,
            deal_id,
            Action.edit_expired,
            SYSTEM,
            reason="The advertiser did not accept the edit of the post in time.",
        )


def pending(deal: Deal, events: Sequence[DealEvent]) -> dict[str, Any] | None:
    """The edit waiting for the advertiser, as the deal's detail shows it."""
    if deal.status is not DealStatus.edit_pending:
        return None
    detected = next((e for e in reversed(events) if e.event == DETECTED), None)
    return None if detected is None else pending_from(detected.details)


def pending_from(details: dict[str, Any]) -> dict[str, Any]:
    """The pending edit shown from the details of its `edit_detected` timeline entry."""
    return {
        "detected_at": dt.datetime.fromisoformat(details["checked_at"]),
        "respond_by": dt.datetime.fromisoformat(details["respond_by"]),
        "old_text": details.get("old_text", ""),
        "new_text": details.get("new_text", ""),
        "old_hash": details.get("old_hash"),
        "new_hash": details.get("new_hash"),
    }
