"""Publishing a deal's approved creative in its channel, at most once.

Three units of work around two Telegram calls, so no database transaction waits on the network:

1. take the deal's publishing lease (a second attempt meanwhile is refused) and note the newest
   message id known in the channel;
2. re-check that the bot may still post and the publisher still manages the channel, then post —
   or, if an earlier attempt's outcome is unknown (its request timed out), first look for that
   post, so a retry never publishes twice;
3. record the message ids, date and fingerprint, plan the verification probes and go LIVE.

A refusal (rights lost, channel gone) is recorded on the timeline with its reason, the publisher
is told, and the attempt is retried until the posting deadline; past it the advertiser is refunded.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.channels.exceptions import (
    BotLostRights,
    ChannelGone,
    ChannelNotFound,
    NotChannelManager,
    TelegramUnavailable,
)
from chainfluence.channels.verification import confirm_channel_manager
from chainfluence.deals import creatives, repository, schedule, timeline
from chainfluence.deals.exceptions import DealNotFound
from chainfluence.deals.lifecycle import DEAL_POLICY
from chainfluence.deals.state_machine import SYSTEM, Action, Actor, check, transition
from chainfluence.kit import faults
from chainfluence.kit.errors import Conflict, ServiceUnavailable
from chainfluence.kit.faults import FaultPoint
from chainfluence.kit.time import utcnow
from chainfluence.models import (
    ChannelPost,
    Deal,
    DealStatus,
    NotificationType,
    RelatedType,
)
from chainfluence.notifications.service import notify
from chainfluence.ports import BotApiCaller, Configured, Messenger, Sessions
from chainfluence.telegram import posting


class _Ports(Sessions, Configured, Messenger, Protocol):
    """What this module needs of the process."""


log = logging.getLogger(__name__)

# Retry a refused publication after 5 minutes, doubling up to an hour (never past the deadline).
RETRY_FIRST = dt.timedelta(minutes=5)
RETRY_MAX = dt.timedelta(hours=1)


class NoApprovedCreative(Conflict):
    code = "no_approved_creative"

    def __init__(self) -> None:
        super().__init__("There is no approved creative to publish yet.")


class PublishInProgress(Conflict):
    code = "publish_in_progress"

    def __init__(self) -> None:
        super().__init__("The post is being published right now.")


class TopSlotTaken(Conflict):
    code = "top_slot_taken"

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(
            "Another ad holds the top of this channel until "
            f"{until.strftime('%Y-%m-%d %H:%M UTC')}; the post goes out after it."
        )
        self.until = until


class PublishFailed(Conflict):
    code = "publish_failed"


class BotNotConfigured(ServiceUnavailable):
    code = "bot_not_configured"

    def __init__(self) -> None:
        super().__init__(
            "No Telegram bot is configured, so nothing can be published: set "
            "CHAINFLUENCE_TELEGRAM__BOT_TOKEN (in sandbox mode, the settings `chainfluence "
            "sandbox up` prints)."
        )


def _bot(runtime: _Ports) -> BotApiCaller:
    if runtime.bot is None:
        raise BotNotConfigured()
    return runtime.bot


async def _newest_message_id(session: AsyncSession, channel_id: int) -> int:
    """The highest message id we know in the channel: observed posts and our own deals' posts."""
    observed = await session.scalar(
        select(func.max(ChannelPost.message_id)).where(ChannelPost.channel_id == channel_id)
    )
    ours = await session.scalar(
        select(func.max(Deal.post_message_id)).where(Deal.channel_id == channel_id)
    )
    return max(observed or 0, ours or 0)


async def _top_held_until(
    session: AsyncSession, deal: Deal, now: dt.datetime
) -> dt.datetime | None:
    """When another live ad in the same channel stops needing to be the newest post."""
    statement = select(func.max(Deal.top_until)).where(
        Deal.channel_id == deal.channel_id,
        Deal.id != deal.id,
        Deal.status.in_(repository.LIVE_STATUSES),
        Deal.top_until > now,
    )
    return await session.scalar(statement)


