"""The bot's Dispatcher: the unit-of-work middleware around every handler, and the routers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Dispatcher

from chainfluence.telegram.middlewares import UnitOfWorkMiddleware

if TYPE_CHECKING:
    from chainfluence.runtime import Runtime

# The updates we handle; anything else is not even delivered.
ALLOWED_UPDATES = [
    "message",
    "my_chat_member",
    # Administrators' promotions, demotions and removals: a manager's rights follow at once.
    "chat_member",
    "channel_post",
    "edited_channel_post",
]


def build_dispatcher(runtime: Runtime) -> Dispatcher:
    from chainfluence.telegram.handlers import channels, operators, users

    dispatcher = Dispatcher()
    # Outer: runs once per update, before filters, so every handler shares one session.
    dispatcher.update.outer_middleware(UnitOfWorkMiddleware(runtime))
    dispatcher.include_router(users.router())
    dispatcher.include_router(channels.router())
    dispatcher.include_router(operators.router())
    return dispatcher
