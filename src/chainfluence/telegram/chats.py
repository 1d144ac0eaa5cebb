"""Bot API helpers for chats: what a chat is, who administers it, what rights the bot holds.

Telegram's answers are turned into a few domain-free outcomes (`ChatUnreachable` with a reason,
`TelegramDown`) that the channels service maps to user-facing errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import ChatFullInfo, ChatMember

from chainfluence.kit.errors import TooManyRequests

# What the bot needs in a channel to publish an ad, fix it and take it down.
REQUIRED_RIGHTS = ("can_post_messages", "can_edit_messages", "can_delete_messages")
ADMIN_STATUSES = frozenset({"creator", "administrator"})

Unreachable = Literal["not_found", "not_member", "kicked", "no_member_list"]


class ChatUnreachable(Exception):
    def __init__(self, reason: Unreachable, description: str) -> None:
        super().__init__(description)
        self.reason = reason


class TelegramDown(Exception):
    """Telegram did not answer usefully (network, 5xx, flood limit): try again later."""


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    try:
        yield
    except TelegramForbiddenError as exc:
        text = exc.message.lower()
        reason: Unreachable = "kicked" if "kicked" in text else "not_member"
        raise ChatUnreachable(reason, exc.message) from exc
    except TelegramBadRequest as exc:
        text = exc.message.lower()
        if "chat not found" in text:
            raise ChatUnreachable("not_found", exc.message) from exc
        if "member list is inaccessible" in text:
            raise ChatUnreachable("no_member_list", exc.message) from exc
        raise
    except (TelegramRetryAfter, TelegramServerError, TelegramNetworkError) as exc:
        raise TelegramDown(str(exc)) from exc
    except TooManyRequests as exc:
        raise TelegramDown(exc.message) from exc


@dataclass(frozen=True, slots=True)
class MemberRights:
    status: str  # creator, administrator, member, restricted, left, kicked
    can_post_messages: bool = False
    can_edit_messages: bool = False
    can_delete_messages: bool = False

    @property
    def is_admin(self) -> bool:
        return self.status in ADMIN_STATUSES

    @property
    def missing(self) -> list[str]:
        """Required rights not held (all of them when not an administrator)."""
        return [right for right in REQUIRED_RIGHTS if not getattr(self, right)]

    @classmethod
    def of(cls, member: ChatMember) -> MemberRights:
        raw = getattr(member, "status", "left")
        status = str(raw.value if hasattr(raw, "value") else raw)
        if status == "creator":
            return cls(status, True, True, True)
        return cls(
            status,
            bool(getattr(member, "can_post_messages", False)),
            bool(getattr(member, "can_edit_messages", False)),
            bool(getattr(member, "can_delete_messages", False)),
        )


@dataclass(frozen=True, slots=True)
class Administrator:
    user_id: int
    username: str | None
    first_name: str
    is_bot: bool
    rights: MemberRights


async def get_chat(bot: Bot, chat: int | str) -> ChatFullInfo:
    with translate_errors():
        return await bot.get_chat(chat)


async def member_rights(bot: Bot, chat_id: int, user_id: int) -> MemberRights:
    """A member's status and rights; an id Telegram does not know reads as 'left'."""
    with translate_errors():
        try:
            return MemberRights.of(await bot.get_chat_member(chat_id, user_id))
        except TelegramBadRequest as exc:
            if "user not found" in exc.message.lower() or "participant" in exc.message.lower():
                return MemberRights("left")
            raise


async def bot_rights(bot: Bot, chat_id: int) -> MemberRights:
    """The bot's own status and rights in a chat (raises `ChatUnreachable` if it can't see it)."""
    return await member_rights(bot, chat_id, bot.id)


async def administrators(bot: Bot, chat_id: int) -> list[Administrator]:
    with translate_errors():
        members = await bot.get_chat_administrators(chat_id)
    return [
        Administrator(
            user_id=m.user.id,
            username=m.user.username,
            first_name=m.user.first_name,
            is_bot=m.user.is_bot,
            rights=MemberRights.of(m),
        )
        for m in members
    ]


async def member_count(bot: Bot, chat_id: int) -> int:
    with translate_errors():
        return await bot.get_chat_member_count(chat_id)
