"""Where post views come from: pluggable `StatsProvider`s.

The Bot API reports subscribers (getChatMemberCount) and the posts the bot sees, never views.
A provider reads recent posts *with* views from somewhere that has them: the bot's MTProto
session (`telegram.mtproto.MTProtoViewsProvider`, when `CHAINFLUENCE_TELEGRAM__MTPROTO__ENABLED`),
the public `t.me/s/<username>` page, or — in tests and the sandbox — the Bot API emulator's
control API (`EmulatorViewsProvider`). A provider that cannot tell returns None; nothing is
estimated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.config import Settings
from chainfluence.kit.time import from_unix, utcnow


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


class EmulatorViewsProvider:
    """Views as the Telegram emulator holds them (its control API), for tests and the sandbox."""

    name = "emulator"

    def __init__(self, base_url: str) -> None:
        from chainfluence.sandbox.telegram.client import TelegramEmulatorControl

        self._control = TelegramEmulatorControl(base_url)

    async def fetch(
        self,
        *,
        channel_id: int,
        username: str | None,
        since: dt.datetime,
        known_ids: Sequence[int] = (),
    ) -> ProviderReport | None:
        from chainfluence.sandbox.telegram.client import EmulatorControlError

        try:
            messages = await self._control.messages(channel_id)
        except EmulatorControlError:
            return None
        posts = [
            PostSample(
                message_id=m.message_id,
                posted_at=from_unix(m.date),
                views=m.views,
                text=m.text if m.text is not None else m.caption,
                has_media=m.photo is not None,
                media_group_id=m.media_group_id,
                edited_at=from_unix(m.edit_date) if m.edit_date else None,
            )
            for m in messages
            if m.deleted_at is None and from_unix(m.date) >= since
        ]
        return ProviderReport(source=self.name, fetched_at=utcnow(), posts=posts)

    async def close(self) -> None:
        await self._control.aclose()


def configured_providers(settings: Settings, engine: AsyncEngine) -> list[StatsProvider]:
    """The views providers the settings ask for.

    `telegram.mtproto.enabled` with a Bot API emulator (sandbox): the MTProto provider on the
    emulated MTProto server (`chainfluence.sandbox.telegram.mtproto`), so the sandbox runs the
    Telethon code path; otherwise, with api_id/api_hash/session_path, on Telegram itself. Without
    MTProto, the emulator's views are read through its control API (sandbox and tests)."""
    mtproto = settings.telegram.mtproto
    token = settings.telegram.bot_token
    emulator_url = settings.telegram.emulator_url
    if not mtproto.enabled or token is None:
        return [EmulatorViewsProvider(emulator_url)] if emulator_url else []
    from chainfluence.telegram.mtproto import (
        MTProtoClient,
        MTProtoViewsProvider,
        telethon_client_factory,
    )

    factory: Callable[[], MTProtoClient]
    if emulator_url and settings.is_sandbox:
        from chainfluence.sandbox.telegram.mtproto import EmulatedMTProto

        factory = EmulatedMTProto(emulator_url, token.get_secret_value()).client
    elif not mtproto.problems():
        assert mtproto.api_id is not None
        assert mtproto.api_hash is not None
        assert mtproto.session_path is not None
        factory = telethon_client_factory(
            session_path=mtproto.session_path,
            api_id=mtproto.api_id,
            api_hash=mtproto.api_hash.get_secret_value(),
        )
    else:
        return [EmulatorViewsProvider(emulator_url)] if emulator_url else []
    return [
        MTProtoViewsProvider(
            client_factory=factory,
            bot_token=token.get_secret_value(),
            engine=engine,
            max_flood_wait_seconds=mtproto.max_flood_wait_seconds,
        )
    ]
