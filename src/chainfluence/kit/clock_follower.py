"""Follow another process's clock: the sandbox's time shared by every process of a deployment.

`chainfluence sandbox up` owns the sandbox's clock (`POST /v1/sandbox/clock/advance` moves it).
An `api` or `worker` pointed at it (`CHAINFLUENCE_SANDBOX__URL`) reads its offset at start-up and
then every `clock_poll_seconds`, and moves its own clock (``kit.time``) forward to match, so a
deadline falls due in every process at once (within one poll). Only the offset travels, not the
time itself, so the machines' clocks need not agree to the millisecond. Time never moves back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

import httpx

from chainfluence.kit import time as clock

__all__ = ["ClockFollower", "ClockUnreachable"]

log = logging.getLogger(__name__)

CLOCK_PATH = "/v1/sandbox/clock"


class ClockUnreachable(RuntimeError):
    pass


class ClockFollower:
    def __init__(self, url: str, *, interval: float, start_timeout: float = 15.0) -> None:
        self.url = url.rstrip("/")
        self.interval = interval
        self.start_timeout = start_timeout
        self._client = httpx.AsyncClient(base_url=self.url, timeout=5)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Take the sandbox's time before anything runs (waiting a little for it to come up),
        then keep following it in the background."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout
        while True:
            try:
                await self.sync()
                break
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                if loop.time() >= deadline:
                    await self._client.aclose()
                    raise ClockUnreachable(
                        f"The sandbox at {self.url} (CHAINFLUENCE_SANDBOX__URL) does not answer "
                        f"{CLOCK_PATH}: {exc or type(exc).__name__}. Start `chainfluence sandbox "
                        "up` first, or unset the setting."
                    ) from None
                await asyncio.sleep(0.5)
        log.info("following the sandbox clock at %s (%s ahead)", self.url, clock.offset())
        self._task = asyncio.create_task(self._follow())

    async def sync(self) -> None:
        response = await self._client.get(CLOCK_PATH)
        response.raise_for_status()
        remote = dt.timedelta(seconds=float(response.json()["offsetSeconds"]))
        if remote > clock.offset():
            clock.advance(remote - clock.offset())

    async def _follow(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sync()
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                if not failing:
                    log.warning("the sandbox clock at %s is not answering: %s", self.url, exc)
                failing = True
                continue
            if failing:
                log.info("the sandbox clock at %s answers again", self.url)
                failing = False

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()
