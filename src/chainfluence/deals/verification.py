"""Verification of a live post through its hold: random probes, then a final check.

Telegram tells a bot nothing when its own post is edited or deleted, so each check forwards the
post to the service chat and compares what comes back with the fingerprint taken at publishing
(`telegram.posting`). The formats with top hours (1/24, 2/48, 3/72) also require that no newer
post appeared in the channel during them (`channel_posts`, observed by the bot). Every check is a
timeline entry with its evidence; a deleted post or a newer one in the top hours refunds the
advertiser, an edited one waits for the advertiser's decision (`edits`), and the final check
passing verifies the deal for release.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Protocol

from chainfluence.channels import repository as channels
from chainfluence.deals import edits, repository, schedule, timeline
from chainfluence.deals.lifecycle import DEAL_POLICY
from chainfluence.deals.state_machine import SYSTEM, Action, transition
from chainfluence.kit.time import utcnow
from chainfluence.models import DealStatus
from chainfluence.ports import Configured, Messenger, Sessions
from chainfluence.telegram import posting


class _Ports(Sessions, Configured, Messenger, Protocol):
    """What this module needs of the process."""


log = logging.getLogger(__name__)


async def check_live_deal(runtime: _Ports, deal_id: int) -> None:
    """Run the check that is due for a live deal, if one is."""
    now = utcnow()
    async with runtime.session(write=False) as session:
        deal = await repository.get(session, deal_id)
        if deal is None or deal.status is not DealStatus.live:
            return
        due = schedule.next_probe(deal.probe_schedule) or deal.hold_until
        if due is None or deal.hold_until is None or now < due:
            return
        channel_id = deal.channel_id
        message_ids = list(deal.post_message_ids or [deal.post_message_id or 0])
        published = posting.Published(
            chat_id=channel_id,
            message_ids=message_ids,
            date=deal.posted_at or now,
            fingerprint=deal.post_fingerprint or "",
            content_fingerprint=deal.post_content_fingerprint or "",
        )
        final = now >= deal.hold_until
    if runtime.bot is None:
        log.warning("deal %s: no bot, the live post cannot be checked", deal_id)
        return
    try:
        probe = await posting.probe_post(
            runtime.bot, runtime.settings.telegram.service_chat_id, channel_id, message_ids
        )
    except posting.ProbeUnavailable as exc:
        await _unavailable(runtime, deal_id, str(exc), final=final)
        return
    await _judge(runtime, deal_id, probe, published, final=final)


async def _judge(
    runtime: _Ports,
    deal_id: int,
    probe: posting.Probe,
    published: posting.Published,
    *,
    final: bool,
) -> None:
    now = utcnow()
    async with runtime.session() as session:
        deal = await repository.get_for_update(session, deal_id)
        if deal is None or deal.status is not DealStatus.live:
            return
        evidence: dict[str, Any] = {
            "checked_at": now.isoformat(),
            "message_ids": published.message_ids,
            "expected_fingerprint": published.fingerprint,
            "seen_fingerprint": probe.fingerprint,
            # A forwarded copy may lack the keyboard: then the content alone is compared.
            "expected_content_fingerprint": published.content_fingerprint,
            "seen_content_fingerprint": probe.content_fingerprint,
            "compared": "full" if probe.has_markup else "content",
            "final": final,
        }
        violation: str | None = None
        if probe.deleted:
            violation = "The post was deleted before its hold ended."
        elif not probe.matches(published):
            deal.checks_unavailable = 0
            await edits.found(runtime, session, deal, probe, evidence)
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
                deal_id,
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
        remaining = [
            moment for moment in deal.probe_schedule if dt.datetime.fromisoformat(moment) > now
        ]
        deal.probe_schedule = remaining
        if final:
            await transition(
                session, DEAL_POLICY, deal_id, Action.hold_passed, SYSTEM, details=evidence
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
