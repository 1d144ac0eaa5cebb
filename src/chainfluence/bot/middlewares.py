"""The bot's update middleware, around every handler: one database session per update, the
sender registered, commit, then the queued side effects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from chainfluence.ports import Configured, Sessions
from chainfluence.users import repository as users


class _Ports(Sessions, Configured, Protocol):
    """What this module needs of the process."""


class UnitOfWorkMiddleware(BaseMiddleware):
    """One session per update: handlers get `session` (and `user` for people in private chats).

    The session commits when the handler returns and then sends what it queued (jobs, pushes);
    an exception rolls everything back. People who talk to the bot are registered on the spot.
    """

    def __init__(self, runtime: _Ports) -> None:
        self.runtime = runtime

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.runtime.session() as session:
            data["session"] = session
            data["runtime"] = self.runtime
            person: User | None = data.get("event_from_user")
            chat = data.get("event_chat")
            if (
                person is not None
                and not person.is_bot
                and (chat is None or chat.type == "private")
            ):
                data["user"] = await users.upsert_from_telegram(
                    session,
                    user_id=person.id,
                    first_name=person.first_name,
                    last_name=person.last_name,
                    username=person.username,
                    language_code=person.language_code,
                    is_premium=bool(person.is_premium),
                )
            return await handler(event, data)
