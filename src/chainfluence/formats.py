"""Ad formats: how long a post stays on top and in the feed, and the hold verification enforces."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class AdFormat(StrEnum):
    one_24 = "1/24"
    two_48 = "2/48"
    three_72 = "3/72"
    eternal = "eternal"
    test = "test"


@dataclass(frozen=True, slots=True)
class FormatSpec:
    format: AdFormat
    title: str
    # Hours as the newest post in the channel (nothing newer may be posted meanwhile).
    top: dt.timedelta
    # How long the post must stay up, unchanged, before the escrow is released.
    hold: dt.timedelta


# `eternal` posts are never supposed to come down; the escrow is released after a hold
# (configurable, default 30 days). `test` is a few minutes, for demos and tests.
DEFAULT_ETERNAL_HOLD = dt.timedelta(days=30)
DEFAULT_TEST_HOLD = dt.timedelta(minutes=5)


def format_spec(
    fmt: AdFormat,
    *,
    eternal_hold: dt.timedelta = DEFAULT_ETERNAL_HOLD,
    test_hold: dt.timedelta = DEFAULT_TEST_HOLD,
) -> FormatSpec:
    if fmt is AdFormat.one_24:
        return FormatSpec(fmt, "1 hour on top, 24 hours in the feed", _h(1), _h(24))
    if fmt is AdFormat.two_48:
        return FormatSpec(fmt, "2 hours on top, 48 hours in the feed", _h(2), _h(48))
    if fmt is AdFormat.three_72:
        return FormatSpec(fmt, "3 hours on top, 72 hours in the feed", _h(3), _h(72))
    if fmt is AdFormat.eternal:
        return FormatSpec(fmt, "kept forever", dt.timedelta(0), eternal_hold)
    return FormatSpec(fmt, "test post (a few minutes)", dt.timedelta(0), test_hold)


def _h(hours: int) -> dt.timedelta:
    return dt.timedelta(hours=hours)
