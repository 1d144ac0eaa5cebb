"""Logging for loops that repeat a cycle (the chain watcher, the platform wallet, sweeps).

A dependency that is down makes every cycle fail the same way; a traceback per cycle buries
everything else. Each failing cycle logs one line; an unexpected error (a bug rather than an
outage) also logs its traceback, once per streak; the first success after failures says so.
"""

from __future__ import annotations

import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError

__all__ = ["CycleLog", "is_outage", "one_line"]

# Errors that mean "a service is unreachable or failing", for which a traceback says nothing.
_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    DBAPIError,
    RedisConnectionError,
    RedisTimeoutError,
)


def is_outage(exc: BaseException, extra: tuple[type[BaseException], ...] = ()) -> bool:
    return isinstance(exc, (*_OUTAGES, *extra))


def one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


class CycleLog:
    def __init__(
        self, logger: logging.Logger, what: str, *, outages: tuple[type[BaseException], ...] = ()
    ) -> None:
        """`outages`: error types besides the standard ones that mean a service is down."""
        self.log = logger
        self.what = what
        self.outages = outages
        self.failures = 0

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        first = self.failures == 1
        self.log.warning(
            "%s failed (%d in a row): %s",
            self.what,
            self.failures,
            one_line(exc),
            exc_info=exc if first and not is_outage(exc, self.outages) else None,
        )

    def succeeded(self) -> None:
        if self.failures:
            self.log.info("%s recovered after %d failed cycle(s)", self.what, self.failures)
            self.failures = 0