def _as_posting_creative(payload: dict[str, object]) -> posting.Creative:
    buttons = payload.get("buttons") or []
    assert isinstance(buttons, list)
    return posting.Creative(
        text=str(payload["text"]),
        entities=list(payload.get("entities") or []),  # type: ignore[call-overload]
        images=list(payload.get("images") or []),  # type: ignore[call-overload]
        buttons=[[posting.Button(text=str(b["text"]), url=str(b["url"]))] for b in buttons],
    )


@dataclass(frozen=True, slots=True)
class _Attempt:
    channel_id: int
    publisher_id: int
    creative: posting.Creative
    after_message_id: int
    # Set when an earlier attempt may have posted: look for its post after this message id.
    uncertain_after: int | None


async def _start(runtime: _Ports, deal_id: int, actor: Actor) -> _Attempt:
    """Take the publishing lease (unit of work 1); raises, committing a deferral, if not now."""
    now = utcnow()
    lease = dt.timedelta(seconds=runtime.settings.deals.publish_lease_seconds)
    deferred: TopSlotTaken | None = None
    async with runtime.session() as session:
        deal = await repository.get_for_update(session, deal_id)
        if deal is None:
            raise DealNotFound()
        check(deal, Action.publish, actor)
        approved = await creatives.approved(session, deal)
        if approved is None:
            raise NoApprovedCreative()
        if deal.publish_started_at is not None and deal.publish_started_at > now - lease:
            raise PublishInProgress()
        held_until = await _top_held_until(session, deal, now)
        if held_until is not None:
            # Posting now would push the other ad down during its top hours: wait for the slot.
            deal.next_check_at = held_until
            deferred = TopSlotTaken(held_until)
        else:
            uncertain_after = (
                deal.publish_after_message_id if deal.publish_started_at is not None else None
            )
            if uncertain_after is None:
                deal.publish_after_message_id = await _newest_message_id(session, deal.channel_id)
            deal.publish_started_at = now
            attempt = _Attempt(
                channel_id=deal.channel_id,
                publisher_id=deal.publisher_id,
                creative=_as_posting_creative(creatives.as_payload(approved)),
                after_message_id=deal.publish_after_message_id or 0,
                uncertain_after=uncertain_after,
            )
    if deferred is not None:
        raise deferred
    return attempt


async def publish_deal(runtime: _Ports, deal_id: int, actor: Actor) -> Deal:
    """Publish now (the publisher's button, or the schedule); raises with the reason if not."""
    bot = _bot(runtime)
    attempt = await _start(runtime, deal_id, actor)
    channel_id, publisher_id, creative = attempt.channel_id, attempt.publisher_id, attempt.creative
    uncertain_after, after_message_id = attempt.uncertain_after, attempt.after_message_id
    settings = runtime.settings

    try:
        await confirm_channel_manager(runtime, user_id=publisher_id, channel_id=channel_id)
    except (NotChannelManager, ChannelGone, BotLostRights, ChannelNotFound) as exc:
        await _failed(runtime, deal_id, exc.message)
        raise PublishFailed(exc.message) from None
    except TelegramUnavailable as exc:
        await _failed(runtime, deal_id, exc.message)
        raise

    published: posting.Published | None = None
    service_chat = settings.telegram.service_chat_id
    if uncertain_after is not None:
        try:
            published = await posting.find_published(
                bot, service_chat, channel_id, creative, after_message_id=uncertain_after
            )
        except posting.ProbeUnavailable as exc:
            await _failed(runtime, deal_id, str(exc), keep_lease=True)
            raise PublishFailed(str(exc)) from None
        if published is not None:
            log.info("deal %s: found the post of an earlier attempt", deal_id)
    if published is None:
        try:
            published = await posting.publish(bot, settings.uploads, channel_id, creative)
        except (posting.PublishRefused, posting.CreativeNotPublishable) as exc:
            await _failed(runtime, deal_id, str(exc))
            raise PublishFailed(str(exc)) from None
        except posting.PublishOutcomeUnknown as exc:
            # Keep the lease and the message id: the next attempt looks for this post first.
            await _failed(
                runtime, deal_id, f"Telegram did not confirm the post: {exc}", keep_lease=True
            )
            raise PublishFailed("Telegram did not confirm the post; it is being checked.") from None

    faults.reached(FaultPoint.publishing)
    async with runtime.session() as session:
        return await _went_live(runtime, session, deal_id, published, actor, after_message_id)


