"""The job registry: handlers by `domain.verb` name, and periodic sweeps.

Domains register their handlers with `@job` / `@periodic`; the wiring (`chainfluence.bootstrap`)
imports every domain's job module. This package imports no domain.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chainfluence.ports import Services

_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class PermanentJobError(Exception):
    """A failure that retrying cannot fix: the job is failed at once."""


@dataclass(frozen=True, slots=True)
class JobContext:
    runtime: Services  # the process's ports; pass on only those a service declares
    job_name: str
    attempt: int  # 1 for the first run
    max_attempts: int


JobHandler = Callable[..., Awaitable[None]]
PeriodicHandler = Callable[[Services], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    handler: JobHandler
    max_attempts: int | None


@dataclass(frozen=True, slots=True)
class PeriodicSpec:
    name: str
    handler: PeriodicHandler
    every_seconds: float | None  # None: the settings' sweep interval


_jobs: dict[str, JobSpec] = {}
_periodic: dict[str, PeriodicSpec] = {}


def _check_name(name: str, taken: dict[str, Any]) -> None:
    if not _NAME.match(name):
        raise ValueError(f"job names are `domain.verb` in snake_case, not {name!r}")
    if name in taken:
        raise ValueError(f"job {name!r} is registered twice")


def job(name: str, *, max_attempts: int | None = None) -> Callable[[JobHandler], JobHandler]:
    """Register `async def handler(ctx: JobContext, **payload)` under `name`."""

    def register(handler: JobHandler) -> JobHandler:
        _check_name(name, _jobs)
        _jobs[name] = JobSpec(name, handler, max_attempts)
        return handler

    return register


def periodic(
    name: str, *, every_seconds: float | None = None
) -> Callable[[PeriodicHandler], PeriodicHandler]:
    """Register `async def sweep(runtime)`, run every `every_seconds` by one scheduler."""

    def register(handler: PeriodicHandler) -> PeriodicHandler:
        _check_name(name, _periodic)
        _periodic[name] = PeriodicSpec(name, handler, every_seconds)
        return handler

    return register


def get_job(name: str) -> JobSpec:
    try:
        return _jobs[name]
    except KeyError:
        raise LookupError(f"no job named {name!r} is registered") from None


def job_names() -> list[str]:
    return sorted(_jobs)


def periodic_specs() -> list[PeriodicSpec]:
    return [_periodic[name] for name in sorted(_periodic)]
