"""A thin Bot API client: the calls the product makes itself, without aiogram.

API requests ask Telegram a few questions (what is this chat, what rights do the bot and the
caller hold in it, who administers it, how many subscribers), publish a deal's post (the
publisher's "post now"), and the API sets its webhook at start-up. Those are plain JSON (or
multipart) calls; aiogram would cost the process about 130 MB of memory for them. aiogram's bot
and dispatcher stay where updates are handled and pushes sent (the worker, `chainfluence
serve`), built on first use (`Runtime.dispatcher`).

The calls go to api.telegram.org, or to `telegram.api_base_url` (a self-hosted Bot API server or
the sandbox emulator) as `<base>/bot<token>/<method>`, like aiogram's
`TelegramAPIServer.from_base`. Telegram's errors become the exceptions below, named after the
answer (400, 401, 403, 429, 5xx, network). A 429 is slept through and the call repeated, a
bounded number of times, and sends queue behind Telegram's send limits in the shared limiter,
as aiogram's request middlewares (`telegram.middlewares`) do for the dispatcher's bot.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

import httpx
from prometheus_client import Counter

from chainfluence.kit.ratelimit import RateLimiter

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.telegram.org"
# Seconds for one Bot API call.
REQUEST_TIMEOUT = 30.0

# Calls that send a message into a chat, held to Telegram's send limits (as in middlewares.py).
SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendMediaGroup", "copyMessage", "forwardMessage"}
)

BOT_API_FLOOD = Counter(
    "chainfluence_bot_api_429_total", "Bot API calls answered 429 (flood limit)", ["method"]
)


class BotApiError(Exception):
    """Telegram answered with an error; `message` is its description."""

    def __init__(self, method: str, message: str) -> None:
        super().__init__(f"Telegram server says - {message}")
        self.method = method
        self.message = message


class BadRequest(BotApiError):
    pass


class Unauthorized(BotApiError):
    pass


class Forbidden(BotApiError):
    pass


class RetryAfter(BotApiError):
    def __init__(self, method: str, message: str, retry_after: int) -> None:
        super().__init__(method, message)
        self.retry_after = retry_after


class ServerError(BotApiError):
    pass


class NetworkError(BotApiError):
    """No answer (connection refused, timeout) or one that is not the Bot API's."""


def _error(method: str, status: int, body: dict[str, Any]) -> BotApiError:
    message = str(body.get("description") or f"HTTP {status}")
    code = int(body.get("error_code") or status)
    if code == 429:
        retry_after = int((body.get("parameters") or {}).get("retry_after") or 1)
        return RetryAfter(method, message, retry_after)
    if code == 401:
        return Unauthorized(method, message)
    if code == 403:
        return Forbidden(method, message)
    if code >= 500:
        return ServerError(method, message)
    return BadRequest(method, message)


class SendLimits:
    """Telegram's send limits (~1 message per second per chat, ~30 overall), counted in the
    runtime's limiter (Redis when configured) so every process queues behind the same windows.
    An album counts as one message per photo."""

    def __init__(
        self, limiter: RateLimiter, *, per_chat: str, overall: str, max_wait: float = 30.0
    ) -> None:
        self.limiter = limiter
        self.per_chat = per_chat
        self.overall = overall
        self.max_wait = max_wait

    async def wait(self, bot_id: int, chat_id: Any, count: int) -> None:
        for _ in range(count):
            # The margin absorbs network jitter: Telegram counts from when calls arrive.
            await self.limiter.wait(
                self.per_chat,
                "tg-send-chat",
                str(bot_id),
                str(chat_id),
                max_wait=self.max_wait,
                margin=0.1,
            )
            await self.limiter.wait(
                self.overall, "tg-send-all", str(bot_id), max_wait=self.max_wait, margin=0.05
            )


def _form_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


class BotApi:
    """`await bot.call("getChat", chat_id=...)` returns the answer's `result` (JSON)."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        send_limits: SendLimits | None = None,
        timeout: float = REQUEST_TIMEOUT,
        max_retries: int = 3,
        max_wait: float = 30.0,
    ) -> None:
        self._token = token
        self._base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.send_limits = send_limits
        self._timeout = timeout
        self.max_retries = max_retries
        self.max_wait = max_wait
        self._client: httpx.AsyncClient | None = None

    @property
    def id(self) -> int:
        """The bot's user id: the token's first part, as Telegram issues them."""
        return int(self._token.split(":", 1)[0])

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        return self._client

    async def call(
        self, method: str, /, *, files: dict[str, tuple[str, bytes]] | None = None, **params: Any
    ) -> Any:
        """Call `method` with `params` (None values left out) and `files` (multipart parts);
        sends wait for the send limits; on 429 wait `retry_after` and repeat."""
        body = {name: value for name, value in params.items() if value is not None}
        if self.send_limits is not None and method in SEND_METHODS:
            count = len(body.get("media") or ()) if method == "sendMediaGroup" else 1
            await self.send_limits.wait(self.id, body.get("chat_id"), count)
        attempt = 0
        while True:
            try:
                return await self._call_once(method, body, files)
            except RetryAfter as exc:
                BOT_API_FLOOD.labels(method).inc()
                attempt += 1
                if attempt > self.max_retries or exc.retry_after > self.max_wait:
                    raise
                log.warning(
                    "Telegram flood limit on %s: retrying in %s s (attempt %s)",
                    method,
                    exc.retry_after,
                    attempt,
                )
                await asyncio.sleep(exc.retry_after)

    async def _call_once(
        self, method: str, body: dict[str, Any], files: dict[str, tuple[str, bytes]] | None
    ) -> Any:
        url = f"{self._base}/bot{self._token}/{method}"
        try:
            if files:
                form = {name: _form_value(value) for name, value in body.items()}
                response = await self._http().post(url, data=form, files=files)
            else:
                response = await self._http().post(url, json=body)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise NetworkError(method, f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(answer, dict):
            raise NetworkError(method, f"HTTP {response.status_code}: not a Bot API answer")
        if answer.get("ok"):
            return answer.get("result")
        raise _error(method, response.status_code, answer)

    async def delete_webhook(self, *, drop_pending_updates: bool = False) -> bool:
        return bool(await self.call("deleteWebhook", drop_pending_updates=drop_pending_updates))

    async def download(self, file_id: str) -> io.BytesIO:
        """A file the bot can see (getFile, then the file server's copy)."""
        found = await self.call("getFile", file_id=file_id)
        url = f"{self._base}/file/bot{self._token}/{found['file_path']}"
        try:
            response = await self._http().get(url)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise NetworkError("getFile", f"{type(exc).__name__}: {exc}") from exc
        return io.BytesIO(response.content)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
