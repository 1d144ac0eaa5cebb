"""Channel trust score: 0-100, from the channel's own view series and subscriber history.

The score starts at 100; each signal below takes points off and says why. It is computed only
from readings we took ourselves (`post_view_snapshots`, `channel_subscriber_readings`), never
estimated: with fewer than `MIN_POSTS` posts read both young (under 6 h) and mature (24 h or
older) it is null, and the reason says how many there are.

Signals (points off):
* **bot wall** (-40): views that do not grow with age. Per post, the share of its latest mature
  reading that its first young reading already had; an audience reads a post over a day or two
  (typically 10-50 % of the 24 h views in the first hours), bought views land at once. Applies
  when the median share over the posts is at least 90 %.
* **view velocity step** (up to -35): organic views/hour only fall as a post ages. A post whose
  views/hour between two readings is more than 3x that between the previous two (counting the
  post's start at 0 views), adding at least 20 % of its views, got a batch of views at once.
  ``round(35 * flagged posts / posts)``.
* **ERR24 band**: ERR24 (views at 24 h / subscribers) under 2 % (-20: most subscribers never
  read: bought subscribers) or over 80 % (-15: more readers than an audience that size gives).
  Skipped while ERR24 is unknown.
* **forward rate** (-10): under 1 forward per 2,000 views over mature readings of at least
  2,000 views in all (real readers forward; bots do not). Skipped when the provider does not see
  forwards (only MTProto does).
* **subscriber jump** (-25): subscribers up 20 % or more between two readings while the views at
  24 h of posts published after the jump are less than 5 % above those of posts before it.
  Skipped until a post after the jump has its 24 h reading.

score = max(0, 100 + sum of points). `reasons` lists every signal that took points off;
`checked` names the signals evaluated, `skipped` the others with why.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

MIN_POSTS = 3
YOUNG = 6 * 3600
MATURE = 24 * 3600
BOT_WALL_SHARE = 0.9
BOT_WALL_POINTS = -40
STEP_FACTOR = 3
STEP_SHARE = 0.2
STEP_POINTS = 35
ERR_LOW, ERR_LOW_POINTS = 2.0, -20
ERR_HIGH, ERR_HIGH_POINTS = 80.0, -15
FORWARD_MIN_VIEWS = 2_000
FORWARD_RATE = 1 / 2_000
FORWARD_POINTS = -10
JUMP_SHARE = 0.2
JUMP_VIEW_GROWTH = 0.05
JUMP_POINTS = -25


class Reading(Protocol):
    """One post's views at one age (a `PostViewSnapshot`)."""

    @property
    def message_id(self) -> int: ...
    @property
    def taken_at(self) -> dt.datetime: ...
    @property
    def age_seconds(self) -> int: ...
    @property
    def views(self) -> int: ...
    @property
    def forwards(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class SubscriberReading:
    taken_at: dt.datetime
    subscribers: int


@dataclass
class Trust:
    score: int | None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    missing: str | None = None


def score(
    readings: Sequence[Reading],
    subscriber_history: Sequence[SubscriberReading],
    err24_percent: float | None,
) -> Trust:
    series: dict[int, list[Reading]] = defaultdict(list)
    for reading in readings:
        series[reading.message_id].append(reading)
    for held in series.values():
        held.sort(key=lambda r: r.age_seconds)
    full = {
        message_id: held
        for message_id, held in series.items()
        if held[0].age_seconds < YOUNG and held[-1].age_seconds >= MATURE
    }
    if len(full) < MIN_POSTS:
        return Trust(
            score=None,
            missing=(
                f"needs {MIN_POSTS} posts read both under 6 hours and at 24 hours or older; "
                f"has {len(full)}"
            ),
        )
    trust = Trust(score=None)
    _bot_wall(trust, full)
    _velocity_steps(trust, full)
    _err_band(trust, err24_percent)
    _forward_rate(trust, full)
    _subscriber_jump(trust, series, subscriber_history)
    trust.score = max(0, 100 + sum(int(r["points"]) for r in trust.reasons))
    return trust


def _bot_wall(trust: Trust, full: dict[int, list[Reading]]) -> None:
    trust.checked.append("botWall")
    shares = [held[0].views / held[-1].views for held in full.values() if held[-1].views > 0]
    if not shares:
        return
    median = statistics.median(shares)
    if median >= BOT_WALL_SHARE:
        trust.reasons.append(
            {
                "signal": "botWall",
                "points": BOT_WALL_POINTS,
                "detail": (
                    f"views do not grow with age: posts had a median {median:.0%} of their "
                    f"24 h+ views within 6 hours of posting ({len(shares)} posts)"
                ),
            }
        )


def _velocity_steps(trust: Trust, full: dict[int, list[Reading]]) -> None:
    trust.checked.append("velocityStep")
    flagged = 0
    for held in full.values():
        points = [(0, 0)] + [(r.age_seconds, r.views) for r in held]
        last_views = held[-1].views
        previous: float | None = None
        for (age_a, views_a), (age_b, views_b) in itertools.pairwise(points):
            if age_b <= age_a:
                continue
            gained = views_b - views_a
            velocity = gained / (age_b - age_a)
            if (
                previous is not None
                and velocity > STEP_FACTOR * previous
                and gained >= STEP_SHARE * last_views
            ):
                flagged += 1
                break
            previous = velocity
    if flagged:
        points_off = -round(STEP_POINTS * flagged / len(full))
        trust.reasons.append(
            {
                "signal": "velocityStep",
                "points": points_off,
                "detail": (
                    f"{flagged} of {len(full)} posts gained views faster later than earlier "
                    f"(over {STEP_FACTOR}x the views/hour, at least {STEP_SHARE:.0%} of their "
                    "views at once): bought views"
                ),
            }
        )


def _err_band(trust: Trust, err24_percent: float | None) -> None:
    if err24_percent is None:
        trust.skipped["errBand"] = "ERR24 is not known yet"
        return
    trust.checked.append("errBand")
    if err24_percent < ERR_LOW:
        trust.reasons.append(
            {
                "signal": "errBand",
                "points": ERR_LOW_POINTS,
                "detail": f"ERR24 {err24_percent} % is under {ERR_LOW} %: most subscribers "
                "never read the posts",
            }
        )
    elif err24_percent > ERR_HIGH:
        trust.reasons.append(
            {
                "signal": "errBand",
                "points": ERR_HIGH_POINTS,
                "detail": f"ERR24 {err24_percent} % is over {ERR_HIGH} %: more views than an "
                "audience of that size gives",
            }
        )


def _forward_rate(trust: Trust, full: dict[int, list[Reading]]) -> None:
    mature = [held[-1] for held in full.values() if held[-1].forwards is not None]
    if not mature:
        trust.skipped["forwardRate"] = "the views provider does not report forwards"
        return
    views = sum(r.views for r in mature)
    if views < FORWARD_MIN_VIEWS:
        trust.skipped["forwardRate"] = f"under {FORWARD_MIN_VIEWS} views read at 24 h or older"
        return
    trust.checked.append("forwardRate")
    forwards = sum(r.forwards or 0 for r in mature)
    if forwards < views * FORWARD_RATE:
        trust.reasons.append(
            {
                "signal": "forwardRate",
                "points": FORWARD_POINTS,
                "detail": f"{forwards} forwards over {views} views: under 1 per "
                f"{round(1 / FORWARD_RATE)}",
            }
        )


def _subscriber_jump(
    trust: Trust,
    series: dict[int, list[Reading]],
    history: Sequence[SubscriberReading],
) -> None:
    ordered = sorted(history, key=lambda r: r.taken_at)
    jump: tuple[SubscriberReading, SubscriberReading] | None = None
    for before, after in itertools.pairwise(ordered):
        if before.subscribers and after.subscribers >= before.subscribers * (1 + JUMP_SHARE):
            jump = (before, after)
    if jump is None:
        if len(ordered) < 2:
            trust.skipped["subscriberJump"] = "fewer than two subscriber readings"
        else:
            trust.checked.append("subscriberJump")
        return
    before, after = jump
    at_24h: dict[int, tuple[dt.datetime, int]] = {}
    for message_id, held in series.items():
        for reading in held:
            if MATURE <= reading.age_seconds < 2 * MATURE:
                posted = reading.taken_at - dt.timedelta(seconds=reading.age_seconds)
                at_24h[message_id] = (posted, reading.views)
                break
    earlier = [views for posted, views in at_24h.values() if posted <= before.taken_at]
    later = [views for posted, views in at_24h.values() if posted >= after.taken_at]
    if not earlier or not later:
        trust.skipped["subscriberJump"] = (
            "no post read at 24 h on both sides of the subscriber jump yet"
        )
        return
    trust.checked.append("subscriberJump")
    views_before = statistics.mean(earlier)
    views_after = statistics.mean(later)
    if views_after < views_before * (1 + JUMP_VIEW_GROWTH):
        trust.reasons.append(
            {
                "signal": "subscriberJump",
                "points": JUMP_POINTS,
                "detail": (
                    f"subscribers rose from {before.subscribers} to {after.subscribers} "
                    f"between {before.taken_at.isoformat()} and {after.taken_at.isoformat()} "
                    f"while views at 24 h went from {round(views_before)} to "
                    f"{round(views_after)}"
                ),
            }
        )
