"""Chain jobs: send payout orders right after they are made (the wallet loop is the fallback)."""

from __future__ import annotations

import asyncio
import logging

from chainfluence import jobs
from chainfluence.jobs import JobContext
from chainfluence.ton.actions import SEND_JOB

log = logging.getLogger(__name__)

# If another pass holds the sender role, it may have read the orders before this one committed:
# wait for it to finish (briefly) rather than leave the order to the next loop period.
_LOCK_ATTEMPTS = 50
_LOCK_PAUSE_SECONDS = 0.1


@jobs.job(SEND_JOB)
async def send_payouts(ctx: JobContext) -> None:
    wallet = ctx.runtime.payout_sender
    if wallet is None:
        # No TON endpoint or wallet here; a process that has them finds the order in its loop.
        log.info("payout orders wait for a process with the platform wallet")
        return
    for _ in range(_LOCK_ATTEMPTS):
        if await wallet.process() is not None:
            return
        await asyncio.sleep(_LOCK_PAUSE_SECONDS)
    log.info("the platform wallet is busy elsewhere; its loop sends the new order")
