"""Garbage collector settings for long-running processes.

Start-up leaves several hundred thousand long-lived objects (modules, ORM mappers, pydantic
schemas, routes, the runtime). CPython's cyclic collector walks all of them on every full
collection, and request traffic triggers those often: under catalogue load the API spent about
140 ms per full collection, fifteen times in ten seconds, a quarter of its CPU. Frozen objects
are skipped by every collection; what requests create later is still collected as usual.

Only the commands that own their process call this (`serve`, `api`, `worker`), once, after
start-up: a process that builds and drops apps (the tests, the demo) would freeze its garbage
too, and with it whatever that garbage still holds (a SQLite connection's write lock).
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Exclude everything alive now from garbage collection for the rest of the process."""
    gc.collect()
    gc.freeze()
