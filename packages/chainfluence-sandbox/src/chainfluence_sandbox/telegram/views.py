"""How a channel's posts gather views over time in the emulator: a curve per channel.

A post's views are the views it was created or set with plus the channel's curve at the post's
age, read on the emulator's clock (which follows the project's clock), so a series read at
+1 h, +24 h, +48 h looks like Telegram's:

- `organic`: views saturate towards `reach`: ``reach * (1 - 2 ** (-age_h / half_life_hours))``
  (half the reach after `half_life_hours`, most of it within a few days), as real audiences do.
- `bot_wall`: every post shows `reach` views from the moment it is posted, whatever its age: the
  flat series of views bought from bots.
- `spike`: organic, plus `spike_views` added at once when the post reaches `spike_at_hours`:
  a bought batch of views landing on a post.

Forwards follow views: ``views * forward_per_mille // 1000``. Whole numbers throughout, so a
series is exactly reproducible from the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chainfluence_sandbox.telegram.errors import EmulatorUsageError

__all__ = ["CurveKind", "ViewCurve"]


class CurveKind(StrEnum):
    ORGANIC = "organic"
    BOT_WALL = "bot_wall"
    SPIKE = "spike"


@dataclass(frozen=True, slots=True)
class ViewCurve:
    kind: CurveKind
    reach: int
    half_life_hours: float = 12.0
    spike_at_hours: float = 6.0
    spike_views: int = 0
    forward_per_mille: int = 0

    def __post_init__(self) -> None:
        if self.reach < 0 or self.spike_views < 0 or self.forward_per_mille < 0:
            raise EmulatorUsageError("reach, spike_views and forward_per_mille can't be negative")
        if self.half_life_hours <= 0:
            raise EmulatorUsageError("half_life_hours must be positive")
        if self.spike_at_hours < 0:
            raise EmulatorUsageError("spike_at_hours can't be negative")

    def views_at(self, age_seconds: float) -> int:
        """Views the curve adds to a post `age_seconds` old."""
        age_hours = max(age_seconds, 0.0) / 3600
        if self.kind == CurveKind.BOT_WALL:
            return self.reach
        organic = int(self.reach * (1 - 2 ** (-age_hours / self.half_life_hours)))
        if self.kind == CurveKind.SPIKE and age_hours >= self.spike_at_hours:
            return organic + self.spike_views
        return organic

    def forwards_for(self, views: int) -> int:
        return views * self.forward_per_mille // 1000
