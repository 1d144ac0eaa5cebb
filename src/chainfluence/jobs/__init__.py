"""Background jobs: a registry of `domain.verb` handlers, an in-process runner and BullMQ on Redis.

The database is the truth and queues are an accelerator (DESIGN §6): every waiting state has a due
time, periodic sweeps re-enqueue due work with a dedup key, and handlers take ids, open their own
session, re-check state and are idempotent. Jobs queued inside a transaction are sent after it
commits and dropped if it rolls back.
"""

from chainfluence.jobs.queue import JobQueue, enqueue
from chainfluence.jobs.registry import JobContext, PermanentJobError, job, periodic

__all__ = ["JobContext", "JobQueue", "PermanentJobError", "enqueue", "job", "periodic"]
