"""The bot's Dispatcher: the unit-of-work middleware around every handler, and the routers."""

from __future__ import annotations

from typing import Protocol

from aiogram import Dispatcher

from chainfluence.bot.handlers import channels, operators, users
from chainfluence.bot.middlewares import UnitOfWorkMiddleware
from chainfluence.ports import Configured, Sessions


class _Ports(Sessions, Configured, Protocol):
    """What the handlers need of the process (they get it as `runtime`)."""


def build_dispatcher(services: _Ports) -> Dispatcher:
    dispatcher = Dispatcher()
    # Outer: runs once per update, before filters, so every handler shares one session.
    dispatcher.update.outer_middleware(UnitOfWorkMiddleware(services))
    dispatcher.include_router(users.router())
    dispatcher.include_router(channels.router())
    dispatcher.include_router(operators.router())
    return dispatcher
