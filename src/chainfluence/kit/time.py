"""Time: the one place that reads the clock, so tests and the sandbox can move it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

UTC = dt.UTC

_offset = dt.timedelta(0)
_source: Callable[[], dt.datetime] = lambda: dt.datetime.now(UTC)  # noqa: E731


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC, shifted by any offset the sandbox applied."""
    return _source() + _offset


def advance(delta: dt.timedelta) -> None:
    """Move the clock forward (sandbox and tests only: used to let hold periods pass)."""
    global _offset
    if delta < dt.timedelta(0):
        raise ValueError("the clock only moves forward")
    _offset += delta


def offset() -> dt.timedelta:
    """How far `advance()` has moved the clock ahead of real time."""
    return _offset


def reset() -> None:
    global _offset
    _offset = dt.timedelta(0)


def as_utc(value: dt.datetime) -> dt.datetime:
    """Normalize an aware datetime to UTC; naive datetimes are a bug and are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: times must carry a timezone")
    return value.astimezone(UTC)


def from_unix(seconds: int | float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)
