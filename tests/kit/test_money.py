"""TON amounts rendered as JSON numbers are the float nearest the exact nanoton value; as text,
the exact value."""

from __future__ import annotations

import random

from chainfluence.kit.money import MAX_NANO, NANO_PER_TON, format_ton, nano_to_ton, ton_number

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


def test_format_ton_is_the_text_of_the_exact_amount() -> None:
    amounts = [*_AMOUNTS, 10 * NANO_PER_TON, 100 * NANO_PER_TON + 10, -1, -1_500_000_000]
    amounts += [-nano for nano in _AMOUNTS]
    wrong = [nano for nano in amounts if format_ton(nano) != format(nano_to_ton(nano), "f")]
    assert wrong == []
    assert [format_ton(n) for n in (0, 1, 10 * NANO_PER_TON, 25_500_000_000, -1_500_000_000)] == [
        "0", "0.000000001", "10", "25.5", "-1.5"
    ]  # fmt: skip
