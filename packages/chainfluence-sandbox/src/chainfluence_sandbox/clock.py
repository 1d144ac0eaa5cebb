"""The sandbox's time across restarts.

`POST /v1/sandbox/clock/advance` moves the project clock ahead of real time; the database and the
chain then hold times from that future (deadlines, block times, the escrows' refund dates). The
offset is kept next to the SQLite database, as the chain's state and the wallets' keys are, so a
restarted sandbox resumes at the same distance ahead instead of going back behind what it
remembers.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from chainfluence.kit import time as clock

__all__ = ["restore_offset", "save_offset"]


def save_offset(path: Path | None) -> None:
    if path is None:
        return
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({"offsetSeconds": clock.offset().total_seconds()}))
    partial.replace(path)


def restore_offset(path: Path | None) -> None:
    """Move the clock to the saved offset (never back: time only moves forward)."""
    if path is None or not path.exists():
        return
    saved = dt.timedelta(seconds=float(json.loads(path.read_text())["offsetSeconds"]))
    if saved > clock.offset():
        clock.advance(saved - clock.offset())
