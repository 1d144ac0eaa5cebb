"""Where post views come from: pluggable `StatsProvider`s (the protocols and what they report are
in `chainfluence.ports`).

The Bot API reports subscribers (getChatMemberCount) and the posts the bot sees, never views.
A provider reads recent posts *with* views from somewhere that has them: the bot's MTProto
session (`telegram.mtproto.MTProtoViewsProvider`, when `CHAINFLUENCE_TELEGRAM__MTPROTO__ENABLED`),
the public `t.me/s/<username>` page, or — in tests and the sandbox — the Bot API emulator
(`chainfluence_sandbox.views`, plugged in through `chainfluence.plugins`). A provider that cannot
tell returns None; nothing is estimated.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.config import Settings
from chainfluence.ports import StatsProvider


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
