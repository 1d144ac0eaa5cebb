"""The offer's status table, exhaustively: a caller without the role gets the action's 403
whatever the status, a non-pending offer a 409, and a refused move changes nothing. The
expectations are written out here, not read from the product's table."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from chainfluence.kit.errors import AppError
from chainfluence.models import Offer, OfferStatus
from chainfluence.offers import transitions
from chainfluence.offers.transitions import OfferAction, OfferRole

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
A, C, S = OfferRole.author, OfferRole.counterpart, OfferRole.system
# action → (who may take it, where a pending offer goes, the code a caller without the role gets)
SPEC = {
    OfferAction.accept: ({C}, OfferStatus.accepted, "not_offer_counterpart"),
    OfferAction.decline: ({C, S}, OfferStatus.declined, "not_offer_counterpart"),
    OfferAction.withdraw: ({A, S}, OfferStatus.withdrawn, "not_offer_author"),
    OfferAction.counter: ({C}, OfferStatus.countered, "not_offer_counterpart"),
    OfferAction.expire: ({S}, OfferStatus.expired, "offer_move_forbidden"),
}


@pytest.mark.parametrize(
    ("status", "action", "role"), list(itertools.product(OfferStatus, OfferAction, OfferRole))
)
def test_every_move_follows_the_table(
    status: OfferStatus, action: OfferAction, role: OfferRole
) -> None:
    offer = Offer(status=status)
    roles, target, refusal = SPEC[action]
    if role in roles and status is OfferStatus.pending:
        transitions.move(offer, action, {role}, NOW)
        assert (offer.status, offer.decided_at) == (target, NOW)
        return
    with pytest.raises(AppError) as refused:
        transitions.move(offer, action, {role}, NOW)
    expected = (403, refusal) if role not in roles else (409, "offer_not_pending")
    assert (refused.value.status_code, refused.value.code) == expected
    assert (offer.status, offer.decided_at) == (status, None)
