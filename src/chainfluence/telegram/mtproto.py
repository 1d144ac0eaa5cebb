"""Post views over MTProto, through the bot's own session (Telethon 1.x).

The Bot API reports no views; MTProto does, and a bot account may call `channels.getMessages`
(each message carries `views`, `forwards`, `reactions`; a deleted one comes back as
`messageEmpty`). A bot cannot list a channel's history (`messages.getHistory` is user-only), so
the provider asks for the ids the bot knows from `channel_posts`: channel message ids run in
sequence, so the range from the oldest known id of the window to the newest (plus a look-ahead)
also finds the posts the bot missed. At most 100 ids go in one call.

Session: the bot logs in with its token (`api_id`/`api_hash` from my.telegram.org) into a
Telethon session file, kept across restarts (a new login per start would pile up
authorizations). Only one process at a time holds the connection: each fetch takes the
`telegram.mtproto` role (`ton.leader.exclusive`: a PostgreSQL advisory lock across workers),
connects, asks, and disconnects, so two workers never talk over one session at once.

FLOOD_WAIT: Telethon's own sleeping is off (`flood_sleep_threshold=0`); a wait up to
`max_flood_wait_seconds` is slept and the call retried, a longer one ends the fetch with what it
has and no call is made before the wait is over.

Probes of live ads (`read_posts`): the given messages of one channel, up to 100 per call: a
`messageEmpty` (or an id missing from the answer) is a deleted post; a message gives its edit
date, its text and entities (turned into the Bot API's spelling, `bot_api_entities`, so the
deal's `posting.text_fingerprint` can be compared) and its views, forwards and reactions.
Anything that is not an answer (a FLOOD_WAIT not slept through, an RPC or network error, the
session held elsewhere) raises `ReadUnavailable` and says nothing about the posts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine
from telethon import errors, functions, types, utils

from chainfluence.kit.time import utcnow
from chainfluence.ports import (
    PostReading,
    PostReadings,
    PostSample,
    ProviderReport,
    ReadUnavailable,
)

__all__ = [
    "BATCH",
    "ENTITY_TYPES",
    "MTProtoClient",
    "MTProtoViewsProvider",
    "bot_api_entities",
    "mtproto_channel_id",
]

log = logging.getLogger(__name__)

# channels.getMessages takes at most 100 ids.
BATCH = 100
# Ids asked for beyond the newest known one: posts the bot has not seen yet.
LOOKAHEAD = 20
# At most this many ids per channel and fetch (ten calls).
MAX_IDS = 1_000
ROLE = "telegram.mtproto"


class MTProtoClient(Protocol):
    """The part of `telethon.TelegramClient` the provider uses (a double answers it in tests)."""

    async def connect(self) -> None: ...

    async def disconnect(self) -> Any: ...

    async def is_user_authorized(self) -> bool: ...

    async def sign_in(self, *, bot_token: str) -> Any: ...

    async def get_input_entity(self, peer: Any) -> Any: ...

    async def __call__(self, request: Any) -> Any: ...


def mtproto_channel_id(bot_api_chat_id: int) -> int:
    """The MTProto channel id of a Bot API chat id (-100…)."""
    channel_id, peer_type = utils.resolve_id(bot_api_chat_id)
    if peer_type is not types.PeerChannel:
        raise ValueError(f"{bot_api_chat_id} is not a channel id")
    return int(channel_id)


def telethon_client_factory(
    *, session_path: str, api_id: int, api_hash: str
) -> Callable[[], MTProtoClient]:
    """Production: a Telethon client on a session file, updates off, FLOOD_WAIT left to us."""

    def build() -> MTProtoClient:
        from telethon import TelegramClient
        from telethon.sessions import SQLiteSession

        client: Any = TelegramClient(
            SQLiteSession(session_path),
            api_id,
            api_hash,
            receive_updates=False,
            flood_sleep_threshold=0,
        )
        return client  # type: ignore[no-any-return]

    return build


class MTProtoViewsProvider:
    name = "mtproto"

    def __init__(
        self,
        *,
        client_factory: Callable[[], MTProtoClient],
        bot_token: str,
        engine: AsyncEngine,
        max_flood_wait_seconds: float = 60.0,
        role_wait_seconds: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client_factory = client_factory
        self._bot_token = bot_token
        self._engine = engine
        self._max_flood_wait = max_flood_wait_seconds
        self._role_wait = role_wait_seconds
        self._sleep = sleep
        # No call before this (a FLOOD_WAIT longer than we sleep through).
        self.blocked_until: dt.datetime | None = None
        self.calls = 0

    async def fetch(
        self,
        *,
        channel_id: int,
        username: str | None,
        since: dt.datetime,
        known_ids: Sequence[int] = (),
    ) -> ProviderReport | None:
        if not known_ids:
            return None  # a bot cannot list history: nothing to ask for yet
        try:
            found, _ = await self._messages(channel_id, _ids_to_ask(known_ids))
        except ReadUnavailable as exc:
            log.info("mtproto: channel %s not asked: %s", channel_id, exc)
            return None
        if not found:
            return None  # a FLOOD_WAIT stopped the first batch
        fetched_at = utcnow()
        posts = [
            sample
            for sample in (_sample(m) for m in found.values())
            if sample is not None and sample.posted_at >= since
        ]
        return ProviderReport(
            source=self.name, fetched_at=fetched_at, posts=posts, complete_history=False
        )

    async def read_posts(self, *, channel_id: int, message_ids: Sequence[int]) -> PostReadings:
        """The given messages of the channel now (see the module's docstring)."""
        ids = sorted(set(message_ids))
        calls_before = self.calls
        try:
            found, complete = await self._messages(channel_id, ids)
        except ReadUnavailable:
            raise
        except Exception as exc:  # not an answer: never read as a deletion
            log.warning("mtproto: reading channel %s failed", channel_id, exc_info=True)
            raise ReadUnavailable(f"MTProto: {type(exc).__name__}: {exc}") from exc
        if not complete:
            raise ReadUnavailable(f"Telegram asked to wait (FLOOD_WAIT) until {self.blocked_until}")
        return PostReadings(
            source=self.name,
            fetched_at=utcnow(),
            messages={i: _reading(found.get(i)) for i in ids},
            calls=self.calls - calls_before,
        )

    async def _messages(self, channel_id: int, ids: list[int]) -> tuple[dict[int, Any], bool]:
        """The channel's messages by id, read while this process holds the session, and whether
        every batch was answered (a FLOOD_WAIT longer than we sleep through stops the reading).
        ReadUnavailable when such a wait is still running or another process kept the session."""
        if self.blocked_until is not None and utcnow() < self.blocked_until:
            raise ReadUnavailable(
                f"Telegram asked to wait (FLOOD_WAIT) until {self.blocked_until.isoformat()}"
            )
        from chainfluence.ton.leader import exclusive

        deadline = asyncio.get_running_loop().time() + self._role_wait
        while True:
            async with exclusive(self._engine, ROLE) as mine:
                if mine:
                    return await self._read_batches(channel_id, ids)
            if asyncio.get_running_loop().time() >= deadline:
                log.warning("mtproto: another process held the session for %ss", self._role_wait)
                raise ReadUnavailable("another process held the MTProto session")
            await asyncio.sleep(0.2)

    async def _read_batches(self, channel_id: int, ids: list[int]) -> tuple[dict[int, Any], bool]:
        found: dict[int, Any] = {}
        client = self._client_factory()
        await client.connect()
        try:
            if not await client.is_user_authorized():
                await client.sign_in(bot_token=self._bot_token)
            channel = await client.get_input_entity(
                types.PeerChannel(mtproto_channel_id(channel_id))
            )
            for start in range(0, len(ids), BATCH):
                batch = ids[start : start + BATCH]
                answer = await self._call(
                    client,
                    functions.channels.GetMessagesRequest(
                        channel=channel, id=[types.InputMessageID(i) for i in batch]
                    ),
                )
                if answer is None:
                    return found, False
                found.update((m.id, m) for m in answer.messages)
        finally:
            await client.disconnect()
        return found, True

    async def _call(self, client: MTProtoClient, request: Any) -> Any:
        while True:
            try:
                self.calls += 1
                return await client(request)
            except errors.FloodWaitError as exc:
                if exc.seconds > self._max_flood_wait:
                    self.blocked_until = utcnow() + dt.timedelta(seconds=exc.seconds)
                    log.warning(
                        "mtproto: FLOOD_WAIT of %ss, no calls until %s",
                        exc.seconds,
                        self.blocked_until,
                    )
                    return None
                log.info("mtproto: FLOOD_WAIT of %ss, waiting", exc.seconds)
                await self._sleep(exc.seconds)

    async def close(self) -> None:
        return None


# MTProto's entity classes and the Bot API's names for them.
ENTITY_TYPES: dict[type[Any], str] = {
    types.MessageEntityMention: "mention",
    types.MessageEntityHashtag: "hashtag",
    types.MessageEntityCashtag: "cashtag",
    types.MessageEntityBotCommand: "bot_command",
    types.MessageEntityUrl: "url",
    types.MessageEntityEmail: "email",
    types.MessageEntityPhone: "phone_number",
    types.MessageEntityBold: "bold",
    types.MessageEntityItalic: "italic",
    types.MessageEntityUnderline: "underline",
    types.MessageEntityStrike: "strikethrough",
    types.MessageEntitySpoiler: "spoiler",
    types.MessageEntityBlockquote: "blockquote",
    types.MessageEntityCode: "code",
    types.MessageEntityPre: "pre",
    types.MessageEntityTextUrl: "text_link",
    types.MessageEntityMentionName: "text_mention",
    types.MessageEntityCustomEmoji: "custom_emoji",
}


def bot_api_entities(entities: Iterable[Any] | None) -> list[dict[str, Any]]:
    """MTProto entities as the Bot API spells them (one it has no name for keeps its class
    name, so it cannot match a Bot API reading by accident)."""
    result: list[dict[str, Any]] = []
    for entity in entities or []:
        name = ENTITY_TYPES.get(type(entity), type(entity).__name__)
        if name == "blockquote" and getattr(entity, "collapsed", False):
            name = "expandable_blockquote"
        item: dict[str, Any] = {"type": name, "offset": entity.offset, "length": entity.length}
        if isinstance(entity, types.MessageEntityTextUrl):
            item["url"] = entity.url
        elif isinstance(entity, types.MessageEntityPre) and entity.language:
            item["language"] = entity.language
        elif isinstance(entity, types.MessageEntityCustomEmoji):
            item["custom_emoji_id"] = str(entity.document_id)
        elif isinstance(entity, types.MessageEntityMentionName):
            item["user"] = {"id": entity.user_id}
        result.append(item)
    return result


def _reading(message: Any) -> PostReading | None:
    if message is None or isinstance(message, types.MessageEmpty):
        return None
    if not isinstance(message, types.Message):  # a service message under that id
        return PostReading(
            message_id=message.id,
            posted_at=_utc(message.date),
            edited_at=None,
            text="",
            entities=[],
            views=None,
            forwards=None,
            reactions=None,
        )
    return PostReading(
        message_id=message.id,
        posted_at=_utc(message.date),
        edited_at=_utc(message.edit_date) if message.edit_date else None,
        text=message.message or "",
        entities=bot_api_entities(message.entities),
        views=message.views,
        forwards=message.forwards or 0,
        reactions=_reaction_count(message.reactions),
    )


def _ids_to_ask(known_ids: Iterable[int]) -> list[int]:
    known = sorted(set(known_ids))
    newest = known[-1] + LOOKAHEAD
    oldest = max(known[0], newest - MAX_IDS + 1)
    return list(range(oldest, newest + 1))


def _sample(message: Any) -> PostSample | None:
    """A channel post with its views; None for an empty (deleted, not yet sent) or service one."""
    if not isinstance(message, types.Message):
        return None
    media = message.media
    return PostSample(
        message_id=message.id,
        posted_at=_utc(message.date),
        views=message.views,
        text=message.message or None,
        has_media=media is not None and not isinstance(media, types.MessageMediaWebPage),
        media_group_id=str(message.grouped_id) if message.grouped_id else None,
        edited_at=_utc(message.edit_date) if message.edit_date else None,
        forwards=message.forwards or 0,
        reactions=_reaction_count(message.reactions),
    )


def _reaction_count(reactions: Any) -> int:
    if reactions is None:
        return 0  # Telegram leaves the field out when a post has no reactions
    return sum(int(result.count) for result in reactions.results)


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
