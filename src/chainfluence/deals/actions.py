"""What people do to a deal: cancel, decline, dispute, and operators' decisions.

Who may do what is the state machine's table; this module works out in which role the caller
acts (advertiser, publisher — the channel's owner or one of its managers —, or operator) and
adds what a move needs besides the status (the dispute's reason, the operator's decision).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.channels import repository as channels
from chainfluence.config import Settings
from chainfluence.deals import repository
from chainfluence.deals.exceptions import DealNotFound
from chainfluence.deals.lifecycle import DEAL_POLICY, notify_operators
from chainfluence.deals.state_machine import Action, Actor, InvalidTransition, Role, transition
from chainfluence.kit.errors import Unprocessable
from chainfluence.models import Deal, DealStatus
from chainfluence.ton import repository as chain_repository

BPS_WHOLE = 10_000


async def actor_for(session: AsyncSession, deal: Deal, user_id: int, settings: Settings) -> Actor:
    """The role `user_id` acts in on `deal`; 404 for someone who has no business with it."""
    if user_id == deal.advertiser_id:
        return Actor(Role.advertiser, user_id)
    if user_id == deal.publisher_id:
        return Actor(Role.publisher, user_id)
    # A manager of the channel (another of its Telegram administrators) acts for the publisher;
    # payouts still go to the owner's wallet fixed in the escrow.
    if await channels.is_acting_admin(session, deal.channel_id, user_id):
        return Actor(Role.publisher, user_id)
    if settings.is_operator(user_id):
        return Actor(Role.operator, user_id)
    raise DealNotFound()


async def cancel(
    session: AsyncSession, deal_id: int, actor: Actor, reason: str | None = None
) -> Deal:
    who = "the advertiser" if actor.role is Role.advertiser else "the publisher"
    return await transition(
        session, DEAL_POLICY, deal_id, Action.cancel, actor, reason=reason or f"Cancelled by {who}."
    )


async def decline(
    session: AsyncSession, deal_id: int, actor: Actor, reason: str | None = None
) -> Deal:
    return await transition(
        session,
        DEAL_POLICY,
        deal_id,
        Action.decline,
        actor,
        reason=reason or "The publisher declined the deal.",
    )


async def open_dispute(
    session: AsyncSession, deal_id: int, actor: Actor, reason: str, settings: Settings
) -> Deal:
    deal = await repository.get_for_update(session, deal_id)
    if deal is None:
        raise DealNotFound()
    if deal.status is DealStatus.verified:
        order = await chain_repository.active_action(session, deal.id)
        if order is not None:
            raise InvalidTransition(
                "The payout has already been ordered; it can no longer be disputed."
            )
    deal.dispute_reason = reason
    deal.disputed_by = actor.user_id
    deal = await transition(
        session,
        DEAL_POLICY,
        deal_id,
        Action.dispute,
        actor,
        details={"reason": reason},
        reason=reason,
    )
    await notify_operators(session, settings.auth.operators, deal, "dispute to decide", f"{reason}")
    return deal


_OUTCOMES = {
    "release": Action.resolve_release,
    "refund": Action.resolve_refund,
    "split": Action.resolve_split,
}


async def resolve_dispute(
    session: AsyncSession,
    deal_id: int,
    operator: Actor,
    *,
    outcome: str,
    publisher_share_bps: int | None,
    note: str | None,
) -> Deal:
    action = _OUTCOMES.get(outcome)
    if action is None:
        raise Unprocessable("The outcome must be release, refund or split.")
    if action is Action.resolve_split:
        if publisher_share_bps is None or not 0 <= publisher_share_bps <= BPS_WHOLE:
            raise Unprocessable("A split needs publisherShareBps between 0 and 10000.")
    elif publisher_share_bps is not None:
        raise Unprocessable("publisherShareBps applies to a split only.")
    deal = await repository.get_for_update(session, deal_id)
    if deal is None:
        raise DealNotFound()
    decision = {
        "outcome": outcome,
        "publisher_share_bps": publisher_share_bps,
        "decided_by": operator.user_id,
        "note": note,
    }
    if deal.status is DealStatus.disputed:
        deal.dispute_outcome = decision
    # The release job sees the operator's decision and skips its automatic re-checks.
    return await transition(
        session, DEAL_POLICY, deal_id, action, operator, details=decision, reason=note or None
    )
