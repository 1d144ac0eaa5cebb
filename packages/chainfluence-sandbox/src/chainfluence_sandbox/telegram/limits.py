"""Injected failures (429 on demand), optional flood limits, and the log of Bot API calls."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chainfluence_sandbox.telegram.errors import TelegramError, too_many_requests

# Methods that put a message into a chat and so count against Telegram's flood limits.
SENDING_METHODS = frozenset(
    {"sendmessage", "sendphoto", "sendmediagroup", "copymessage", "forwardmessage"}
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    502: "Bad Gateway",
}


@dataclass
class Fault:
    method: str | None
    """Lower-cased Bot API method name, or None for any method."""
    remaining: int
    error_code: int = 429
    retry_after: int = 1
    description: str | None = None
    after_effect: bool = False
    """The call takes effect and only then fails, as when the answer is lost on the way back:
    the caller cannot tell whether it happened."""

    def error(self) -> TelegramError:
        if self.error_code == 429:
            return too_many_requests(self.retry_after)
        default = _DEFAULT_DESCRIPTIONS.get(self.error_code, "Internal Server Error")
        return TelegramError(self.error_code, self.description or default)


class FaultInjector:
    """Makes the next N calls of a method (or of any method) fail, oldest fault first."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("count must be at least 1")
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults.clear()

    def take(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.method in (None, method):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault
        return None


class RateLimiter:
    """Telegram's documented flood limits: about 1 message per second per chat, 30 overall.

    Sliding one-second windows on the monotonic clock (not the emulator clock, which tests move).
    Off by default so unrelated tests never meet it.
    """

    def __init__(self) -> None:
        self.enabled = False
        self.per_chat_per_second = 1
        self.global_per_second = 30
        # Seconds on a monotonic clock; a test may put its own here to place calls exactly.
        self.clock: Callable[[], float] = time.monotonic
        self._per_chat: dict[str, deque[float]] = {}
        self._global: deque[float] = deque()

    def configure(
        self, *, enabled: bool, per_chat_per_second: int = 1, global_per_second: int = 30
    ) -> None:
        self.enabled = enabled
        self.per_chat_per_second = per_chat_per_second
        self.global_per_second = global_per_second
        self._per_chat.clear()
        self._global.clear()

    def check(self, method: str, chat_key: str | None) -> TelegramError | None:
        if not self.enabled or method not in SENDING_METHODS:
            return None
        now = self.clock()
        windows = [(self._global, self.global_per_second)]
        if chat_key:
            windows.append((self._per_chat.setdefault(chat_key, deque()), self.per_chat_per_second))
        wait = 0.0
        for window, limit in windows:
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= limit:
                wait = max(wait, window[0] + 1.0 - now)
        if wait > 0:
            return too_many_requests(max(1, math.ceil(wait)))
        for window, _ in windows:
            window.append(now)
        return None


@dataclass
class CallRecord:
    bot_id: int
    method: str
    params: dict[str, Any]
    ok: bool
    error_code: int | None = None
    description: str | None = None
    at: float = field(default_factory=time.time)


class CallLog:
    """Every Bot API call with its outcome, newest last (bounded), for asserting on traffic."""

    def __init__(self, max_records: int = 10_000) -> None:
        self.records: deque[CallRecord] = deque(maxlen=max_records)

    def add(self, record: CallRecord) -> None:
        self.records.append(record)

    def clear(self) -> None:
        self.records.clear()

    def find(self, method: str | None = None) -> list[CallRecord]:
        wanted = method.lower() if method else None
        return [r for r in self.records if wanted is None or r.method.lower() == wanted]
