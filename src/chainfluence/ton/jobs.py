"""Chain jobs: send payout orders right after they are made (the wallet loop is the fallback)."""

from __future__ import annotations

import logging

from chainfluence import jobs
from chainfluence.jobs import JobContext
from chainfluence.ton.actions import SEND_JOB

log = logging.getLogger(__name__)


@jobs.job(SEND_JOB)
async def send_payouts(ctx: JobContext) -> None:
    chain = ctx.runtime.chain
    if chain is None or chain.wallet is None:
        # No TON endpoint or wallet here; a process that has them finds the order in its loop.
        log.info("payout orders wait for a process with the platform wallet")
        return
    await chain.wallet.process()
