"""Wallet jobs: purge ton_proof challenges that expired long ago."""

from __future__ import annotations

import logging

from chainfluence.jobs import periodic
from chainfluence.kit.time import utcnow
from chainfluence.ports import Sessions
from chainfluence.wallets import repository
from chainfluence.wallets.service import PAYLOAD_RETENTION

log = logging.getLogger(__name__)


@periodic("wallets.purge_proof_payloads", every_seconds=3600)
async def purge_proof_payloads(runtime: Sessions) -> None:
    async with runtime.session() as session:
        purged = await repository.purge_payloads(session, before=utcnow() - PAYLOAD_RETENTION)
    if purged:
        log.info("purged %d expired ton_proof payloads", purged)
