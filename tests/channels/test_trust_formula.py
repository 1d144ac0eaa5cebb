"""The trust formula's signals that the sandbox test does not reach: ERR bands and a subscriber
jump without view growth, on hand-made series."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chainfluence.channels import trust

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
HOUR = 3600


@dataclass(frozen=True)
class Read:
    message_id: int
    taken_at: dt.datetime
    age_seconds: int
    views: int
    forwards: int | None = None


def _organic_post(message_id: int, posted: dt.datetime, views_24h: int) -> list[Read]:
    return [
        Read(message_id, posted + dt.timedelta(hours=1), HOUR, views_24h // 5, views_24h // 100),
        Read(message_id, posted + dt.timedelta(hours=25), 25 * HOUR, views_24h, views_24h // 100),
    ]


def _posts(views_24h: list[int], start: dt.datetime = T0) -> list[Read]:
    reads: list[Read] = []
    for number, views in enumerate(views_24h):
        reads += _organic_post(number + 1, start + dt.timedelta(days=number), views)
    return reads


def test_too_few_posts_read_young_and_mature_give_no_score() -> None:
    result = trust.score(_posts([1_000, 1_000]), [], err24_percent=20.0)

    assert result.score is None
    assert result.missing is not None
    assert result.missing.endswith("has 2")


def test_err24_under_two_percent_or_over_eighty_takes_points_off() -> None:
    low = trust.score(_posts([1_000] * 3), [], err24_percent=1.5)
    high = trust.score(_posts([1_000] * 3), [], err24_percent=95.0)
    usual = trust.score(_posts([1_000] * 3), [], err24_percent=25.0)
    unknown = trust.score(_posts([1_000] * 3), [], err24_percent=None)

    assert (low.score, [r["signal"] for r in low.reasons]) == (80, ["errBand"])
    assert (high.score, [r["signal"] for r in high.reasons]) == (85, ["errBand"])
    assert usual.score == 100
    assert unknown.score == 100
    assert unknown.skipped["errBand"] == "ERR24 is not known yet"


def test_a_subscriber_jump_without_view_growth_takes_25_points() -> None:
    reads = _posts([1_000, 1_000, 1_000, 1_010, 990])  # posts on days 0-4
    history = [
        trust.SubscriberReading(T0, 5_000),
        trust.SubscriberReading(T0 + dt.timedelta(days=2, hours=12), 5_000),
        trust.SubscriberReading(T0 + dt.timedelta(days=2, hours=13), 9_000),
    ]

    result = trust.score(reads, history, err24_percent=20.0)

    assert result.score == 75
    (reason,) = result.reasons
    assert reason["signal"] == "subscriberJump"
    assert "from 5000 to 9000" in reason["detail"]
    assert "from 1000 to 1000" in reason["detail"]


def test_a_subscriber_jump_that_brings_readers_is_fine() -> None:
    reads = _posts([1_000, 1_000, 1_000, 1_700, 1_800])
    history = [
        trust.SubscriberReading(T0 + dt.timedelta(days=2, hours=12), 5_000),
        trust.SubscriberReading(T0 + dt.timedelta(days=2, hours=13), 9_000),
    ]

    result = trust.score(reads, history, err24_percent=20.0)

    assert result.score == 100
    assert "subscriberJump" in result.checked


def test_a_jump_with_no_post_after_it_read_at_24h_is_skipped() -> None:
    history = [
        trust.SubscriberReading(T0 + dt.timedelta(days=9), 5_000),
        trust.SubscriberReading(T0 + dt.timedelta(days=10), 9_000),
    ]

    result = trust.score(_posts([1_000] * 3), history, err24_percent=20.0)

    assert result.score == 100
    assert "both sides" in result.skipped["subscriberJump"]
