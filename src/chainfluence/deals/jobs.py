"""Deal jobs: the sweep that finds due deals, advancing one deal, and ordering a release.

Every waiting status has a due time (`deals.next_check_at`); the sweep queues `deals.advance` for
each due deal with a dedup key, so a lost job only delays the work. `advance` looks at the deal
afresh and does what is due: expire an unfunded deal, publish at the scheduled time, expire a deal
that could not be published, check a live post, refund a deal whose edit the advertiser did not
accept in time, or order the release of a verified one.

The ad post's views have their own due time (`deals.views_due_at`, see `deals.views`): a sweep
queues `deals.read_views` for each due deal. A finished deal's report goes to the advertiser once
(`deals.send_report`, queued by the final move; `deals.report_sent_at` keeps it to one).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Protocol

from sqlalchemy import select

from chainfluence import jobs
from chainfluence.channels.exceptions import (
    BotLostRights,
    ChannelGone,
    ChannelNotFound,
    NotChannelManager,
    TelegramUnavailable,
)
from chainfluence.channels.verification import confirm_channel_manager
from chainfluence.deals import edits, report, repository, schedule, timeline, views
from chainfluence.deals.lifecycle import (
    DEAL_POLICY,
    RELEASE_JOB,
    REPORT_JOB,
    notify_operators,
    order,
)
from chainfluence.deals.publishing import publish_deal
from chainfluence.deals.state_machine import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    SYSTEM,
    Action,
    transition,
)
from chainfluence.deals.verification import check_live_deal
from chainfluence.jobs import JobContext
from chainfluence.kit.errors import AppError
from chainfluence.kit.time import utcnow
from chainfluence.models import (
    Deal,
    DealStatus,
    EscrowActionKind,
    NotificationType,
    RelatedType,
)
from chainfluence.notifications.service import notify
from chainfluence.ports import Configured, Enqueuer, Messenger, Sessions, ViewsSources
from chainfluence.ton import repository as chain_repository
from chainfluence.users import repository as users


class _Ports(Sessions, Configured, Enqueuer, Messenger, ViewsSources, Protocol):
    """What this module needs of the process."""


log = logging.getLogger(__name__)

ADVANCE_JOB = "deals.advance"
READ_VIEWS_JOB = "deals.read_views"
SWEEP_BATCH = 500


@jobs.periodic("deals.sweep_due", every_seconds=None)
async def sweep_due(runtime: _Ports) -> None:
    now = utcnow()
    async with runtime.session(write=False) as session:
        statement = (
            select(Deal.id)
            .where(Deal.status.in_(OPEN_STATUSES), Deal.next_check_at <= now)
            .order_by(Deal.next_check_at)
            .limit(SWEEP_BATCH)
        )
        due = list((await session.execute(statement)).scalars())
    for deal_id in due:
        await runtime.queue.enqueue(
            ADVANCE_JOB, {"deal_id": deal_id}, dedup_key=f"{ADVANCE_JOB}:{deal_id}"
        )


@jobs.periodic("deals.sweep_views", every_seconds=None)
async def sweep_views(runtime: _Ports) -> None:
    """Queue a reading for each deal whose ad post is due one."""
    now = utcnow()
    async with runtime.session(write=False) as session:
        statement = (
            select(Deal.id)
            .where(Deal.views_due_at <= now)
            .order_by(Deal.views_due_at)
            .limit(SWEEP_BATCH)
        )
        due = list((await session.execute(statement)).scalars())
    for deal_id in due:
        await runtime.queue.enqueue(
            READ_VIEWS_JOB, {"deal_id": deal_id}, dedup_key=f"{READ_VIEWS_JOB}:{deal_id}"
        )


@jobs.job(READ_VIEWS_JOB)
async def read_views(ctx: JobContext, *, deal_id: int) -> None:
    await views.read(ctx.runtime, deal_id)


@jobs.job(REPORT_JOB)
async def send_report(ctx: JobContext, *, deal_id: int) -> None:
    """The finished deal's report to the advertiser, once; a reading due (the end of the hold,
    when the deal was paid out before the views sweep came) is taken first."""
    await views.read(ctx.runtime, deal_id)
    async with ctx.runtime.session() as session:
        deal = await repository.get_for_update(session, deal_id)
        if (
            deal is None
            or deal.report_sent_at is not None
            or deal.posted_at is None
            or deal.status not in FINAL_STATUSES
        ):
            return
        built = await report.build(session, deal)
        await notify(
            session,
            user_id=deal.advertiser_id,
            type=NotificationType.deal_report,
            title=f"Deal #{deal.id}: the ad's report",
            body=report.summary(built),
            related=(RelatedType.deal, deal.id),
        )
        deal.report_sent_at = utcnow()


@jobs.job(ADVANCE_JOB)
async def advance(ctx: JobContext, *, deal_id: int) -> None:
    runtime = ctx.runtime
    async with runtime.session(write=False) as session:
        deal = await repository.get(session, deal_id)
        status = deal.status if deal else None
    if status is DealStatus.pending:
        await _expire_unfunded(runtime, deal_id)
    elif status is DealStatus.in_escrow:
        await _publish_when_due(runtime, deal_id)
    elif status is DealStatus.live:
        await check_live_deal(runtime, deal_id)
    elif status is DealStatus.edit_pending:
        await edits.expire_when_due(runtime, deal_id)
    elif status is DealStatus.verified:
        await release(ctx, deal_id=deal_id)
    elif status is not None:
        # Payouts in flight are driven by their orders; disputes by operators.
        async with runtime.session() as session:
            locked = await repository.get_for_update(session, deal_id)
            if locked is not None and locked.status is status:
                locked.next_check_at = None


async def _expire_unfunded(runtime: _Ports, deal_id: int) -> None:
    now = utcnow()
    async with runtime.session() as session:
        deal = await repository.get_for_update(session, deal_id)
        if deal is None or deal.status is not DealStatus.pending:
            return
        deadline = deal.deposit_deadline_at
        if deadline is None or now < deadline:
            deal.next_check_at = deadline
            return
        await transition(
            session,
            DEAL_POLICY,
            deal_id,
            Action.deposit_expired,
            SYSTEM,
            reason="The escrow did not receive the full price by the deposit deadline.",
        )


def _ensure_deadlines(deal: Deal, runtime: _Ports, now: dt.datetime) -> None:
    settings = runtime.settings.deals
    if deal.creative_deadline_at is None:
        deal.creative_deadline_at = schedule.creative_deadline(now, deal.scheduled_at, settings)
    if deal.posting_deadline_at is None:
        deal.posting_deadline_at = schedule.posting_deadline(deal.creative_deadline_at, settings)


async def _publish_when_due(runtime: _Ports, deal_id: int) -> None:
    now = utcnow()
    async with runtime.session() as session:
        deal = await repository.get_for_update(session, deal_id)
        if deal is None or deal.status is not DealStatus.in_escrow:
            return
        _ensure_deadlines(deal, runtime, now)
        assert deal.creative_deadline_at is not None
        assert deal.posting_deadline_at is not None
        if deal.creative_version is None:
            if now >= deal.creative_deadline_at:
                await transition(
                    session,
                    DEAL_POLICY,
                    deal_id,
                    Action.creative_expired,
                    SYSTEM,
                    reason="No creative was approved by the deadline.",
                )
            else:
                deal.next_check_at = deal.creative_deadline_at
            return
        if now >= deal.posting_deadline_at:
            last = await timeline.last(session, deal_id, "publish_failed")
            why = (last.details.get("reason") if last else None) or "no attempt succeeded"
            await transition(
                session,
                DEAL_POLICY,
                deal_id,
                Action.posting_expired,
                SYSTEM,
                reason=f"The post could not be published by the deadline: {why}",
            )
            return
        if deal.scheduled_at is not None and now < deal.scheduled_at:
            deal.next_check_at = deal.scheduled_at
            return
        # Due: if this attempt dies half-way, the sweep comes back after the lease.
        deal.next_check_at = now + dt.timedelta(
            seconds=runtime.settings.deals.publish_lease_seconds
        )
    try:
        await publish_deal(runtime, deal_id, SYSTEM)
    except TelegramUnavailable:
        raise  # transient: the job is retried with backoff
    except AppError as exc:
        # Recorded on the timeline by the publishing code (or not due yet); nothing to retry here.
        log.info("deal %s not published: %s", deal_id, exc.message)


@jobs.job(RELEASE_JOB)
async def release(ctx: JobContext, *, deal_id: int) -> None:
    """Re-check what a release relies on, then order it — or hand the deal to an operator."""
    runtime = ctx.runtime
    async with runtime.session(write=False) as session:
        deal = await repository.get(session, deal_id)
        if deal is None or deal.status is not DealStatus.verified:
            return
        if await chain_repository.active_action(session, deal_id) is not None:
            return
        decided = (deal.dispute_outcome or {}).get("outcome") == "release"
        publisher_id, channel_id, frozen_wallet = (
            deal.publisher_id,
            deal.channel_id,
            deal.publisher_wallet,
        )
    problem = (
        None
        if decided
        else await _release_problem(runtime, publisher_id, channel_id, frozen_wallet)
    )
    async with runtime.session() as session:
        deal = await repository.get_for_update(session, deal_id)
        if deal is None or deal.status is not DealStatus.verified:
            return
        if await chain_repository.active_action(session, deal_id) is not None:
            return
        if problem is not None:
            deal.dispute_reason = problem
            await transition(session, DEAL_POLICY, deal_id, Action.dispute, SYSTEM, reason=problem)
            await notify_operators(
                session, runtime.settings.auth.operators, deal, "release on hold", problem
            )
            return
        deal.next_check_at = None
        await order(session, deal, EscrowActionKind.release)


async def _release_problem(
    runtime: _Ports, publisher_id: int, channel_id: int, frozen_wallet: str | None
) -> str | None:
    """Why the release must wait for an operator, or None when all checks pass.

    The escrow pays the address fixed in its terms, whatever happens later; so the publisher must
    still manage the channel the ad ran in, and that address must still be their proven wallet.
    """
    try:
        await confirm_channel_manager(runtime, user_id=publisher_id, channel_id=channel_id)
    except (NotChannelManager, ChannelGone, BotLostRights, ChannelNotFound) as exc:
        return f"Release on hold: {exc.message}"
    async with runtime.session(write=False) as session:
        wallet = await users.current_wallet(session, publisher_id)
    if frozen_wallet is None or wallet is None or wallet.address != frozen_wallet:
        return (
            "Release on hold: the publisher's proven wallet is no longer the payout address "
            "fixed in the escrow."
        )
    return None
