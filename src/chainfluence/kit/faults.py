"""Fault points: places where a crash test kills the process, as `kill -9` would, mid-flight.

`CHAINFLUENCE_FAULT_POINT=<point>` arms one point in a long-running process (`serve`, `api`,
`worker`); the first time the code reaches it, the process sends itself SIGKILL: no `finally`,
no shutdown, no flush, exactly like a machine losing power there. Only the CLI arms a point, so
apps built inside a test process never kill it; production mode refuses to start with one set
(`Settings.production_problems`). Unarmed, `reached()` is a comparison and nothing else.
"""

from __future__ import annotations

import logging
import os
import signal
from enum import StrEnum

log = logging.getLogger(__name__)


class FaultPoint(StrEnum):
    # The chain watcher recorded a deposit's transaction; the deal has not moved yet (same
    # transaction: the kill must leave neither).
    deposit_recorded = "deposit_recorded"
    # Telegram confirmed the ad post; the deal does not know it yet.
    publishing = "publishing"
    # A probe forwarded the live post to the service chat; nothing is judged or recorded yet.
    probe = "probe"
    # The platform wallet broadcast a signed payout message; it is not marked broadcast yet.
    payout_broadcast = "payout_broadcast"


_armed: FaultPoint | None = None


def arm(point: FaultPoint | None) -> None:
    """Kill this process when `point` is reached (None disarms). Called by the CLI only."""
    global _armed
    _armed = point
    if point is not None:
        log.warning("fault point %s armed: this process kills itself when it gets there", point)


def reached(point: FaultPoint) -> None:
    if _armed is point:
        log.warning("fault point %s reached: SIGKILL", point)
        os.kill(os.getpid(), signal.SIGKILL)
