"""An MTProto stand-in: a Telethon client double answered from the Telegram emulator's state.

`EmulatedMTProto` plays Telegram's MTProto side for the bot's session; `client()` is a client
factory for `chainfluence.telegram.mtproto.MTProtoViewsProvider`, so the production provider's
code runs against it. Requests are answered with Telethon's own TL objects: `channels.getMessages`
gives `messages.ChannelMessages` of `Message` (text or caption with its entities as MTProto
entity objects, views, forwards, reactions, edit date) or `MessageEmpty` (deleted or never sent),
read from the emulator's control API. A FLOOD_WAIT can be queued (`flood_waits`), raised as
Telethon's `FloodWaitError`; `down` makes every connection fail, as an unreachable data centre.

Only what the provider uses is here; anything else is refused loudly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telethon import errors, functions, types, utils

from chainfluence.kit.time import from_unix
from chainfluence.telegram.mtproto import ENTITY_TYPES
from chainfluence_sandbox.telegram.client import TelegramEmulatorControl

__all__ = ["EmulatedMTProto", "EmulatedTelethonClient"]

# Telegram's cap on ids per channels.getMessages call.
MAX_IDS = 100


@dataclass
class EmulatedMTProto:
    """The server side: shared by every client the factory builds (a test inspects it)."""

    base_url: str
    bot_token: str
    # Seconds of FLOOD_WAIT to answer the next requests with, in order.
    flood_waits: list[int] = field(default_factory=list)
    # Forwards and reactions per (Bot API chat id, message id), over the emulator's own (its view
    # curve's forwards; it holds no reactions).
    forwards: dict[tuple[int, int], int] = field(default_factory=dict)
    reactions: dict[tuple[int, int], int] = field(default_factory=dict)
    requests: list[Any] = field(default_factory=list)
    # True: connecting fails (`ConnectionError`), as when Telegram's MTProto side is unreachable.
    down: bool = False
    sign_ins: int = 0
    connected: int = 0
    most_connected: int = 0

    def client(self) -> EmulatedTelethonClient:
        return EmulatedTelethonClient(self)


class EmulatedTelethonClient:
    """The subset of `telethon.TelegramClient` the views provider calls."""

    def __init__(self, server: EmulatedMTProto) -> None:
        self._server = server
        self._authorized = False
        self._connected = False

    async def connect(self) -> None:
        if self._server.down:
            raise ConnectionError("the emulated MTProto server is down")
        if not self._connected:
            self._connected = True
            self._server.connected += 1
            self._server.most_connected = max(self._server.most_connected, self._server.connected)

    async def disconnect(self) -> None:
        if self._connected:
            self._connected = False
            self._server.connected -= 1

    async def is_user_authorized(self) -> bool:
        return self._authorized

    async def sign_in(self, *, bot_token: str) -> None:
        self._require_connection()
        if bot_token != self._server.bot_token:
            raise errors.AccessTokenInvalidError(request=None)
        self._server.sign_ins += 1
        self._authorized = True

    async def get_input_entity(self, peer: Any) -> types.InputPeerChannel:
        if not isinstance(peer, types.PeerChannel):
            raise ValueError(f"only channels are emulated, not {peer!r}")
        # Bots may use access_hash 0 for channels they are in.
        return types.InputPeerChannel(peer.channel_id, 0)

    async def __call__(self, request: Any) -> Any:
        self._require_connection()
        if not self._authorized:
            raise errors.AuthKeyUnregisteredError(request=request)
        self._server.requests.append(request)
        if self._server.flood_waits:
            raise errors.FloodWaitError(request=request, capture=self._server.flood_waits.pop(0))
        if isinstance(request, functions.channels.GetMessagesRequest):
            return await self._get_messages(request)
        raise NotImplementedError(f"the MTProto stand-in does not answer {type(request).__name__}")

    async def _get_messages(
        self, request: functions.channels.GetMessagesRequest
    ) -> types.messages.ChannelMessages:
        if len(request.id) > MAX_IDS:
            raise errors.LimitInvalidError(request=request)
        channel_id = request.channel.channel_id
        chat_id = utils.get_peer_id(types.PeerChannel(channel_id))
        peer = types.PeerChannel(channel_id)
        async with TelegramEmulatorControl(self._server.base_url) as control:
            held = {m.message_id: m for m in await control.messages(chat_id, include_deleted=True)}
        messages: list[Any] = []
        for wanted in request.id:
            message = held.get(wanted.id)
            if message is None or message.deleted_at is not None:
                messages.append(types.MessageEmpty(id=wanted.id, peer_id=peer))
                continue
            key = (chat_id, message.message_id)
            reactions = self._server.reactions.get(key)
            messages.append(
                types.Message(
                    id=message.message_id,
                    peer_id=peer,
                    date=from_unix(message.date),
                    message=message.text if message.text is not None else message.caption or "",
                    entities=_entities(
                        message.entities if message.text is not None else message.caption_entities
                    )
                    or None,
                    post=True,
                    views=message.views,
                    forwards=self._server.forwards.get(key, message.forwards),
                    edit_date=from_unix(message.edit_date) if message.edit_date else None,
                    grouped_id=int(message.media_group_id) if message.media_group_id else None,
                    media=types.MessageMediaPhoto() if message.photo else None,
                    reactions=types.MessageReactions(
                        results=[types.ReactionCount(types.ReactionEmoji("👍"), reactions)]
                    )
                    if reactions
                    else None,
                )
            )
        return types.messages.ChannelMessages(
            pts=1, count=len(messages), messages=messages, topics=[], chats=[], users=[]
        )

    def _require_connection(self) -> None:
        if not self._connected:
            raise ConnectionError("not connected")


_ENTITY_CLASSES = {name: cls for cls, name in ENTITY_TYPES.items()}


def _entities(entities: list[dict[str, Any]]) -> list[Any]:
    """Bot API entities (as the emulator holds them) as MTProto's entity objects."""
    result: list[Any] = []
    for entity in entities:
        name = entity["type"]
        offset, length = int(entity["offset"]), int(entity["length"])
        if name == "expandable_blockquote":
            result.append(types.MessageEntityBlockquote(offset, length, collapsed=True))
        elif name == "text_link":
            result.append(types.MessageEntityTextUrl(offset, length, entity["url"]))
        elif name == "pre":
            result.append(types.MessageEntityPre(offset, length, entity.get("language") or ""))
        elif name == "custom_emoji":
            result.append(
                types.MessageEntityCustomEmoji(offset, length, int(entity["custom_emoji_id"]))
            )
        elif name == "text_mention":
            result.append(types.MessageEntityMentionName(offset, length, int(entity["user"]["id"])))
        elif name in _ENTITY_CLASSES:
            result.append(_ENTITY_CLASSES[name](offset, length))
        else:
            result.append(types.MessageEntityUnknown(offset, length))
    return result
