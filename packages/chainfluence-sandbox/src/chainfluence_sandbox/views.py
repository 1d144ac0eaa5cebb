"""Post views from the Telegram emulator: the providers the product uses when its settings point
at the Bot API emulator (`telegram.emulator_url`), plugged in through `chainfluence.plugins`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.config import Settings
from chainfluence.kit.time import from_unix, utcnow
from chainfluence.ports import PostSample, ProviderReport, StatsProvider
from chainfluence.telegram.mtproto import MTProtoViewsProvider
from chainfluence_sandbox.telegram.client import EmulatorControlError, TelegramEmulatorControl
from chainfluence_sandbox.telegram.mtproto import EmulatedMTProto

__all__ = ["EmulatorViewsProvider", "emulator_views_providers"]


class EmulatorViewsProvider:
    """Views as the Telegram emulator holds them (its control API), for tests and the sandbox."""

    name = "emulator"

    def __init__(self, base_url: str) -> None:
        self._control = TelegramEmulatorControl(base_url)

    async def fetch(
        self,
        *,
        channel_id: int,
        username: str | None,
        since: dt.datetime,
        known_ids: Sequence[int] = (),
    ) -> ProviderReport | None:
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


def emulator_views_providers(settings: Settings, engine: AsyncEngine) -> list[StatsProvider] | None:
    """The providers for settings that point at the Bot API emulator; None for any other
    Telegram (the product's own choice then).

    `telegram.mtproto.enabled` in sandbox mode: the MTProto provider on the emulated MTProto
    server (`chainfluence_sandbox.telegram.mtproto`), so the sandbox runs the Telethon code path.
    Enabled and complete outside the sandbox: Telegram itself (None). Otherwise the emulator's
    views, read through its control API (sandbox and tests)."""
    emulator_url = settings.telegram.emulator_url
    if not emulator_url:
        return None
    mtproto = settings.telegram.mtproto
    token = settings.telegram.bot_token
    if not mtproto.enabled or token is None:
        return [EmulatorViewsProvider(emulator_url)]
    if settings.is_sandbox:
        server = EmulatedMTProto(emulator_url, token.get_secret_value())
        return [
            MTProtoViewsProvider(
                client_factory=server.client,
                bot_token=token.get_secret_value(),
                engine=engine,
                max_flood_wait_seconds=mtproto.max_flood_wait_seconds,
            )
        ]
    if not mtproto.problems():
        return None
    return [EmulatorViewsProvider(emulator_url)]
