"""Receiving updates: getUpdates, setWebhook, deleteWebhook, getWebhookInfo; and getFile."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import httpx

from chainfluence_sandbox.telegram.errors import bad_request, webhook_active
from chainfluence_sandbox.telegram.methods.registry import Answer, MethodCall, execute, method
from chainfluence_sandbox.telegram.params import Params, params_from_body
from chainfluence_sandbox.telegram.state import BotAccount, EmulatorState

_SECRET = re.compile(r"[A-Za-z0-9_-]*")
# A webhook reply may carry one method call, but not these (as the Bot API server rules).
_NOT_IN_REPLY = {"setwebhook", "deletewebhook", "close", "logout"}


def _allowed_updates(call: MethodCall) -> list[str] | None:
    raw = call.params.get_json("allowed_updates", what="allowed_updates")
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        return None
    return [item.lower() for item in raw]


@method("getUpdates")
async def get_updates(call: MethodCall) -> list[dict[str, Any]]:
    bot = call.bot
    if bot.webhook.active:
        raise webhook_active()
    params = call.params
    limit = min(max(params.get_int("limit", 100), 1), 100)
    timeout = min(max(params.get_int("timeout"), 0), call.state.config.long_poll_max_timeout)
    bot.updates.set_allowed(_allowed_updates(call))
    return await bot.updates.poll(
        offset=params.get_int("offset"),
        limit=limit,
        timeout=timeout,
        disconnected=call.disconnected,
    )


@method("setWebhook")
async def set_webhook(call: MethodCall) -> Answer:
    params, bot, state = call.params, call.bot, call.state
    url = params.get_str("url") or ""
    if not url:
        return await _delete(call)
    parsed = urlparse(url)
    # Telegram insists on https; the emulator also accepts http so a local bot can receive.
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise bad_request("invalid webhook URL specified")
    secret = params.get_str("secret_token") or ""
    if len(secret) > 256:
        raise bad_request("secret token is too long")
    if not _SECRET.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    if params.get_bool("drop_pending_updates"):
        bot.updates.clear()
    bot.updates.set_allowed(_allowed_updates(call))
    max_connections = min(max(params.get_int("max_connections", 40), 1), 100)
    unchanged = (
        bot.webhook.url == url
        and (bot.webhook.secret_token or "") == secret
        and bot.webhook.max_connections == max_connections
    )
    if unchanged:
        return Answer(True, "Webhook is already set")
    bot.updates.abort_poll("webhook")
    bot.webhook.reset()
    bot.webhook.url = url
    bot.webhook.secret_token = secret or None
    bot.webhook.max_connections = max_connections
    bot.webhook.ip_address = params.get_str("ip_address") or "127.0.0.1"

    async def on_reply(response: httpx.Response) -> None:
        await _run_reply(state, bot, response)

    bot.webhook.start(
        bot.updates,
        now=state.clock.now,
        retry_initial=state.config.webhook_retry_initial,
        retry_max=state.config.webhook_retry_max,
        on_reply=on_reply,
    )
    return Answer(True, "Webhook was set")


@method("deleteWebhook")
async def delete_webhook(call: MethodCall) -> Answer:
    return await _delete(call)


async def _delete(call: MethodCall) -> Answer:
    bot = call.bot
    if call.params.get_bool("drop_pending_updates"):
        bot.updates.clear()
    was_set = bot.webhook.active
    await bot.webhook.stop()
    bot.webhook.reset()
    return Answer(True, "Webhook was deleted" if was_set else "Webhook is already deleted")


@method("getWebhookInfo")
async def get_webhook_info(call: MethodCall) -> dict[str, Any]:
    bot = call.bot
    hook = bot.webhook
    info: dict[str, Any] = {
        "url": hook.url,
        "has_custom_certificate": False,
        "pending_update_count": bot.updates.pending_count,
    }
    if hook.active:
        info["max_connections"] = hook.max_connections
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        allowed = bot.updates.allowed_list()
        if allowed is not None:
            info["allowed_updates"] = allowed
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


async def _run_reply(state: EmulatorState, bot: BotAccount, response: httpx.Response) -> None:
    """Execute the method a webhook answered with, as Telegram does (the result is discarded)."""
    content_type = response.headers.get("content-type", "")
    body = response.content
    if not body.strip():
        return
    if content_type.startswith("application/json"):
        params = await params_from_body("application/json", body)
    elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        params = await params_from_body(content_type, body)
    else:
        return
    name = (params.get_str("method") or "").strip()
    key = name.lower()
    if not key or key in _NOT_IN_REPLY or key.startswith("get"):
        return
    values = {k: v for k, v in params.values.items() if k != "method"}
    await execute(state, bot, name, Params(values, params.files))


@method("getFile")
async def get_file(call: MethodCall) -> dict[str, Any]:
    stored = call.state.files.get(call.params.get_str("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.file_size,
        "file_path": stored.file_path,
    }
