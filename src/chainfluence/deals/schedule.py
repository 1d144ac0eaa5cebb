"""A deal's clock: format holds from settings, deadlines of the waiting states, probe times."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

from chainfluence.config import DealSettings
from chainfluence.formats import AdFormat, FormatSpec, format_spec


def spec_for(fmt: AdFormat, settings: DealSettings) -> FormatSpec:
    return format_spec(
        fmt,
        eternal_hold=dt.timedelta(days=settings.eternal_hold_days),
        test_hold=dt.timedelta(seconds=settings.test_hold_seconds),
    )


def deposit_deadline(
    now: dt.datetime, scheduled_at: dt.datetime | None, settings: DealSettings
) -> dt.datetime:
    """Within the deposit window, cut short to the scheduled time, but never under 30 minutes."""
    deadline = now + dt.timedelta(hours=settings.deposit_window_hours)
    if scheduled_at is not None:
        deadline = min(deadline, scheduled_at)
    return max(deadline, now + dt.timedelta(minutes=30))


def creative_deadline(
    now: dt.datetime, scheduled_at: dt.datetime | None, settings: DealSettings
) -> dt.datetime:
    """The creative must be approved by the scheduled time (or within the creative window)."""
    if scheduled_at is not None:
        return max(scheduled_at, now + dt.timedelta(minutes=30))
    return now + dt.timedelta(hours=settings.creative_window_hours)


def posting_deadline(creative_deadline_at: dt.datetime, settings: DealSettings) -> dt.datetime:
    return creative_deadline_at + dt.timedelta(hours=settings.posting_grace_hours)


def probe_times(
    posted_at: dt.datetime, hold_until: dt.datetime, count: int, rng: random.Random | None = None
) -> list[dt.datetime]:
    """`count` random moments inside the hold, then its end (the final check).

    One moment in each of `count` equal slices of the hold: unpredictable, so a publisher cannot
    take the post down between known checks, yet spread over the whole hold, never bunched.
    """
    rng = rng or random.SystemRandom()
    slice_seconds = (hold_until - posted_at).total_seconds() / max(count, 1)
    moments = [
        posted_at + dt.timedelta(seconds=slice_seconds * (index + rng.uniform(0.05, 0.95)))
        for index in range(count)
    ]
    return [*(m for m in moments if posted_at < m < hold_until), hold_until]


def next_probe(schedule: Sequence[str]) -> dt.datetime | None:
    return dt.datetime.fromisoformat(schedule[0]) if schedule else None
