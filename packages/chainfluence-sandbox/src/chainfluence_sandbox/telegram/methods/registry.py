"""The table of Bot API methods the emulator implements, and how one call is executed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chainfluence_sandbox.telegram.errors import TelegramError, method_not_found
from chainfluence_sandbox.telegram.limits import CallRecord
from chainfluence_sandbox.telegram.params import Params
from chainfluence_sandbox.telegram.state import BotAccount, EmulatorState


@dataclass
class MethodCall:
    state: EmulatorState
    bot: BotAccount
    params: Params
    disconnected: Callable[[], Awaitable[bool]] | None = None


@dataclass
class Answer:
    """A result with the optional `description` some methods add (setWebhook: "Webhook was set")."""

    result: Any
    description: str | None = None


Handler = Callable[[MethodCall], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = handler
        return handler

    return register


async def execute(
    state: EmulatorState,
    bot: BotAccount,
    name: str,
    params: Params,
    *,
    disconnected: Callable[[], Awaitable[bool]] | None = None,
) -> dict[str, Any]:
    """Run one Bot API call and return the response body (`ok`, `result` or the error)."""
    key = name.lower()
    try:
        handler = METHODS.get(key)
        if handler is None:
            raise method_not_found()
        fault = state.faults.take(key)
        if fault is not None and not fault.after_effect:
            raise fault.error()
        limited = state.rate_limiter.check(key, params.get_str("chat_id"))
        if limited is not None:
            raise limited
        outcome = await handler(MethodCall(state, bot, params, disconnected))
        if fault is not None:
            raise fault.error()
    except TelegramError as error:
        state.calls.add(
            CallRecord(
                bot_id=bot.id,
                method=name,
                params=params.snapshot(),
                ok=False,
                error_code=error.error_code,
                description=error.description,
            )
        )
        return error.payload()
    state.calls.add(CallRecord(bot_id=bot.id, method=name, params=params.snapshot(), ok=True))
    if isinstance(outcome, Answer):
        body: dict[str, Any] = {"ok": True, "result": outcome.result}
        if outcome.description:
            body["description"] = outcome.description
        return body
    return {"ok": True, "result": outcome}
