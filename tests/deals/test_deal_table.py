"""The product's deal table equals the hand-written one (tests/deals/table_spec.py), both ways.

One small adapter reads `RULES` into the spec's shape; a guard is named by what it does to a deal
with and without an approved creative, not by how it is written.
"""

from __future__ import annotations

import itertools

import pytest

from chainfluence.deals.state_machine import (
    RULES,
    Action,
    Actor,
    InvalidTransition,
    Role,
    Rule,
    TransitionForbidden,
    check,
    target_of,
)
from chainfluence.models import Deal, DealStatus
from chainfluence.models.deals import FINAL_DEAL_STATUSES, OPEN_DEAL_STATUSES
from tests.deals.table_spec import (
    FINAL_STATUSES,
    NO_APPROVED_CREATIVE,
    OPEN_STATUSES,
    SPEC,
    Row,
)


def _guard_name(rule: Rule) -> str | None:
    if rule.guard is None:
        return None
    without = rule.guard(Deal(status=rule.source, creative_version=None))
    approved = rule.guard(Deal(status=rule.source, creative_version=2))
    if without is None and approved is not None:
        return NO_APPROVED_CREATIVE
    return f"unknown guard (no creative: {without!r}; approved: {approved!r})"


def product_table() -> dict[tuple[str, str], Row]:
    return {
        (source.value, action.value): Row(
            target=rule.target.value,
            roles=frozenset(role.value for role in rule.roles),
            target_if_funded=rule.target_if_funded.value if rule.target_if_funded else None,
            guard=_guard_name(rule),
        )
        for (source, action), rule in RULES.items()
    }


def test_every_product_rule_is_in_the_spec_identically() -> None:
    product = product_table()

    extra = {key: row for key, row in product.items() if key not in SPEC}
    different = {
        key: (row, SPEC[key]) for key, row in product.items() if key in SPEC and row != SPEC[key]
    }

    assert extra == {}, "moves the design does not allow"
    assert different == {}, "(product, spec)"


def test_every_spec_rule_is_in_the_product_identically() -> None:
    product = product_table()

    missing = {key: row for key, row in SPEC.items() if key not in product}
    different = {
        key: (product[key], row)
        for key, row in SPEC.items()
        if key in product and product[key] != row
    }

    assert missing == {}, "moves the design allows that the product refuses"
    assert different == {}, "(product, spec)"


def test_the_spec_speaks_of_the_products_statuses() -> None:
    assert set(OPEN_STATUSES) == {s.value for s in OPEN_DEAL_STATUSES}
    assert set(FINAL_STATUSES) == {s.value for s in FINAL_DEAL_STATUSES}
    assert set(OPEN_STATUSES) | set(FINAL_STATUSES) == {s.value for s in DealStatus}
    # No move leaves a final status.
    assert not [key for key in product_table() if key[0] in FINAL_STATUSES]


def test_check_answers_every_cell_as_the_spec_says() -> None:
    """Each (status, action, role): allowed with the spec's target (its funded target once a
    single nanoton is held), or refused with 409 for the status and 403 for the role; the guard
    refuses with 409 once a creative is approved. Pure: no database, so it runs in milliseconds."""
    answers: dict[str, int] = {"allowed": 0, "409": 0, "403": 0, "guarded": 0}
    for status, action, role in itertools.product(DealStatus, Action, Role):
        row = SPEC.get((status.value, action.value))
        actor = Actor(role, 1 if role in (Role.advertiser, Role.publisher) else None)
        empty = Deal(status=status, creative_version=None, deposited_nano=0)
        if row is None or role.value not in row.roles:
            expected = InvalidTransition if row is None else TransitionForbidden
            with pytest.raises(expected):
                check(empty, action, actor)
            answers["409" if row is None else "403"] += 1
            continue
        rule = check(empty, action, actor)
        held = Deal(status=status, creative_version=None, deposited_nano=1)
        assert target_of(rule, empty).value == row.target
        assert target_of(rule, held).value == (row.target_if_funded or row.target)
        answers["allowed"] += 1
        approved = Deal(status=status, creative_version=1, deposited_nano=0)
        if row.guard == NO_APPROVED_CREATIVE:
            with pytest.raises(InvalidTransition, match="A creative has been approved"):
                check(approved, action, actor)
            answers["guarded"] += 1
        else:
            assert check(approved, action, actor) is rule

    assert answers == {"allowed": 55, "409": (12 * 20 - 46) * 5, "403": 46 * 5 - 55, "guarded": 1}
