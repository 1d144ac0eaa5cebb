"""The offer's status table: from status, action → to status, and who may do it.

Every status change of an offer goes through `move()`, which looks the move up here: a caller
without the role gets the rule's 403, an offer no longer in the rule's source status a 409, and
either way nothing changes. Only a pending offer moves; every move ends it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum

from chainfluence.kit.errors import Forbidden
from chainfluence.models import Offer, OfferStatus
from chainfluence.offers.exceptions import NotOfferAuthor, NotOfferCounterpart, OfferNotPending

P = OfferStatus


class OfferAction(StrEnum):
    accept = "accept"
    decline = "decline"
    withdraw = "withdraw"
    counter = "counter"
    expire = "expire"


class OfferRole(StrEnum):
    author = "author"  # who wrote this version
    counterpart = "counterpart"  # anyone on the other side of the negotiation
    system = "system"  # sweeps, and a campaign that ends


class SystemOnly(Forbidden):
    code = "offer_move_forbidden"

    def __init__(self) -> None:
        super().__init__("Offers expire by themselves.")


@dataclass(frozen=True, slots=True)
class OfferRule:
    source: OfferStatus
    action: OfferAction
    target: OfferStatus
    roles: frozenset[OfferRole]
    refused: Callable[[], Forbidden]  # what a caller without the role sees


_A, _C, _S = OfferRole.author, OfferRole.counterpart, OfferRole.system

RULES: dict[tuple[OfferStatus, OfferAction], OfferRule] = {
    (rule.source, rule.action): rule
    for rule in (
        OfferRule(P.pending, OfferAction.accept, P.accepted, frozenset({_C}), NotOfferCounterpart),
        OfferRule(
            P.pending, OfferAction.decline, P.declined, frozenset({_C, _S}), NotOfferCounterpart
        ),
        OfferRule(
            P.pending, OfferAction.withdraw, P.withdrawn, frozenset({_A, _S}), NotOfferAuthor
        ),
        OfferRule(
            P.pending, OfferAction.counter, P.countered, frozenset({_C}), NotOfferCounterpart
        ),
        OfferRule(P.pending, OfferAction.expire, P.expired, frozenset({_S}), SystemOnly),
    )
}
# Who may take each action does not depend on the status (every rule starts at pending).
_ROLES = {rule.action: rule for rule in RULES.values()}


def check(offer: Offer, action: OfferAction, roles: Collection[OfferRole]) -> OfferRule:
    """The rule letting a caller holding `roles` apply `action` to `offer` now: 403 for the wrong
    role (asked first, so the answer does not depend on the offer's state), 409 otherwise."""
    if not _ROLES[action].roles.intersection(roles):
        raise _ROLES[action].refused()
    rule = RULES.get((offer.status, action))
    if rule is None:
        raise OfferNotPending(offer.status.value)
    return rule


def apply(offer: Offer, rule: OfferRule, now: dt.datetime) -> None:
    """Make the move `check` allowed."""
    offer.status = rule.target
    offer.decided_at = now


def move(offer: Offer, action: OfferAction, roles: Collection[OfferRole], now: dt.datetime) -> None:
    """Check and apply in one step (for callers with nothing to check in between)."""
    apply(offer, check(offer, action, roles), now)
