"""Message text as Telegram stores it: text plus entities with UTF-16 offsets.

Handles `parse_mode=HTML` (the tag set the Bot API documents), explicit `entities`, the server's
trimming of surrounding whitespace, and the entities Telegram detects by itself (commands, mentions,
hashtags, links, e-mail addresses).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from chainfluence_sandbox.telegram.errors import TelegramError, bad_request

UserResolver = Callable[[int], dict[str, Any] | None]

ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "date_time",
    }
)
ENTITY_FIELDS = ("type", "offset", "length", "url", "user", "language", "custom_emoji_id")
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_TOKEN = re.compile(
    r"<(?P<close>/?)(?P<tag>[a-zA-Z][a-zA-Z0-9-]*)(?P<attrs>(?:\s[^<>]*)?)>"
    r"|&(?P<ref>#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|lt|gt|amp|quot);"
    r"|(?P<stray><)"
)
_ATTR = re.compile(r"""([a-zA-Z][\w-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
# Entities that Telegram finds in plain text. Order matters: e-mail before mention.
_AUTO_PATTERNS = (
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("url", re.compile(r"(?<![\w/])(?:https?://|(?:t|telegram)\.me/)[^\s<>\"]+", re.IGNORECASE)),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{1,8}(?![\w])")),
)
_URL_TRAILING = ".,;:!?)'\""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _parse_error(message: str) -> TelegramError:
    return bad_request(f"can't parse entities: {message}")


def parse_html(source: str, resolve_user: UserResolver) -> tuple[str, list[dict[str, Any]]]:
    parts: list[str] = []
    length = 0  # UTF-16 length of the text produced so far
    stack: list[tuple[str, dict[str, Any]]] = []
    entities: list[dict[str, Any]] = []
    position = 0

    def byte_offset(index: int) -> int:
        return len(source[:index].encode())

    for match in _TOKEN.finditer(source):
        if match.start() > position:
            chunk = source[position : match.start()]
            parts.append(chunk)
            length += utf16_len(chunk)
        position = match.end()
        if match.group("stray"):
            raise _parse_error(
                f"Unexpected end of name token at byte offset {byte_offset(match.start())}"
            )
        if match.group("ref"):
            char = html.unescape(match.group(0))
            parts.append(char)
            length += utf16_len(char)
            continue
        tag = match.group("tag").lower()
        if match.group("close"):
            if not stack:
                raise _parse_error(
                    f"Unexpected end tag at byte offset {byte_offset(match.start())}"
                )
            open_tag, entity = stack.pop()
            if open_tag != tag:
                raise _parse_error(f'Can\'t find end tag corresponding to start tag "{open_tag}"')
            entity["length"] = length - entity["offset"]
            language = entity.pop("_language", None)
            if tag == "code" and language and stack and stack[-1][0] == "pre":
                stack[-1][1]["language"] = language
                continue
            if entity["length"] > 0 and entity["type"] != "_ignored":
                entities.append(entity)
            continue
        attrs = {
            m.group(1).lower(): next((g for g in m.groups()[1:] if g is not None), "")
            for m in _ATTR.finditer(match.group("attrs") or "")
        }
        entity = _entity_for_tag(tag, attrs, length, resolve_user, byte_offset(match.start()))
        stack.append((tag, entity))
    parts.append(source[position:])
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(parts), entities


def _entity_for_tag(
    tag: str, attrs: dict[str, str], offset: int, resolve_user: UserResolver, at: int
) -> dict[str, Any]:
    if tag in _SIMPLE_TAGS:
        entity: dict[str, Any] = {"type": _SIMPLE_TAGS[tag], "offset": offset}
        language = attrs.get("class", "")
        if tag == "code" and language.startswith("language-"):
            entity["_language"] = language.removeprefix("language-")
        return entity
    if tag == "span":
        if attrs.get("class") != "tg-spoiler":
            raise _parse_error(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        return {"type": "spoiler", "offset": offset}
    if tag == "a":
        url = attrs.get("href", "")
        user_match = re.fullmatch(r"tg://user\?id=(\d+)", url)
        if user_match:
            user = resolve_user(int(user_match.group(1)))
            if user is not None:
                return {"type": "text_mention", "offset": offset, "user": user}
        if not url:
            return {"type": "_ignored", "offset": offset}
        return {"type": "text_link", "offset": offset, "url": url}
    if tag == "blockquote":
        kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        return {"type": kind, "offset": offset}
    if tag == "tg-emoji":
        emoji_id = attrs.get("emoji-id")
        if not emoji_id:
            raise _parse_error(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {at}')
        return {"type": "custom_emoji", "offset": offset, "custom_emoji_id": emoji_id}
    raise _parse_error(f'Unsupported start tag "{tag}" at byte offset {at}')


def clean_entities(
    raw: Any, text: str, resolve_user: UserResolver, *, field_name: str = "entities"
) -> list[dict[str, Any]]:
    """Validate explicit entities; drop empty ones and clip them to the text, as Telegram does."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request(f"can't parse {field_name} JSON object")
    total = utf16_len(text)
    result = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse MessageEntity: Object expected")
        kind = item.get("type")
        if kind not in ENTITY_TYPES:
            raise bad_request("can't parse MessageEntity: Unsupported type specified")
        try:
            offset, length = int(item["offset"]), int(item["length"])
        except (KeyError, TypeError, ValueError):
            raise bad_request(
                'can\'t parse MessageEntity: Field "offset" must be a valid Number'
            ) from None
        offset = max(offset, 0)
        length = min(length, total - offset)
        if length <= 0:
            continue
        entity = {key: item[key] for key in ENTITY_FIELDS if item.get(key) is not None}
        entity["offset"], entity["length"] = offset, length
        if kind == "text_link" and not entity.get("url"):
            raise bad_request('can\'t parse MessageEntity: Field "url" must be of type String')
        if kind == "text_mention":
            user = item.get("user") or {}
            resolved = resolve_user(int(user.get("id", 0))) if isinstance(user, dict) else None
            if resolved is None:
                raise bad_request("can't parse MessageEntity: user not found")
            entity["user"] = resolved
        result.append(entity)
    return result


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace and shifts the entities with it."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


def detect_entities(text: str, explicit: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entities Telegram finds by itself, skipping spans already covered by code or links."""
    blocked = [
        (e["offset"], e["offset"] + e["length"])
        for e in explicit
        if e["type"] in {"code", "pre", "text_link", "text_mention", "url", "email", "mention"}
    ]
    found: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            value = match.group(0)
            if kind == "url":
                value = value.rstrip(_URL_TRAILING)
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(value)
            if any(a < end and start < b for a, b in blocked + taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    return found


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], e["type"]))


def format_text(
    text: str | None,
    *,
    parse_mode: str | None,
    entities: Any,
    resolve_user: UserResolver,
    field_name: str = "entities",
) -> tuple[str, list[dict[str, Any]]]:
    """The text and entities Telegram would store for a send or edit call (may be empty text)."""
    source = text or ""
    if entities is not None:
        plain = source
        parsed = clean_entities(entities, plain, resolve_user, field_name=field_name)
    elif parse_mode:
        mode = parse_mode.lower()
        if mode != "html":
            raise bad_request(
                f"unsupported parse_mode (the emulator implements HTML, not {parse_mode})"
            )
        plain, parsed = parse_html(source, resolve_user)
    else:
        plain, parsed = source, []
    plain, parsed = strip_text(plain, parsed)
    return plain, sort_entities(parsed + detect_entities(plain, parsed))
