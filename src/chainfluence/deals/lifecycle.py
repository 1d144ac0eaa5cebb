"""What follows a deal's status change, and how chain events move deals.

`DEAL_POLICY` is the policy every caller passes to `transition()`: the deal table and, per
status reached, the effect run inside the transition's transaction. It sets the next due time,
orders the escrow payout a status calls for (committed with the move, sent by the platform wallet
afterwards), queues follow-up jobs and notifies the parties.

`DealEscrowSink` is the chain watcher's event sink: a deposit that completes the price funds the
deal, a confirmed payout closes it, late money is sent back. It runs inside the transaction that
records the chain transaction, so each event moves the deal exactly once.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence import jobs
from chainfluence.deals import repository, timeline, views
from chainfluence.deals.notices import edit_notice
from chainfluence.deals.observations import observe_bounce, observe_deposit, observe_payout
from chainfluence.deals.payouts import order_payout
from chainfluence.deals.state_machine import (
    CHAIN,
    FINAL_STATUSES,
    Action,
    Actor,
    Transition,
    TransitionPolicy,
    transition,
)
from chainfluence.kit.money import format_ton
from chainfluence.models import (
    ActorType,
    Deal,
    DealStatus,
    EscrowActionKind,
    NotificationType,
    RelatedType,
    User,
)
from chainfluence.notifications.service import notify
from chainfluence.ton.events import BounceEvent, DepositEvent, PayoutEvent, PayoutKind

log = logging.getLogger(__name__)

S = DealStatus
RELEASE_JOB = "deals.release"
REPORT_JOB = "deals.send_report"


async def _notify_parties(
    session: AsyncSession,
    deal: Deal,
    type: NotificationType,
    title: str,
    body: str = "",
    *,
    only: tuple[int, ...] | None = None,
    skip: int | None = None,
) -> None:
    for user_id in only or (deal.advertiser_id, deal.publisher_id):
        if user_id == skip:
            continue
        await notify(
            session,
            user_id=user_id,
            type=type,
            title=f"Deal #{deal.id}: {title}",
            body=body,
            related=(RelatedType.deal, deal.id),
        )


async def notify_operators(
    session: AsyncSession, operator_ids: list[int], deal: Deal, title: str, body: str
) -> None:
    """Operators who are users of ours (they logged in once) get an in-app notification."""
    if not operator_ids:
        return
    known = (await session.execute(select(User.id).where(User.id.in_(operator_ids)))).scalars()
    for user_id in known:
        if user_id in (deal.advertiser_id, deal.publisher_id):
            continue
        await notify(
            session,
            user_id=user_id,
            type=NotificationType.dispute_opened,
            title=f"Deal #{deal.id}: {title}",
            body=body,
            related=(RelatedType.deal, deal.id),
        )


async def _funded(session: AsyncSession, change: Transition, actor: Actor) -> None:
    deal = change.deal
    deal.funded_at = change.at
    # The advance job works out what is due next (drafting deadline, publishing time).
    deal.next_check_at = change.at
    await _notify_parties(
        session,
        deal,
        NotificationType.deposit_received,
        f"{format_ton(deal.price_nano)} TON is held in escrow",
        "The advertiser's payment arrived. Agree the creative; the bot publishes it on time.",
    )


async def _live(session: AsyncSession, change: Transition, actor: Actor) -> None:
    deal = change.deal
    if change.rule.action is Action.edit_accepted:
        await _notify_parties(
            session,
            deal,
            NotificationType.post_edited,
            "the advertiser accepted the edit",
            "The hold goes on; later checks compare the post with its edited version.",
            skip=actor.user_id,
        )
        return
    # The ad post's views are read at 1 h, 24 h and the end of the hold (`deals.views`).
    deal.views_due_at = views.next_due(deal, (), change.at)
    published = "The bot published the approved post and now checks that it stays up unchanged."
    await _notify_parties(
        session,
        deal,
        NotificationType.post_published,
        "the ad is live",
        published,
        only=(deal.advertiser_id,),
    )
    publish = await timeline.last(session, deal.id, Action.publish.value)
    window = (publish.details if publish else {}).get("edit_window_hours")
    await _notify_parties(
        session,
        deal,
        NotificationType.post_published,
        "the ad is live",
        f"{published} {edit_notice(window)}",
        only=(deal.publisher_id,),
    )


async def _edit_pending(session: AsyncSession, change: Transition, actor: Actor) -> None:
    deal = change.deal
    respond_by = deal.next_check_at.strftime("%Y-%m-%d %H:%M UTC") if deal.next_check_at else ""
    await _notify_parties(
        session,
        deal,
        NotificationType.post_edited,
        "the ad post was edited",
        "The deal is paused. The advertiser may accept the edit (the hold then goes on with "
        f"the edited post) until {respond_by}; if they refuse it or do not answer in time, "
        "the advertiser is refunded.",
    )


async def _verified(session: AsyncSession, change: Transition, actor: Actor) -> None:
    deal = change.deal
    deal.next_check_at = change.at
    await jobs.enqueue(
        session, RELEASE_JOB, {"deal_id": deal.id}, dedup_key=f"{RELEASE_JOB}:{deal.id}"
    )
    if change.rule.action is Action.hold_passed:
        await _notify_parties(
            session,
            deal,
            NotificationType.post_verified,
            "the post passed verification",
            "The hold is over; the payout to the publisher is on its way.",
        )
    await _notify_resolved(session, change)


async def _refunding(session: AsyncSession, change: Transition, actor: Actor) -> None:
    deal, action = change.deal, change.rule.action
    deal.next_check_at = None
    await order(session, deal, EscrowActionKind.refund)
    kind = (
        NotificationType.post_violation
        if action in (Action.violation, Action.edit_refused, Action.edit_expired)
        else NotificationType.deal_declined
        if action is Action.decline
        else NotificationType.deal_cancelled
    )
    await _notify_parties(
        session,
        deal,
        kind,
        "the advertiser is being refunded",
        deal.close_reason or "",
        skip=actor.user_id,
    )
    await _notify_resolved(session, change)


async def _cancelled(session: AsyncSession, change: Transition, actor: Actor) -> None:
    deal = change.deal
    kind = (
        NotificationType.deal_declined
        if change.rule.action is Action.decline
        else NotificationType.deal_cancelled
    )
    await _notify_parties(
        session, deal, kind, "cancelled", deal.close_reason or "", skip=actor.user_id
    )


async def _disputed(session: AsyncSession, change: Transition, actor: Actor) -> None:
    deal = change.deal
    deal.disputed_from = change.source
    deal.next_check_at = None
    await _notify_parties(
        session,
        deal,
        NotificationType.dispute_opened,
        "a dispute was opened",
        f"{deal.close_reason or ''}\nPayout is paused until an operator decides.",
        skip=actor.user_id,
    )


async def _splitting(session: AsyncSession, change: Transition, actor: Actor) -> None:
    deal = change.deal
    deal.next_check_at = None
    share = int((deal.dispute_outcome or {}).get("publisher_share_bps", 0))
    await order(session, deal, EscrowActionKind.dispute_split, share_bps=share)
    await _notify_resolved(session, change)


async def _notify_resolved(session: AsyncSession, change: Transition) -> None:
    action = change.rule.action
    if action in (Action.resolve_release, Action.resolve_refund, Action.resolve_split):
        await _notify_parties(
            session,
            change.deal,
            NotificationType.dispute_resolved,
            "the dispute was decided",
            f"An operator decided: {action.value.removeprefix('resolve_')}. "
            f"{change.deal.close_reason or ''}".strip(),
        )


async def _final(session: AsyncSession, change: Transition, actor: Actor) -> None:
    await _notify_final(session, change.deal, change.target)
    if change.deal.posted_at is not None:
        # The report of a deal whose post ran; the job reads what the series holds by then.
        await jobs.enqueue(
            session,
            REPORT_JOB,
            {"deal_id": change.deal.id},
            dedup_key=f"{REPORT_JOB}:{change.deal.id}",
        )


def evidence_line(deal: Deal) -> str:
    """Where a finished deal's signed record is (GET, for its parties and operators)."""
    return (
        f"\nThe signed evidence pack of the deal: /v1/deals/{deal.id}/evidence "
        "(chainfluence evidence verify checks it)."
    )


