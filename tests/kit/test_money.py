"""TON amounts rendered as JSON numbers are the float nearest the exact nanoton value."""

from __future__ import annotations

import random

from chainfluence.kit.money import MAX_NANO, NANO_PER_TON, nano_to_ton, ton_number

_RNG = random.Random(20240601)
_AMOUNTS = [
    0,
    1,
    999_999_999,
    NANO_PER_TON,
    1_500_000_000,
    123_456_789_123_456_789,
    MAX_NANO,
    # Prices with every number of decimals, and 17-19 significant digits where a naive float
    # conversion of the parts would round twice.
    *(_RNG.randint(1, 10**k) for k in range(1, 19) for _ in range(50)),
]


def test_ton_number_is_the_float_nearest_the_exact_amount() -> None:
    wrong = [nano for nano in _AMOUNTS if ton_number(nano) != float(nano_to_ton(nano))]
    assert wrong == []
