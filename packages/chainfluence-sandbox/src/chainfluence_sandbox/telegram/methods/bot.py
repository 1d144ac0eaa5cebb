"""Methods about the bot itself: getMe, commands, the menu button, callback query answers."""

from __future__ import annotations

import json
import re
from typing import Any

from chainfluence_sandbox.telegram.errors import bad_request
from chainfluence_sandbox.telegram.methods.access import Access, chat_with_access
from chainfluence_sandbox.telegram.methods.registry import MethodCall, method
from chainfluence_sandbox.telegram.rendering import bot_me_json
from chainfluence_sandbox.telegram.state import ChatType

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_MENU_TYPES = {"commands", "web_app", "default"}


@method("getMe")
async def get_me(call: MethodCall) -> dict[str, Any]:
    return bot_me_json(call.bot.user)


def _commands_key(call: MethodCall) -> str:
    scope = call.params.get_json("scope", what="BotCommandScope") or {"type": "default"}
    return json.dumps([scope, call.params.get_str("language_code") or ""], sort_keys=True)


@method("setMyCommands")
async def set_my_commands(call: MethodCall) -> bool:
    commands = call.params.get_json("commands", what="commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    cleaned = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: Object expected")
        command = str(item.get("command", "")).lstrip("/")
        description = str(item.get("description", ""))
        if not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": command, "description": description})
    if len(cleaned) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    call.bot.commands[_commands_key(call)] = cleaned
    return True


@method("getMyCommands")
async def get_my_commands(call: MethodCall) -> list[dict[str, Any]]:
    return call.bot.commands.get(_commands_key(call), [])


@method("deleteMyCommands")
async def delete_my_commands(call: MethodCall) -> bool:
    call.bot.commands.pop(_commands_key(call), None)
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(call: MethodCall) -> bool:
    chat_id: int | None = None
    if call.params.has("chat_id"):
        chat = chat_with_access(call, call.params.chat_id(), Access.READ)
        if chat.type != ChatType.PRIVATE:
            raise bad_request("menu button can be set only in private chats")
        chat_id = chat.id
    button = call.params.get_json("menu_button", what="menu button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in _MENU_TYPES:
        raise bad_request("can't parse menu button JSON object")
    if button["type"] == "web_app":
        web_app = button.get("web_app")
        if not button.get("text") or not isinstance(web_app, dict) or not web_app.get("url"):
            raise bad_request("can't parse menu button JSON object")
    if button["type"] == "default":
        call.bot.menu_buttons.pop(chat_id, None)
    else:
        call.bot.menu_buttons[chat_id] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(call: MethodCall) -> dict[str, Any]:
    chat_id: int | None = None
    if call.params.has("chat_id"):
        chat_id = chat_with_access(call, call.params.chat_id(), Access.READ).id
    button = call.bot.menu_buttons.get(chat_id) or call.bot.menu_buttons.get(None)
    return button or {"type": "commands"}


@method("answerCallbackQuery")
async def answer_callback_query(call: MethodCall) -> bool:
    query = call.state.callback_queries.get(call.params.get_str("callback_query_id") or "")
    if query is None or query.bot_id != call.bot.id or query.answer is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    query.answer = {
        "text": call.params.get_str("text"),
        "show_alert": call.params.get_bool("show_alert"),
        "url": call.params.get_str("url"),
        "cache_time": call.params.get_int("cache_time"),
    }
    return True
