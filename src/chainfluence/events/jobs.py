"""Events jobs: the outbox's retention sweep.

`user_events` rows exist for `Last-Event-ID` replays; a client away longer than
`events.retention_days` reloads its lists instead. The sweep deletes older rows, oldest first in
batches of at most `BATCH` ids, each in its own short transaction, walking the primary key (ids
are given out in the order rows are written, so the old rows are the first ids; a younger row
among them, from a replica's clock a little ahead, is stepped over) until a batch holds no old
row: no index on the time, and no long lock over a big table.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from chainfluence.events import repository
from chainfluence.jobs import periodic
from chainfluence.kit.time import utcnow
from chainfluence.ports import Configured, Sessions


class _Ports(Sessions, Configured, Protocol):
    """What this module needs of the process."""


BATCH = 5_000


@periodic("events.prune_outbox", every_seconds=3600)
async def prune_outbox(runtime: _Ports) -> None:
    await prune(runtime)


async def prune(runtime: _Ports) -> int:
    """Delete outbox rows older than the retention; how many were deleted."""
    cutoff = utcnow() - dt.timedelta(days=runtime.settings.events.retention_days)
    deleted, after = 0, 0
    while True:
        async with runtime.session() as session:
            count, last = await repository.prune(
                session, older_than=cutoff, after_id=after, limit=BATCH
            )
        deleted += count
        # A batch with no old row ends the walk: later ids were written later.
        if count == 0 or last is None:
            return deleted
        after = last
