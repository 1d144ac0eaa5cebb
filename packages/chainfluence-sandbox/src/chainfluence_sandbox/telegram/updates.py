"""Update delivery: a per-bot queue read by getUpdates (long poll) or pushed to a webhook.

Semantics follow the Bot API server: update ids increase by one; `offset` confirms (forgets) every
update below it, a negative offset keeps only the last -offset; a second getUpdates supersedes a
pending one with 409; updates of types outside `allowed_updates` are not even queued. Webhook
deliveries go one at a time in order, each retried with growing delays until the endpoint answers
2xx, carrying `X-Telegram-Bot-Api-Secret-Token` when a secret was set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from chainfluence_sandbox.telegram.errors import conflict

log = logging.getLogger(__name__)

UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# Telegram leaves these out unless a bot asks for them explicitly.
OPT_IN_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
DEFAULT_ALLOWED = frozenset(UPDATE_TYPES) - OPT_IN_TYPES


class UpdateQueue:
    def __init__(self) -> None:
        self._items: deque[dict[str, Any]] = deque()
        self._next_id = 1
        self.allowed: frozenset[str] = DEFAULT_ALLOWED
        self._changed = asyncio.Event()
        self._active_poll: object | None = None
        self._abort_reason = "other"

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting here now (tests wait for it to arrive)."""
        return self._active_poll is not None

    # --- producing ------------------------------------------------------------------------------

    def push(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update; returns its update_id, or None when the bot does not want this type."""
        if kind not in self.allowed:
            return None
        update_id = self._next_id
        self._next_id += 1
        self._items.append({"update_id": update_id, kind: payload})
        self._pulse()
        return update_id

    def set_allowed(self, raw: list[str] | None) -> None:
        """As the Bot API server: a missing list changes nothing; no known type means defaults."""
        if raw is None:
            return
        known = frozenset(kind for kind in raw if kind in UPDATE_TYPES)
        self.allowed = known or DEFAULT_ALLOWED

    def allowed_list(self) -> list[str] | None:
        """For getWebhookInfo: only reported when different from the default."""
        if self.allowed == DEFAULT_ALLOWED:
            return None
        return [kind for kind in UPDATE_TYPES if kind in self.allowed]

    # --- consuming ------------------------------------------------------------------------------

    @property
    def pending_count(self) -> int:
        return len(self._items)

    def peek(self, limit: int = 100) -> list[dict[str, Any]]:
        return [self._items[i] for i in range(min(limit, len(self._items)))]

    def confirm_below(self, update_id: int) -> None:
        while self._items and self._items[0]["update_id"] < update_id:
            self._items.popleft()

    def keep_last(self, count: int) -> None:
        while len(self._items) > count:
            self._items.popleft()

    def clear(self) -> None:
        """Drop queued updates (drop_pending_updates); the bot's allowed_updates stay."""
        self._items.clear()

    def reset(self) -> None:
        """Drop queued updates and forget the bot's allowed_updates, as for a fresh world."""
        self._items.clear()
        self.allowed = DEFAULT_ALLOWED

    @property
    def next_update_id(self) -> int:
        return self._next_id

    def discard_from(self, update_id: int) -> None:
        """Forget updates queued since `update_id` (for setting up a past that sent nothing)."""
        while self._items and self._items[-1]["update_id"] >= update_id:
            self._items.pop()

    async def poll(
        self,
        *,
        offset: int,
        limit: int,
        timeout: float,
        disconnected: Callable[[], Awaitable[bool]] | None = None,
    ) -> list[dict[str, Any]]:
        """getUpdates: confirm by offset, then return up to `limit` updates, waiting `timeout`."""
        self.abort_poll("other")
        token = object()
        self._active_poll = token
        try:
            if offset < 0:
                self.keep_last(-offset)
            elif offset > 0:
                self.confirm_below(offset)
            deadline = time.monotonic() + timeout
            while True:
                if self._active_poll is not token:
                    return self._superseded()
                batch = self.peek(limit)
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0:
                    return batch
                changed = self._changed
                try:
                    await asyncio.wait_for(changed.wait(), timeout=min(0.5, remaining))
                except TimeoutError:
                    if disconnected is not None and await disconnected():
                        return []
        finally:
            if self._active_poll is token:
                self._active_poll = None

    def abort_poll(self, reason: str) -> None:
        """Supersede a pending long poll: "other" (getUpdates), "webhook" or "closed"."""
        if self._active_poll is not None:
            self._active_poll = None
            self._abort_reason = reason
            self._pulse()

    def release_pollers(self) -> None:
        self.abort_poll("closed")

    def _superseded(self) -> list[dict[str, Any]]:
        if self._abort_reason == "webhook":
            raise conflict("terminated by setWebhook request")
        if self._abort_reason == "other":
            raise conflict(
                "terminated by other getUpdates request; "
                "make sure that only one bot instance is running"
            )
        return []

    async def wait_changed(self) -> None:
        await self._changed.wait()

    def _pulse(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


ReplyHandler = Callable[[httpx.Response], Awaitable[None]]


@dataclass
class WebhookConfig:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: int = 0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return bool(self.url)

    def start(
        self,
        queue: UpdateQueue,
        *,
        now: Callable[[], int],
        retry_initial: float,
        retry_max: float,
        on_reply: ReplyHandler,
    ) -> None:
        self.cancel()
        self._task = asyncio.get_running_loop().create_task(
            self._deliver(queue, now, retry_initial, retry_max, on_reply),
            name=f"telegram-emulator-webhook:{self.url}",
        )

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def reset(self) -> None:
        self.cancel()
        self.url = ""
        self.secret_token = None
        self.ip_address = None
        self.last_error_date = None
        self.last_error_message = None

    async def _deliver(
        self,
        queue: UpdateQueue,
        now: Callable[[], int],
        retry_initial: float,
        retry_max: float,
        on_reply: ReplyHandler,
    ) -> None:
        delay = retry_initial
        headers = {"Content-Type": "application/json"}
        if self.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.secret_token
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0)) as client:
            while True:
                pending = queue.peek(1)
                if not pending:
                    await queue.wait_changed()
                    continue
                update = pending[0]
                error: str | None = None
                response: httpx.Response | None = None
                try:
                    response = await client.post(
                        self.url, content=json.dumps(update, ensure_ascii=False), headers=headers
                    )
                    if not 200 <= response.status_code <= 299:
                        error = (
                            "Wrong response from the webhook: "
                            f"{response.status_code} {response.reason_phrase}"
                        )
                except httpx.ConnectError:
                    error = "Connection refused"
                except httpx.TimeoutException:
                    error = "Read timeout expired"
                except httpx.HTTPError as exc:
                    error = f"Connection failed: {exc}"
                if error is not None or response is None:
                    self.last_error_date = now()
                    self.last_error_message = error
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, retry_max)
                    continue
                delay = retry_initial
                queue.confirm_below(update["update_id"] + 1)
                self.delivered += 1
                try:
                    await on_reply(response)
                except Exception:  # a bad reply must not stop deliveries
                    log.exception("telegram emulator: failed to run the method in a webhook reply")
