"""Garbage collector settings for long-running processes.

Start-up leaves several hundred thousand long-lived objects (modules, ORM mappers, pydantic
schemas, routes, the runtime). CPython's cyclic collector walks all of them on every full
collection, and request traffic triggers those often: under catalogue load the API spent about
140 ms per full collection, fifteen times in ten seconds, a quarter of its CPU. Frozen objects
are skipped by every collection; what requests create is still collected as usual.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def startup_objects_frozen() -> Iterator[None]:
    """Exclude everything alive now from garbage collection until the block exits.

    Unfrozen on exit, so an application built and shut down per test leaks nothing; a cycle
    that became garbage while frozen is collected after that.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
