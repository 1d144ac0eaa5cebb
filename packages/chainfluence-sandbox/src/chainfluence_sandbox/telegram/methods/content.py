"""Message content shared by sending and editing: text and captions, keyboards, link previews."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from chainfluence_sandbox.telegram.errors import bad_request, message_text_empty
from chainfluence_sandbox.telegram.methods.registry import MethodCall
from chainfluence_sandbox.telegram.rendering import user_json
from chainfluence_sandbox.telegram.state import Chat, ChatType
from chainfluence_sandbox.telegram.text import format_text, utf16_len

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_PREVIEW_FIELDS = (
    "is_disabled",
    "url",
    "prefer_small_media",
    "prefer_large_media",
    "show_above_text",
)


def _resolver(call: MethodCall) -> Any:
    def resolve(user_id: int) -> dict[str, Any] | None:
        user = call.state.users.get(user_id)
        return user_json(user) if user else None

    return resolve


def message_text(call: MethodCall) -> tuple[str, list[dict[str, Any]]]:
    params = call.params
    if not params.has("text"):
        raise message_text_empty()
    text, entities = format_text(
        params.get_str("text"),
        parse_mode=params.get_str("parse_mode"),
        entities=params.get_json("entities"),
        resolve_user=_resolver(call),
    )
    if not text:
        raise message_text_empty()
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return text, entities


def caption_text(
    call: MethodCall, raw: dict[str, Any] | None = None
) -> tuple[str | None, list[dict[str, Any]]]:
    """The caption from the call (or from one InputMedia object of an album)."""
    if raw is not None:
        caption, parse_mode, entities = (
            raw.get("caption"),
            raw.get("parse_mode") or call.params.get_str("parse_mode"),
            raw.get("caption_entities"),
        )
    else:
        caption = call.params.get_str("caption")
        parse_mode = call.params.get_str("parse_mode")
        entities = call.params.get_json("caption_entities")
    text, found = format_text(
        caption,
        parse_mode=parse_mode,
        entities=entities,
        resolve_user=_resolver(call),
        field_name="caption_entities",
    )
    if utf16_len(text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return text or None, found


def link_preview_options(call: MethodCall) -> dict[str, Any] | None:
    raw = call.params.get_json("link_preview_options", what="link preview options")
    if raw is None and call.params.get_bool("disable_web_page_preview"):
        raw = {"is_disabled": True}
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise bad_request("can't parse link preview options JSON object")
    options = {key: raw[key] for key in _PREVIEW_FIELDS if raw.get(key) not in (None, False, "")}
    return options or None


def reply_markup(call: MethodCall, chat: Chat) -> dict[str, Any] | None:
    """The inline keyboard to store; reply keyboards are accepted but never echoed back."""
    raw = call.params.get_json("reply_markup", what="reply keyboard markup")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise bad_request("Object expected as reply markup")
    if "inline_keyboard" not in raw:
        return None
    rows = raw["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
        )
    cleaned = [[_inline_button(call, chat, button) for button in row] for row in rows if row]
    return {"inline_keyboard": cleaned} if cleaned else None


def _inline_button(call: MethodCall, chat: Chat, button: Any) -> dict[str, Any]:
    def invalid(reason: str) -> Exception:
        return bad_request(f"can't parse inline keyboard button: {reason}")

    if not isinstance(button, dict):
        raise invalid("InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise invalid('Field "text" must be of type String')
    action = next((name for name in _BUTTON_ACTIONS if button.get(name) not in (None, "")), None)
    if action is None:
        raise invalid("Text buttons are unallowed in the inline keyboard")
    if action == "url":
        parsed = urlparse(str(button["url"]))
        if parsed.scheme not in ("http", "https", "tg") or not (parsed.netloc or parsed.path):
            raise bad_request("BUTTON_URL_INVALID")
    if action == "callback_data" and len(str(button["callback_data"]).encode()) > MAX_CALLBACK_DATA:
        raise bad_request("BUTTON_DATA_INVALID")
    if action == "web_app":
        if chat.type != ChatType.PRIVATE:
            raise bad_request("BUTTON_TYPE_INVALID")
        web_app = button["web_app"]
        url = web_app.get("url", "") if isinstance(web_app, dict) else ""
        scheme = urlparse(url).scheme
        allowed = ("https", "http") if call.state.config.allow_http_web_app_urls else ("https",)
        if scheme not in allowed:
            raise bad_request(
                f"inline keyboard button Web App URL '{url}' is invalid: "
                "Only HTTPS links are allowed"
            )
    return {key: value for key, value in button.items() if value is not None}
