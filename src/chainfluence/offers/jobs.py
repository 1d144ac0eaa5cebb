"""Offer sweeps: pending offers lapse at their date or their campaign's deadline."""

from __future__ import annotations

import logging

from chainfluence.jobs import periodic
from chainfluence.offers import service
from chainfluence.ports import Sessions

log = logging.getLogger(__name__)

BATCH = 500


@periodic("offers.sweep_expired", every_seconds=60)
async def sweep_expired(runtime: Sessions) -> None:
    """Mark lapsed offers `expired`, a batch per transaction (decisions re-check the time anyway,
    so a late sweep never lets a lapsed offer be accepted)."""
    while True:
        async with runtime.session() as session:
            expired = await service.expire_due(session, limit=BATCH)
        if expired:
            log.info("expired %d offers", expired)
        if expired < BATCH:
            return
