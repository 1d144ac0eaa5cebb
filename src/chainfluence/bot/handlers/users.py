"""People and the bot: /start (with deep links) and blocking/unblocking the bot."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import ChatMemberUpdated, Message
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.kit.db import after_commit
from chainfluence.kit.time import utcnow
from chainfluence.models import User
from chainfluence.ports import Configured
from chainfluence.telegram.links import clean_start_param, open_app_keyboard

_GREETINGS = {
    "deal": "Your deal #{id} is waiting for you in Chainfluence.",
    "offer": "Offer #{id} is open in Chainfluence.",
    "campaign": "Campaign #{id} is open in Chainfluence.",
    "channel": "Your channel is open in Chainfluence.",
    "review": "A review is waiting for you in Chainfluence.",
}
_ADD_CHANNEL = (
    "To list a channel: add this bot to it as an administrator with the rights to post, edit "
    "and delete messages, then open the app and add the channel by its @username (or its id "
    "if it is private)."
)
_WELCOME = (
    "Welcome to Chainfluence: ads in Telegram channels, paid through a TON escrow that releases "
    "the money only when the post stayed up as agreed. Open the app to get started."
)


def greeting(start_param: str | None) -> str:
    if start_param is None:
        return _WELCOME
    if start_param == "channel_add":
        return _ADD_CHANNEL
    kind, _, ident = start_param.partition("_")
    return _GREETINGS.get(kind, _WELCOME).format(id=ident)


async def start(
    message: Message, command: CommandObject, user: User, runtime: Configured, session: AsyncSession
) -> None:
    # Starting the bot makes pushes possible, and lifts a block recorded earlier.
    now = utcnow()
    if user.bot_started_at is None:
        user.bot_started_at = now
    user.bot_blocked_at = None
    start_param = clean_start_param(command.args)
    button = "Open deal" if start_param and start_param.startswith("deal_") else "Open app"
    keyboard = open_app_keyboard(runtime.settings.telegram, button, start_param)

    async def reply() -> None:
        await message.answer(greeting(start_param), reply_markup=keyboard)

    # Sent once the user's state is committed, like every side effect of an update.
    after_commit(session, reply)


async def private_status(update: ChatMemberUpdated, user: User) -> None:
    """member → kicked: the person blocked the bot; kicked → member: they unblocked it."""
    status = str(update.new_chat_member.status)
    if status == "kicked":
        user.bot_blocked_at = user.bot_blocked_at or utcnow()
    elif status == "member":
        user.bot_blocked_at = None
        user.bot_started_at = user.bot_started_at or utcnow()


def router() -> Router:
    """A fresh router (an aiogram router belongs to one dispatcher)."""
    users = Router(name="users")
    users.message.register(start, CommandStart(), F.chat.type == "private")
    users.my_chat_member.register(private_status, F.chat.type == "private")
    return users
