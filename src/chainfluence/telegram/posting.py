"""Publishing an ad post and checking on it later: the Telegram primitives of a deal.

    published = await publish(bot, settings.uploads, channel_id, creative)
    probe = await probe_post(bot, service_chat_id, channel_id, published.message_ids)
    if probe.deleted or not probe.matches(published): ...   # taken down or edited
    rights = await bot_rights(bot, channel_id)               # still allowed to post/edit/delete?

**Fingerprint.** What Telegram returned for the post — text or caption, their entities (Telegram
adds its own: urls, mentions...), the largest photo's `file_unique_id`, the inline keyboard —
as canonical JSON (sorted keys, no spaces), sha256, "0x" + hex. It differs from the creative's
own content hash; compare fingerprints with fingerprints. `content_fingerprint` leaves the
keyboard out, because a forwarded copy may come without it; `Probe.matches` compares the full
fingerprint when the copy carries a keyboard and the content one otherwise. `text_fingerprint`
keeps only each message's text (or caption) and entities, each entity reduced to its type,
offset, length and url, user id, language or custom emoji id: the part MTProto shows the same
way (`telegram.mtproto` computes it from `channels.getMessages`), so a probe through the bot's
MTProto session compares with what the forward probe and the publish saw.

**Probing.** Telegram sends no update when a person edits or deletes the bot's own post, so the
post is forwarded to a private service chat (the bot a member; `telegram.service_chat_id`): the
copy shows the post's current content, or Telegram answers "message to forward not found" after a
deletion. The copy is deleted again. Channels that restrict saving content refuse forwards
(`ProbeUnavailable`). Bots cannot delete posts older than 48 hours.

**A publish that timed out may have happened.** `PublishOutcomeUnknown` means the request may
have reached Telegram. Don't publish again blindly: call `find_published(...)` with the highest
message id known in the channel before publishing (the bot's own last post, or
`channel_posts`): channel message ids grow by one per post, so it forwards the next few ids to
the service chat and returns the post whose text matches the creative, if it exists.

The calls go through the plain Bot API client (`telegram.botapi`) and read Telegram's JSON
answers as they come: the publisher's "post now" runs in an API request, and the API process
does not load aiogram. Fingerprints are computed from that JSON with its nulls left out, which
is what aiogram's `model_dump(exclude_none=True)` gave before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chainfluence.config import UploadSettings
from chainfluence.kit import faults
from chainfluence.kit.faults import FaultPoint
from chainfluence.kit.time import as_utc
from chainfluence.ports import BotApiCaller
from chainfluence.telegram import botapi
from chainfluence.telegram.chats import MemberRights
from chainfluence.telegram.chats import bot_rights as _bot_rights

# A message as the Bot API answers it (JSON).
Message = dict[str, Any]

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_IMAGES = 10


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    url: str


@dataclass(frozen=True, slots=True)
class Creative:
    """An approved ad: text with Telegram entities (dicts as the Bot API spells them), up to 10
    uploaded images (our upload file ids) and rows of URL buttons."""

    text: str = ""
    entities: Sequence[dict[str, Any]] = ()
    images: Sequence[str] = ()
    buttons: Sequence[Sequence[Button]] = ()


@dataclass(frozen=True, slots=True)
class Published:
    chat_id: int
    message_ids: list[int]
    date: dt.datetime
    fingerprint: str | None
    content_fingerprint: str | None
    text_fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class Probe:
    deleted: bool
    fingerprint: str | None = None
    content_fingerprint: str | None = None
    # Whether the forwarded copy carried the inline keyboard.
    has_markup: bool = False
    message_ids: list[int] = field(default_factory=list)
    # The text (or captions) the post shows now, its messages' joined by blank lines.
    text: str = ""
    text_fingerprint: str | None = None
    # How the post was looked at: "forward" (a copy in the service chat) or "mtproto".
    method: str = "forward"
    # MTProto: the newest edit date among the post's messages (None: never edited).
    edited_at: dt.datetime | None = None

    def basis(self, published: Published) -> str:
        """What is compared: "full" (with the keyboard), "content" or "text" (MTProto, or a
        reference that only has the text's fingerprint)."""
        if self.has_markup and self.fingerprint and published.fingerprint:
            return "full"
        if self.content_fingerprint and published.content_fingerprint:
            return "content"
        return "text"

    def hashes(self, published: Published) -> tuple[str | None, str | None]:
        """(expected, seen) fingerprints on the compared basis."""
        basis = self.basis(published)
        if basis == "full":
            return published.fingerprint, self.fingerprint
        if basis == "content":
            return published.content_fingerprint, self.content_fingerprint
        return published.text_fingerprint, self.text_fingerprint

    def matches(self, published: Published) -> bool:
        if self.deleted:
            return False
        expected, seen = self.hashes(published)
        return expected is not None and expected == seen


class PostingError(Exception):
    """The post cannot be published or checked; `str()` says why in plain words."""


class CreativeNotPublishable(PostingError):
    pass


class PublishRefused(PostingError):
    """Telegram refused the post (missing rights, unknown chat...): nothing was published."""


class PublishOutcomeUnknown(PostingError):
    """The request may have reached Telegram: look for the post before publishing again."""


class ProbeUnavailable(PostingError):
    """The post could not be checked this time (service chat missing, forwards restricted,
    bot removed from the channel, Telegram unavailable)."""


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_publishable(creative: Creative) -> None:
    """Raise `CreativeNotPublishable` for a creative Telegram would refuse (call it when the
    creative is drafted, not only when it goes out)."""
    length = _utf16_length(creative.text.strip())
    if len(creative.images) > MAX_IMAGES:
        raise CreativeNotPublishable(f"A post carries at most {MAX_IMAGES} images.")
    if not creative.images and length == 0:
        raise CreativeNotPublishable("A post without images needs text.")
    if creative.images and length > MAX_CAPTION:
        raise CreativeNotPublishable(
            f"With images the text is a caption: at most {MAX_CAPTION} characters."
        )
    if length > MAX_TEXT:
        raise CreativeNotPublishable(f"A post's text is at most {MAX_TEXT} characters.")
    if len(creative.images) > 1 and creative.buttons:
        raise CreativeNotPublishable(
            "Telegram cannot attach buttons to an album of several images: use one image, or "
            "no buttons."
        )
    for row in creative.buttons:
        for button in row:
            if not button.text.strip() or not button.url.startswith(
                ("https://", "http://", "tg://")
            ):
                raise CreativeNotPublishable("Each button needs a label and an https:// link.")


def _without_none(value: Any) -> Any:
    """JSON with its nulls left out, at every level (as Telegram itself answers)."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value


def _keyboard(creative: Creative) -> dict[str, Any] | None:
    if not creative.buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": b.text, "url": b.url} for b in row] for row in creative.buttons
        ]
    }


def _entities(creative: Creative) -> list[dict[str, Any]] | None:
    return [_without_none(dict(e)) for e in creative.entities] or None


def _date(message: dict[str, Any]) -> dt.datetime:
    return as_utc(dt.datetime.fromtimestamp(int(message["date"]), dt.UTC))


async def publish(
    bot: BotApiCaller, uploads: UploadSettings, channel_id: int, creative: Creative
) -> Published:
    """Post `creative` in the channel; returns the message ids, date and fingerprint."""
    check_publishable(creative)
    text = creative.text.strip() or None
    paths = [uploads.path_of(file_id) for file_id in creative.images]
    if any(not path.exists() for path in paths):
        raise CreativeNotPublishable("An image of the creative is missing from storage.")
    files = {f"photo{index}": (path.name, path.read_bytes()) for index, path in enumerate(paths)}
    try:
        if not files:
            sent = [
                await bot.call(
                    "sendMessage",
                    chat_id=channel_id,
                    text=text or "",
                    entities=_entities(creative),
                    reply_markup=_keyboard(creative),
                )
            ]
        elif len(files) == 1:
            sent = [
                await bot.call(
                    "sendPhoto",
                    files=files,
                    chat_id=channel_id,
                    photo="attach://photo0",
                    caption=text,
                    caption_entities=_entities(creative),
                    reply_markup=_keyboard(creative),
                )
            ]
        else:
            media = [
                _without_none(
                    {
                        "type": "photo",
                        "media": f"attach://{name}",
                        "caption": text if index == 0 else None,
                        "caption_entities": _entities(creative) if index == 0 else None,
                    }
                )
                for index, name in enumerate(files)
            ]
            sent = list(
                await bot.call("sendMediaGroup", files=files, chat_id=channel_id, media=media)
            )
    except (botapi.BadRequest, botapi.Forbidden) as exc:
        raise PublishRefused(exc.message) from exc
    except botapi.RetryAfter as exc:
        raise PublishRefused(f"Telegram's flood limit: retry in {exc.retry_after} s") from exc
    except (botapi.NetworkError, botapi.ServerError) as exc:
        raise PublishOutcomeUnknown(str(exc)) from exc
    return Published(
        chat_id=channel_id,
        message_ids=[int(m["message_id"]) for m in sent],
        date=_date(sent[0]),
        fingerprint=fingerprint(sent),
        content_fingerprint=fingerprint(sent, with_markup=False),
        text_fingerprint=text_fingerprint(sent),
    )


def _canonical(message: Message, *, with_markup: bool) -> dict[str, Any]:
    def dump(items: Sequence[Any] | None) -> list[Any]:
        return [_without_none(item) for item in items or []]

    content: dict[str, Any] = {}
    if message.get("text") is not None:
        content["text"] = message["text"]
        content["entities"] = dump(message.get("entities"))
    if message.get("caption") is not None:
        content["caption"] = message["caption"]
        content["caption_entities"] = dump(message.get("caption_entities"))
    if message.get("photo"):
        content["photo"] = message["photo"][-1]["file_unique_id"]
    if with_markup and message.get("reply_markup") is not None:
        content["reply_markup"] = _without_none(message["reply_markup"])
    return content


def fingerprint(messages: Sequence[Message], *, with_markup: bool = True) -> str:
    """sha256 of the canonical JSON of the messages' content, "0x" + 64 hex digits."""
    canonical = json.dumps(
        [_canonical(m, with_markup=with_markup) for m in messages],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "0x" + hashlib.sha256(canonical.encode()).hexdigest()


_ENTITY_KEYS = ("type", "offset", "length", "url", "language", "custom_emoji_id")


def reduced_entity(entity: dict[str, Any]) -> dict[str, Any]:
    """An entity (as the Bot API spells it) reduced to what MTProto shows the same way."""
    reduced = {key: entity[key] for key in _ENTITY_KEYS if entity.get(key) is not None}
    user = entity.get("user")
    if isinstance(user, dict) and user.get("id") is not None:
        reduced["user_id"] = int(user["id"])
    return reduced


def text_fingerprint_of(parts: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> str:
    """sha256 of each message's (text, entities as the Bot API spells them), "0x" + hex."""
    canonical = json.dumps(
        [
            {"text": text, "entities": [reduced_entity(entity) for entity in entities]}
            for text, entities in parts
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "0x" + hashlib.sha256(canonical.encode()).hexdigest()


def text_fingerprint(messages: Sequence[Message]) -> str:
    """The fingerprint of the messages' texts (or captions) and their entities alone."""
    parts = []
    for message in messages:
        if message.get("text") is not None:
            text, entities = message["text"], message.get("entities")
        else:
            text, entities = message.get("caption") or "", message.get("caption_entities")
        parts.append((text, [_without_none(e) for e in entities or []]))
    return text_fingerprint_of(parts)


def post_text(messages: Sequence[Message]) -> str:
    """What a post says: its messages' texts or captions, joined by blank lines."""
    parts = (m["text"] if m.get("text") is not None else m.get("caption") for m in messages)
    return "\n\n".join(part for part in parts if part)


async def _forward(
    bot: BotApiCaller, service_chat_id: int, channel_id: int, message_id: int
) -> Message | None:
    """The post's current content as a forwarded copy (deleted right away); None if gone."""
    try:
        copy: Message = await bot.call(
            "forwardMessage",
            chat_id=service_chat_id,
            from_chat_id=channel_id,
            message_id=message_id,
            disable_notification=True,
        )
    except botapi.BadRequest as exc:
        text = exc.message.lower()
        if "message to forward not found" in text:
            return None
        raise ProbeUnavailable(exc.message) from exc
    except (
        botapi.Forbidden,
        botapi.RetryAfter,
        botapi.NetworkError,
        botapi.ServerError,
    ) as exc:
        raise ProbeUnavailable(exc.message) from exc
    try:
        await bot.call("deleteMessage", chat_id=service_chat_id, message_id=copy["message_id"])
    except Exception:
        # A leftover copy in our own service chat is untidy, not harmful.
        log.warning("could not delete probe copy %s in the service chat", copy["message_id"])
    return copy


async def probe_post(
    bot: BotApiCaller, service_chat_id: int | None, channel_id: int, message_ids: Sequence[int]
) -> Probe:
    """Is the post still there, and what does it look like now?"""
    if service_chat_id is None:
        raise ProbeUnavailable("No service chat is configured (telegram.service_chat_id).")
    copies: list[Message] = []
    for message_id in message_ids:
        copy = await _forward(bot, service_chat_id, channel_id, message_id)
        if copy is None:
            return Probe(deleted=True, message_ids=list(message_ids))
        copies.append(copy)
        faults.reached(FaultPoint.probe)
    return Probe(
        deleted=False,
        fingerprint=fingerprint(copies),
        content_fingerprint=fingerprint(copies, with_markup=False),
        has_markup=any(c.get("reply_markup") is not None for c in copies),
        message_ids=list(message_ids),
        text=post_text(copies),
        text_fingerprint=text_fingerprint(copies),
    )


async def find_published(
    bot: BotApiCaller,
    service_chat_id: int | None,
    channel_id: int,
    creative: Creative,
    *,
    after_message_id: int,
    look_ahead: int = 10,
) -> Published | None:
    """After `PublishOutcomeUnknown`: the post if it did go out (see the module docstring)."""
    if service_chat_id is None:
        raise ProbeUnavailable("No service chat is configured (telegram.service_chat_id).")
    expected = creative.text.strip()
    count = max(1, len(creative.images))
    for first in range(after_message_id + 1, after_message_id + 1 + look_ahead):
        copy = await _forward(bot, service_chat_id, channel_id, first)
        if copy is None:
            continue
        shown = (copy["text"] if copy.get("text") is not None else copy.get("caption")) or ""
        if shown.strip() != expected or bool(copy.get("photo")) != bool(creative.images):
            continue
        copies = [copy]
        for following in range(first + 1, first + count):
            more = await _forward(bot, service_chat_id, channel_id, following)
            if more is None:
                break
            copies.append(more)
        return Published(
            chat_id=channel_id,
            message_ids=list(range(first, first + len(copies))),
            # The original post's date, as the forward reports it.
            date=_date(copy.get("forward_origin") or copy),
            fingerprint=fingerprint(copies),
            content_fingerprint=fingerprint(copies, with_markup=False),
            text_fingerprint=text_fingerprint(copies),
        )
    return None


async def bot_rights(bot: BotApiCaller, channel_id: int) -> MemberRights:
    """The bot's status and rights in the channel now (`MemberRights.missing` lists what it
    lacks of post/edit/delete); raises `chats.ChatUnreachable` if it cannot see the channel."""
    return await _bot_rights(bot, channel_id)
