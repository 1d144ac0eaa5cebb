"""The platform fee: integer nanotons, rounded down, within 0–10,000 bps (pure arithmetic; the
running-app check of a non-default fee is tests/deals/test_settings_end_to_end.py)."""

from __future__ import annotations

import pytest

from chainfluence.deals.service import platform_fee


@pytest.mark.parametrize(
    ("price_nano", "fee_bps", "fee_nano"),
    [
        (10 * 10**9, 500, 500_000_000),
        (
            7_777_777_777,
            730,
            567_777_777,
        ),  # 567,777,777.72…: the remainder stays with the publisher
        (9_999, 1, 0),  # under a nanoton
        (10_000, 1, 1),
        (0, 500, 0),
        (10**9, 0, 0),
        (10**9, 10_000, 10**9),
        (2**63 - 1, 10_000, 2**63 - 1),
    ],
)
def test_the_fee_is_the_floor_of_price_times_bps(
    price_nano: int, fee_bps: int, fee_nano: int
) -> None:
    assert platform_fee(price_nano, fee_bps) == fee_nano


@pytest.mark.parametrize(("price_nano", "fee_bps"), [(-1, 500), (10**9, -1), (10**9, 10_001)])
def test_a_negative_price_or_a_fee_outside_0_to_10000_bps_is_refused(
    price_nano: int, fee_bps: int
) -> None:
    with pytest.raises(ValueError, match="price must be non-negative"):
        platform_fee(price_nano, fee_bps)
