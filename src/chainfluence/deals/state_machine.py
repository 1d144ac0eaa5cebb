"""The deal state machine: one table of allowed moves and one function that makes them.

Every status change of a deal goes through `transition()`, which in one transaction locks the deal
row, looks the move up in the policy's rules (from status, action → to status, and who may do it),
applies it, appends a timeline entry and runs the policy's effect for the new status (escrow
orders, follow-up jobs, notifications). A move not in the table is a 409 and a caller without the
right is a 403; either way nothing changes.

Like Prefect's orchestration policy, the rules and their side effects are one object,
`TransitionPolicy`, that every caller passes to `transition()`; nothing is registered at import
time. A policy cannot be built without an effect for each status that moves money
(`MONEY_STATUSES`), and `transition()` refuses anything that is not a policy, so no caller can
move a deal to `refunding` without ordering the refund. The deal lifecycle's policy is
`chainfluence.deals.lifecycle.DEAL_POLICY`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.deals import repository, timeline
from chainfluence.deals.exceptions import DealNotFound
from chainfluence.kit.errors import Conflict, Forbidden
from chainfluence.kit.time import utcnow
from chainfluence.models import ActorType, Deal, DealStatus
from chainfluence.models.deals import FINAL_DEAL_STATUSES, OPEN_DEAL_STATUSES

S = DealStatus


class Action(StrEnum):
    deposit_confirmed = "deposit_confirmed"
    cancel = "cancel"
    decline = "decline"
    deposit_expired = "deposit_expired"
    publish = "publish"
    creative_expired = "creative_expired"
    posting_expired = "posting_expired"
    violation = "violation"
    edit_detected = "edit_detected"
    edit_accepted = "edit_accepted"
    edit_refused = "edit_refused"
    edit_expired = "edit_expired"
    hold_passed = "hold_passed"
    release_confirmed = "release_confirmed"
    refund_confirmed = "refund_confirmed"
    split_confirmed = "split_confirmed"
    dispute = "dispute"
    resolve_release = "resolve_release"
    resolve_refund = "resolve_refund"
    resolve_split = "resolve_split"


class Role(StrEnum):
    advertiser = "advertiser"
    publisher = "publisher"
    operator = "operator"
    system = "system"  # sweeps and jobs acting on deadlines and checks
    chain = "chain"  # the chain watcher reporting what happened on chain


@dataclass(frozen=True, slots=True)
class Actor:
    role: Role
    user_id: int | None = None

    @property
    def actor_type(self) -> ActorType:
        return {
            Role.advertiser: ActorType.user,
            Role.publisher: ActorType.user,
            Role.operator: ActorType.operator,
            Role.system: ActorType.system,
            Role.chain: ActorType.chain,
        }[self.role]


SYSTEM = Actor(Role.system)
CHAIN = Actor(Role.chain)
PARTIES = frozenset({Role.advertiser, Role.publisher})


@dataclass(frozen=True, slots=True)
class Rule:
    source: DealStatus
    action: Action
    target: DealStatus
    roles: frozenset[Role]
    why: str
    # Where the move goes instead when the escrow already holds money (it must go back).
    target_if_funded: DealStatus | None = None
    # Extra precondition, with the sentence a refused caller sees.
    guard: Callable[[Deal], str | None] | None = field(default=None, compare=False)


FINAL_STATUSES = FINAL_DEAL_STATUSES
# Money is held by the escrow (or on its way out) in these.
FUNDED_STATUSES = frozenset(
    {S.in_escrow, S.live, S.edit_pending, S.verified, S.refunding, S.disputed, S.splitting}
)
OPEN_STATUSES = OPEN_DEAL_STATUSES


def _rules() -> Iterable[Rule]:
    both = PARTIES
    yield Rule(
        S.pending,
        Action.deposit_confirmed,
        S.in_escrow,
        frozenset({Role.chain}),
        "the escrow received the full price",
    )
    yield Rule(
        S.pending,
        Action.cancel,
        S.cancelled,
        both,
        "either party may walk away before the deal is funded",
        target_if_funded=S.refunding,
    )
    yield Rule(
        S.pending,
        Action.decline,
        S.cancelled,
        frozenset({Role.publisher}),
        "the publisher declines the booking",
        target_if_funded=S.refunding,
    )
    yield Rule(
        S.pending,
        Action.deposit_expired,
        S.cancelled,
        frozenset({Role.system}),
        "no full deposit by the deposit deadline; any partial money goes back",
        target_if_funded=S.refunding,
    )
    yield Rule(
        S.in_escrow,
        Action.publish,
        S.live,
        frozenset({Role.system, Role.publisher}),
        "the bot published the approved creative",
    )
    yield Rule(
        S.in_escrow,
        Action.decline,
        S.refunding,
        frozenset({Role.publisher}),
        "the publisher declines the funded deal; the advertiser is refunded",
    )
    yield Rule(
        S.in_escrow,
        Action.cancel,
        S.refunding,
        frozenset({Role.advertiser}),
        "the advertiser withdraws before any creative was approved",
        guard=lambda d: (
            None
            if d.creative_version is None
            else "A creative has been approved; open a dispute instead."
        ),
    )
    yield Rule(
        S.in_escrow,
        Action.creative_expired,
        S.refunding,
        frozenset({Role.system}),
        "no approved creative by the deadline",
    )
    yield Rule(
        S.in_escrow,
        Action.posting_expired,
        S.refunding,
        frozenset({Role.system}),
        "the post could not be published by the posting deadline",
    )
    yield Rule(
        S.in_escrow,
        Action.dispute,
        S.disputed,
        both | {Role.system},
        "a party asks an operator to decide while the money is held",
    )
    yield Rule(
        S.live,
        Action.hold_passed,
        S.verified,
        frozenset({Role.system}),
        "the post stayed up, unchanged, for the whole hold",
    )
    yield Rule(
        S.live,
        Action.violation,
        S.refunding,
        frozenset({Role.system}),
        "the post was deleted or pushed down early",
    )
    yield Rule(
        S.live,
        Action.edit_detected,
        S.edit_pending,
        frozenset({Role.system}),
        "the post was edited: the advertiser decides whether the edit stands",
    )
    yield Rule(
        S.edit_pending,
        Action.edit_accepted,
        S.live,
        frozenset({Role.advertiser}),
        "the advertiser accepted the edit; the hold goes on with the edited post as reference",
    )
    yield Rule(
        S.edit_pending,
        Action.edit_refused,
        S.refunding,
        frozenset({Role.advertiser}),
        "the advertiser refused the edit; the advertiser is refunded",
    )
    yield Rule(
        S.edit_pending,
        Action.edit_expired,
        S.refunding,
        frozenset({Role.system}),
        "the advertiser did not accept the edit within the window",
    )
    yield Rule(
        S.edit_pending,
        Action.dispute,
        S.disputed,
        both,
        "a party asks an operator to decide about the edit while the money is held",
    )
    yield Rule(
        S.live,
        Action.dispute,
        S.disputed,
        both | {Role.system},
        "a party asks an operator to decide; monitoring and payout pause",
    )
    yield Rule(
        S.verified,
        Action.dispute,
        S.disputed,
        both | {Role.system},
        "a party objects before the payout is sent, or a re-check before release failed",
    )
    yield Rule(
        S.disputed,
        Action.resolve_release,
        S.verified,
        frozenset({Role.operator}),
        "the operator decided for the publisher",
    )
    yield Rule(
        S.disputed,
        Action.resolve_refund,
        S.refunding,
        frozenset({Role.operator}),
        "the operator decided for the advertiser",
    )
    yield Rule(
        S.disputed,
        Action.resolve_split,
        S.splitting,
        frozenset({Role.operator}),
        "the operator split the escrow between the parties",
    )
    # The chain is the truth: whatever the escrow paid out, the deal follows, from any open
    # status (the publisher may refund on chain at any time, anyone after refund_after).
    for source in OPEN_STATUSES:
        yield Rule(
            source,
            Action.release_confirmed,
            S.released,
            frozenset({Role.chain}),
            "the escrow paid the publisher (release confirmed on chain)",
        )
        yield Rule(
            source,
            Action.refund_confirmed,
            S.refunded,
            frozenset({Role.chain}),
            "the escrow returned its balance to the advertiser (refund confirmed on chain)",
        )
        yield Rule(
            source,
            Action.split_confirmed,
            S.split_paid,
            frozenset({Role.chain}),
            "the escrow paid both shares (split confirmed on chain)",
        )


RULES: dict[tuple[DealStatus, Action], Rule] = {(r.source, r.action): r for r in _rules()}


class InvalidTransition(Conflict):
    code = "invalid_transition"


class TransitionForbidden(Forbidden):
    code = "transition_forbidden"


_ACTION_WORDS = {
    Action.deposit_confirmed: "confirm the deposit of",
    Action.cancel: "cancel",
    Action.decline: "decline",
    Action.deposit_expired: "expire the deposit of",
    Action.publish: "publish",
    Action.creative_expired: "expire the creative of",
    Action.posting_expired: "expire the posting of",
    Action.violation: "flag a violation on",
    Action.edit_detected: "flag an edit on",
    Action.edit_accepted: "accept an edit of",
    Action.edit_refused: "refuse an edit of",
    Action.edit_expired: "expire the edit of",
    Action.hold_passed: "verify",
    Action.release_confirmed: "confirm the release of",
    Action.refund_confirmed: "confirm the refund of",
    Action.split_confirmed: "confirm the split of",
    Action.dispute: "dispute",
    Action.resolve_release: "resolve for release",
    Action.resolve_refund: "resolve for refund",
    Action.resolve_split: "resolve by split",
}


def check(
    deal: Deal,
    action: Action,
    actor: Actor,
    rules: Mapping[tuple[DealStatus, Action], Rule] = RULES,
) -> Rule:
    """The rule allowing `actor` to apply `action` to `deal` now; raises 409/403 otherwise."""
    rule = rules.get((deal.status, action))
    if rule is None:
        raise InvalidTransition(
            f"Cannot {_ACTION_WORDS[action]} a deal that is {deal.status.value.replace('_', ' ')}."
        )
    if actor.role not in rule.roles:
        raise TransitionForbidden(
            f"Only the {' or '.join(sorted(r.value for r in rule.roles))} can "
            f"{_ACTION_WORDS[action]} this deal."
        )
    if rule.guard is not None and (problem := rule.guard(deal)) is not None:
        raise InvalidTransition(problem)
    return rule


def target_of(rule: Rule, deal: Deal) -> DealStatus:
    if rule.target_if_funded is not None and deal.deposited_nano > 0:
        return rule.target_if_funded
    return rule.target


@dataclass(frozen=True, slots=True)
class Transition:
    deal: Deal
    rule: Rule
    source: DealStatus
    target: DealStatus
    at: dt.datetime


Effect = Callable[[AsyncSession, Transition, Actor], Awaitable[None]]
"""`async def effect(session, transition, actor)`, run inside the transaction after the move."""

# Reaching these moves money (or queues the move of it): a policy must say how, for each.
MONEY_STATUSES = frozenset({S.verified, S.refunding, S.splitting})


@dataclass(frozen=True, slots=True)
class TransitionPolicy:
    """The rules of the deal table and the side effects of reaching each status, as one object."""

    effects: Mapping[DealStatus, Effect]
    rules: Mapping[tuple[DealStatus, Action], Rule] = field(default_factory=lambda: RULES)

    def __post_init__(self) -> None:
        missing = MONEY_STATUSES - set(self.effects)
        if missing:
            raise ValueError(
                "a transition policy needs an effect for every status that moves money; missing: "
                + ", ".join(sorted(status.value for status in missing))
            )


async def transition(
    session: AsyncSession,
    policy: TransitionPolicy,
    deal_id: int,
    action: Action,
    actor: Actor,
    *,
    details: dict[str, Any] | None = None,
    tx_hash: str | None = None,
    reason: str | None = None,
) -> Deal:
    """Apply `action` to the deal under `policy`, or raise without changing anything."""
    if not isinstance(policy, TransitionPolicy):
        raise TypeError(f"transition() needs a TransitionPolicy, not {type(policy).__name__}")
    deal = await repository.get_for_update(session, deal_id)
    if deal is None:
        raise DealNotFound()
    rule = check(deal, action, actor, policy.rules)
    source = deal.status
    target = target_of(rule, deal)
    now = utcnow()
    deal.status = target
    if reason is not None and target in FINAL_STATUSES | {S.refunding, S.disputed}:
        deal.close_reason = reason
    _stamp(deal, target, now)
    await timeline.record(
        session,
        deal,
        action.value,
        actor_type=actor.actor_type,
        actor_id=actor.user_id,
        from_status=source,
        to_status=target,
        details={**(details or {}), **({"reason": reason} if reason else {})},
        tx_hash=tx_hash,
    )
    change = Transition(deal=deal, rule=rule, source=source, target=target, at=now)
    effect = policy.effects.get(target)
    if effect is not None:
        await effect(session, change, actor)
    await session.flush()
    return deal


def _stamp(deal: Deal, target: DealStatus, now: dt.datetime) -> None:
    if target is S.released:
        deal.released_at = now
    elif target is S.refunded:
        deal.refunded_at = now
    elif target is S.cancelled:
        deal.cancelled_at = now
    if target in FINAL_STATUSES:
        deal.next_check_at = None
