"""Where post views come from: pluggable `StatsProvider`s.

The Bot API reports subscribers (getChatMemberCount) and the posts the bot sees, never views.
A provider reads recent posts *with* views from somewhere that has them: the bot's MTProto
session (`telegram.mtproto.MTProtoViewsProvider`, when `CHAINFLUENCE_TELEGRAM__MTPROTO__ENABLED`),
the public `t.me/s/<username>` page, or — in tests and the sandbox — the Bot API emulator
(`chainfluence_sandbox.views`, plugged in through `chainfluence.plugins`). A provider that cannot
tell returns None; nothing is estimated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.config import Settings


@dataclass(frozen=True, slots=True)
class PostSample:
    message_id: int
    posted_at: dt.datetime
    views: int | None
    text: str | None = None
    has_media: bool = False
    media_group_id: str | None = None
    edited_at: dt.datetime | None = None
    forwards: int | None = None
    # Total reactions on the post; None when the provider does not see them.
    reactions: int | None = None


@dataclass(frozen=True, slots=True)
class ProviderReport:
    source: str
    fetched_at: dt.datetime
    # Posts published since the requested time, that still exist.
    posts: list[PostSample] = field(default_factory=list)
    # True: the provider lists the channel's whole recent history; False: only posts whose ids
    # it was given (and their neighbours), so it says nothing about posts before those.
    complete_history: bool = True


class StatsProvider(Protocol):
    name: str

    async def fetch(
        self,
        *,
        channel_id: int,
        username: str | None,
        since: dt.datetime,
        known_ids: Sequence[int] = (),
    ) -> ProviderReport | None:
        """Recent posts of the channel with their views, or None when this provider can't see it.
        `known_ids`: message ids of the channel's posts already known (newest last)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class PostReading:
    """One message of a channel as MTProto showed it (for the probes of live ads)."""

    message_id: int
    posted_at: dt.datetime
    edited_at: dt.datetime | None
    # Text (or caption) and its entities as the Bot API spells them (`posting.text_fingerprint_of`).
    text: str
    entities: list[dict[str, object]]
    views: int | None
    forwards: int | None
    reactions: int | None


@dataclass(frozen=True, slots=True)
class PostReadings:
    source: str
    fetched_at: dt.datetime
    # Every id asked for: its reading, or None when Telegram answered that it does not exist
    # (`messageEmpty`: deleted) or left it out of its answer.
    messages: dict[int, PostReading | None]
    # Calls made to Telegram for this answer.
    calls: int = 0


class ReadUnavailable(Exception):
    """No answer this time (FLOOD_WAIT, network, Telegram's error, another process holding the
    session): says nothing about the posts."""


@runtime_checkable
class PostReader(Protocol):
    """Reads given messages of a channel: deletions and edits for the probes of live ads."""

    name: str

    async def read_posts(self, *, channel_id: int, message_ids: Sequence[int]) -> PostReadings:
        """The messages (at most 100 per call to Telegram); raises `ReadUnavailable`."""
        ...


def configured_providers(settings: Settings, engine: AsyncEngine) -> list[StatsProvider]:
    """The views providers the settings ask for on Telegram itself: the bot's MTProto session
    (Telethon) when `telegram.mtproto` is enabled and complete, else none (only what the bot
    observes). The emulated Telegram's providers come from the sandbox (`chainfluence.plugins`)."""
    mtproto = settings.telegram.mtproto
    token = settings.telegram.bot_token
    if not mtproto.enabled or token is None or mtproto.problems():
        return []
    from chainfluence.telegram.mtproto import MTProtoViewsProvider, telethon_client_factory

    assert mtproto.api_id is not None
    assert mtproto.api_hash is not None
    assert mtproto.session_path is not None
    factory = telethon_client_factory(
        session_path=mtproto.session_path,
        api_id=mtproto.api_id,
        api_hash=mtproto.api_hash.get_secret_value(),
    )
    return [
        MTProtoViewsProvider(
            client_factory=factory,
            bot_token=token.get_secret_value(),
            engine=engine,
            max_flood_wait_seconds=mtproto.max_flood_wait_seconds,
        )
    ]