async def _notify_final(session: AsyncSession, deal: Deal, target: DealStatus) -> None:
    if target is S.released:
        net = format_ton(deal.price_nano - deal.platform_fee_nano)
        await _notify_parties(
            session,
            deal,
            NotificationType.funds_released,
            f"{net} TON paid to the publisher",
            "The deal is complete. You can now rate each other." + evidence_line(deal),
        )
    elif target is S.refunded:
        await _notify_parties(
            session,
            deal,
            NotificationType.funds_refunded,
            "the advertiser was refunded",
            "The escrow returned its balance to the advertiser's wallet." + evidence_line(deal),
        )
    elif target is S.split_paid:
        await _notify_parties(
            session,
            deal,
            NotificationType.funds_released,
            "the escrow was split",
            "Each party received its share as the operator decided." + evidence_line(deal),
        )


async def order(
    session: AsyncSession, deal: Deal, kind: EscrowActionKind, *, share_bps: int | None = None
) -> None:
    if deal.escrow_address is None:
        # No payment request was ever made, so no contract can hold money: nothing to send.
        return
    action = await order_payout(session, deal, kind, publisher_share_bps=share_bps)
    await timeline.record(
        session,
        deal,
        f"{kind.value}_ordered",
        actor_type=ActorType.system,
        details={"order_id": action.id, "publisher_share_bps": share_bps},
    )