async def _went_live(
    runtime: _Ports,
    session: AsyncSession,
    deal_id: int,
    published: posting.Published,
    actor: Actor,
    after_message_id: int,
) -> Deal:
    deal = await repository.get_for_update(session, deal_id)
    if deal is None:
        raise DealNotFound()
    evidence: dict[str, Any] = {
        "message_ids": published.message_ids,
        "fingerprint": published.fingerprint,
        "content_fingerprint": published.content_fingerprint,
        "text_fingerprint": published.text_fingerprint,
        "posted_at": published.date.isoformat(),
        "previous_newest_message_id": after_message_id,
    }
    deal.publish_started_at = None
    deal.publish_after_message_id = None
    if deal.status is not DealStatus.in_escrow:
        # The deal moved on (e.g. a dispute) while the post went out: keep the evidence.
        await timeline.record(
            session,
            deal,
            "post_published_after_move",
            actor_type=SYSTEM.actor_type,
            details=evidence,
        )
        return deal
    spec = schedule.spec_for(deal.format, runtime.settings.deals)
    posted_at = published.date
    deal.post_message_id = published.message_ids[0]
    deal.post_message_ids = list(published.message_ids)
    deal.post_fingerprint = published.fingerprint
    deal.post_content_fingerprint = published.content_fingerprint
    deal.post_text_fingerprint = published.text_fingerprint
    deal.posted_at = posted_at
    deal.hold_until = posted_at + spec.hold
    deal.top_until = posted_at + spec.top if spec.top else None
    deal.publish_failures = 0
    deal.checks_unavailable = 0
    probes = schedule.probe_times(
        posted_at, deal.hold_until, runtime.settings.deals.probes_per_hold
    )
    deal.probe_schedule = [moment.isoformat() for moment in probes]
    deal.next_check_at = probes[0]
    evidence["hold_until"] = deal.hold_until.isoformat()
    evidence["edit_window_hours"] = runtime.settings.deals.edit_window_hours
    evidence["top_until"] = deal.top_until.isoformat() if deal.top_until else None
    return await transition(session, DEAL_POLICY, deal_id, Action.publish, actor, details=evidence)


async def _failed(runtime: _Ports, deal_id: int, reason: str, *, keep_lease: bool = False) -> None:
    """Record a failed attempt, tell the publisher, and retry — or refund past the deadline."""
    now = utcnow()
    async with runtime.session() as session:
        deal = await repository.get_for_update(session, deal_id)
        if deal is None or deal.status is not DealStatus.in_escrow:
            return
        if not keep_lease:
            deal.publish_started_at = None
            deal.publish_after_message_id = None
        deal.publish_failures += 1
        await timeline.record(
            session,
            deal,
            "publish_failed",
            actor_type=SYSTEM.actor_type,
            details={"reason": reason, "attempt": deal.publish_failures},
        )
        deadline = deal.posting_deadline_at
        if deadline is not None and now >= deadline:
            await transition(
                session,
                DEAL_POLICY,
                deal_id,
                Action.posting_expired,
                SYSTEM,
                reason=f"The post could not be published by the deadline: {reason}",
            )
            return
        if keep_lease:
            # The outcome is unknown: look for the post as soon as the lease allows.
            retry_at = now + dt.timedelta(seconds=runtime.settings.deals.publish_lease_seconds)
        else:
            retry_at = now + min(RETRY_FIRST * 2 ** (deal.publish_failures - 1), RETRY_MAX)
        deal.next_check_at = min(retry_at, deadline) if deadline else retry_at
        if deal.publish_failures == 1 or deal.publish_failures % 6 == 0:
            until = f" before {deadline.strftime('%Y-%m-%d %H:%M UTC')}" if deadline else ""
            await notify(
                session,
                user_id=deal.publisher_id,
                type=NotificationType.posting_reminder,
                title=f"Deal #{deal.id}: the bot could not publish the ad",
                body=f"{reason} Fix it{until}, or the advertiser is refunded.",
                related=(RelatedType.deal, deal.id),
            )
