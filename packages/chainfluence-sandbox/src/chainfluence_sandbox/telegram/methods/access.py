"""Which chats and messages a bot may reach, with the Bot API server's checks and error wording.

Mirrors `check_chat` / `check_chat_access` of tdlib/telegram-bot-api: a private channel the bot was
never in is "chat not found"; a public one can be read by anyone but written only by members;
channel posting needs the can_post_messages right; private chats need the user to have started the
bot and not blocked it.
"""

from __future__ import annotations

from enum import Enum

from chainfluence_sandbox.telegram.errors import (
    bad_request,
    chat_not_found,
    forbidden,
    message_not_found,
)
from chainfluence_sandbox.telegram.methods.registry import MethodCall
from chainfluence_sandbox.telegram.state import (
    PRESENT_STATUSES,
    Chat,
    ChatType,
    MemberStatus,
    Message,
)


class Access(Enum):
    READ = "read"
    READ_MEMBERS = "read_members"
    EDIT = "edit"
    WRITE = "write"


def find_chat(call: MethodCall, ref: str) -> Chat:
    state, bot = call.state, call.bot
    if ref.startswith("@"):
        found = state.find_chat(ref)
        if found is None:
            raise chat_not_found()
        found.known_to.add(bot.id)
        return found
    try:
        chat_id = int(ref)
    except ValueError:
        raise chat_not_found() from None
    if chat_id > 0:
        return _private_chat(call, chat_id)
    chat = state.chats.get(chat_id)
    if chat is None or (bot.id not in chat.known_to and bot.id not in chat.members):
        raise chat_not_found()
    return chat


def _private_chat(call: MethodCall, user_id: int) -> Chat:
    """A person the emulator knows has a chat with the bot, started or not; others don't."""
    user = call.state.users.get(user_id)
    if user is None:
        raise chat_not_found()
    if user.is_bot:
        raise forbidden("bot can't send messages to bots")
    private = call.state.private_chat(call.bot, user_id, create=True)
    assert private is not None
    return private


def chat_with_access(call: MethodCall, ref: str, access: Access) -> Chat:
    chat = find_chat(call, ref)
    check_access(call, chat, access)
    return chat


def check_access(call: MethodCall, chat: Chat, access: Access) -> None:
    if chat.type == ChatType.PRIVATE:
        return
    status = chat.status_of(call.bot.id)
    noun = chat.type.value
    if status == MemberStatus.KICKED:
        raise forbidden(f"bot was kicked from the {noun} chat")
    if status in PRESENT_STATUSES:
        return
    if chat.type == ChatType.GROUP:
        needs_membership = access != Access.READ
    elif chat.is_public:
        needs_membership = access in (Access.EDIT, Access.WRITE)
    else:
        needs_membership = True
    if needs_membership:
        raise forbidden(f"bot is not a member of the {noun} chat")


def require_can_send(call: MethodCall, chat: Chat) -> None:
    """What sending into an accessible chat additionally needs."""
    if chat.type == ChatType.PRIVATE:
        if chat.blocked:
            raise forbidden("bot was blocked by the user")
        if not chat.started:
            raise forbidden("bot can't initiate conversation with a user")
        return
    if chat.type == ChatType.CHANNEL:
        rights = chat.rights_of(call.bot.id)
        if rights is None or not rights.can_post_messages:
            raise bad_request("need administrator rights in the channel chat")


def require_admin_view(call: MethodCall, chat: Chat) -> None:
    """Channel member lists are visible to administrators only."""
    if chat.type == ChatType.CHANNEL and chat.rights_of(call.bot.id) is None:
        raise bad_request("member list is inaccessible")


def find_message(chat: Chat, message_id: int, purpose: str) -> Message:
    """`purpose` is Telegram's phrase for the error, e.g. "message to delete"."""
    message = chat.live_message(message_id) if message_id > 0 else None
    if message is None:
        raise message_not_found(purpose)
    return message
