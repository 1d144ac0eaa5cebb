"""The deal table as the design says it, written out by hand, independent of the product's code.

Sources: DESIGN §3 (the deal's states and who moves them) and the README's "Deal lifecycle". Each
row is (status, action) → target, the target when the escrow already holds money (it must go
back), the roles allowed, and the guard by name. Nothing here is computed from
`chainfluence.deals.state_machine`: tests compare the two tables (tests/deals/test_deal_table.py)
and compute the refusal matrix's expectations from this one (tests/deals/test_state_machine.py),
so a wrong rule in the product fails them instead of being copied into the expected answers.
"""

from __future__ import annotations

from dataclasses import dataclass

ADVERTISER = "advertiser"
PUBLISHER = "publisher"
OPERATOR = "operator"
SYSTEM = "system"
CHAIN = "chain"
PARTY_ROLES = frozenset({ADVERTISER, PUBLISHER})

# Guards, by name: the move is refused (409) while the guard's condition holds.
NO_APPROVED_CREATIVE = "no approved creative"


@dataclass(frozen=True)
class Row:
    target: str
    roles: frozenset[str]
    target_if_funded: str | None = None
    guard: str | None = None


def _roles(*names: str) -> frozenset[str]:
    return frozenset(names)


SPEC: dict[tuple[str, str], Row] = {
    # pending: waiting for the advertiser's deposit.
    # "The chain watcher's report of the full deposit moves it to in_escrow."
    ("pending", "deposit_confirmed"): Row("in_escrow", _roles(CHAIN)),
    # "Either party may cancel before the deposit"; partial money goes back through a refund.
    ("pending", "cancel"): Row("cancelled", _roles(ADVERTISER, PUBLISHER), "refunding"),
    # The publisher declines the booking.
    ("pending", "decline"): Row("cancelled", _roles(PUBLISHER), "refunding"),
    # "No full deposit by the deadline → cancelled, and any money that did arrive goes back."
    ("pending", "deposit_expired"): Row("cancelled", _roles(SYSTEM), "refunding"),
    # in_escrow: funded; the creative is agreed and the post scheduled inside this state.
    # "At the scheduled time (or when the publisher says 'post now') the bot ... publishes."
    ("in_escrow", "publish"): Row("live", _roles(SYSTEM, PUBLISHER)),
    # "The publisher may decline a funded deal ... refund the escrow."
    ("in_escrow", "decline"): Row("refunding", _roles(PUBLISHER)),
    # "... and the advertiser may withdraw until a creative is approved".
    ("in_escrow", "cancel"): Row("refunding", _roles(ADVERTISER), guard=NO_APPROVED_CREATIVE),
    # "No approved creative or no post by deadline" → refund.
    ("in_escrow", "creative_expired"): Row("refunding", _roles(SYSTEM)),
    ("in_escrow", "posting_expired"): Row("refunding", _roles(SYSTEM)),
    # "Either party may open a dispute while money is held" (the system too: a failed re-check).
    ("in_escrow", "dispute"): Row("disputed", _roles(ADVERTISER, PUBLISHER, SYSTEM)),
    # live: "Hold passed → verified"; "Deleted (or pushed down in its top hours) → refunding";
    # "Edited → edit_pending", where the advertiser decides.
    ("live", "hold_passed"): Row("verified", _roles(SYSTEM)),
    ("live", "violation"): Row("refunding", _roles(SYSTEM)),
    ("live", "edit_detected"): Row("edit_pending", _roles(SYSTEM)),
    ("live", "dispute"): Row("disputed", _roles(ADVERTISER, PUBLISHER, SYSTEM)),
    # edit_pending: "Only the advertiser may accept (the hold goes on with the edited post) or
    # refuse (refund); no answer within the window → refund." Money is held: either party may
    # open a dispute.
    ("edit_pending", "edit_accepted"): Row("live", _roles(ADVERTISER)),
    ("edit_pending", "edit_refused"): Row("refunding", _roles(ADVERTISER)),
    ("edit_pending", "edit_expired"): Row("refunding", _roles(SYSTEM)),
    ("edit_pending", "dispute"): Row("disputed", _roles(ADVERTISER, PUBLISHER)),
    # verified: the release is on its way; a party may still object before it is ordered.
    ("verified", "dispute"): Row("disputed", _roles(ADVERTISER, PUBLISHER, SYSTEM)),
    # disputed: "an operator ... releases, refunds or splits (splitting → split)".
    ("disputed", "resolve_release"): Row("verified", _roles(OPERATOR)),
    ("disputed", "resolve_refund"): Row("refunding", _roles(OPERATOR)),
    ("disputed", "resolve_split"): Row("splitting", _roles(OPERATOR)),
}

# "The chain is authoritative: a confirmed payout moves the deal whatever status it was in"
# (every status that is not final).
OPEN_STATUSES = (
    "pending",
    "in_escrow",
    "live",
    "edit_pending",
    "verified",
    "refunding",
    "disputed",
    "splitting",
)
FINAL_STATUSES = ("released", "refunded", "cancelled", "split")
for _status in OPEN_STATUSES:
    SPEC[(_status, "release_confirmed")] = Row("released", _roles(CHAIN))
    SPEC[(_status, "refund_confirmed")] = Row("refunded", _roles(CHAIN))
    SPEC[(_status, "split_confirmed")] = Row("split", _roles(CHAIN))


def allows(status: str, action: str, role: str) -> bool:
    row = SPEC.get((status, action))
    return row is not None and role in row.roles


def party_cells() -> set[tuple[str, str, str, str]]:
    """Every (from, action, role, to) a party or an operator can make, funded variants included."""
    cells = set()
    for (status, action), row in SPEC.items():
        for role in row.roles & (PARTY_ROLES | {OPERATOR}):
            cells.add((status, action, role, row.target))
            if row.target_if_funded is not None:
                cells.add((status, action, role, row.target_if_funded))
    return cells
