"""The product's deal table equals the hand-written one (tests/deals/table_spec.py), both ways.

One small adapter reads `RULES` into the spec's shape; a guard is named by what it does to a deal
with and without an approved creative, not by how it is written.
"""

from __future__ import annotations

from chainfluence.deals.state_machine import RULES, Rule
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