DEAL_POLICY = TransitionPolicy(
    effects={
        S.in_escrow: _funded,
        S.live: _live,
        S.edit_pending: _edit_pending,
        S.verified: _verified,
        S.refunding: _refunding,
        S.cancelled: _cancelled,
        S.disputed: _disputed,
        S.splitting: _splitting,
        S.released: _final,
        S.refunded: _final,
        S.split_paid: _final,
    }
)
"""The deal lifecycle's policy: the deal table and what reaching each status does. Every caller
of `transition()` passes it."""


_CONFIRMS = {
    PayoutKind.release: Action.release_confirmed,
    PayoutKind.refund: Action.refund_confirmed,
    PayoutKind.dispute_split: Action.split_confirmed,
}


class DealEscrowSink:
    """The chain watcher's `EscrowEventSink` for deals (see the module docstring)."""

    async def deposit(self, session: AsyncSession, event: DepositEvent) -> None:
        await observe_deposit(session, event)
        deal = await repository.get_for_update(session, event.deal_id)
        if deal is None:
            return
        if event.returned:
            await _notify_parties(
                session,
                deal,
                NotificationType.funds_refunded,
                f"a late payment of {format_ton(event.amount_nano)} TON was returned",
                "The escrow is closed, so it sent the payment straight back to its sender.",
                only=(deal.advertiser_id,),
            )
            return
        if deal.status is S.cancelled:
            # Money reached an escrow whose deal is over: send it back through the contract.
            await order(session, deal, EscrowActionKind.refund)
            await _notify_parties(
                session,
                deal,
                NotificationType.funds_refunded,
                f"{format_ton(event.amount_nano)} TON arrived after the deal ended",
                "It is being refunded to the advertiser's wallet.",
                only=(deal.advertiser_id,),
            )
            return
        if deal.status is not S.pending:
            # Extra money on a funded deal goes back to the advertiser with the payout.
            return
        if event.completes_funding:
            await transition(
                session,
                DEAL_POLICY,
                deal.id,
                Action.deposit_confirmed,
                CHAIN,
                details={
                    "deposited_nano": str(event.deposited_total_nano),
                    "funding": event.funding.value,
                    "from_unexpected_sender": event.from_unexpected_sender,
                },
                tx_hash=event.tx_hash,
            )
            return
        missing = event.price_nano - event.deposited_total_nano
        await _notify_parties(
            session,
            deal,
            NotificationType.deposit_received,
            f"{format_ton(event.amount_nano)} TON received, {format_ton(missing)} TON missing",
            "The deal starts once the escrow holds the full price.",
            only=(deal.advertiser_id,),
        )

    async def payout(self, session: AsyncSession, event: PayoutEvent) -> None:
        await observe_payout(session, event)
        deal = await repository.get_for_update(session, event.deal_id)
        if deal is None or deal.status in FINAL_STATUSES:
            # A late deposit's refund on a cancelled deal: the timeline has it, nothing moves.
            return
        await transition(
            session,
            DEAL_POLICY,
            deal.id,
            _CONFIRMS[event.kind],
            CHAIN,
            details={
                "publisher_nano": str(event.publisher_nano),
                "fee_nano": str(event.fee_nano),
                "advertiser_nano": str(event.advertiser_nano),
                "initiator": event.initiator,
            },
            tx_hash=event.tx_hash,
        )

    async def bounce(self, session: AsyncSession, event: BounceEvent) -> None:
        await observe_bounce(session, event)
