"""Turning things that happen in the emulated world into updates for the bots that would see them.

Updates are snapshots rendered when they happen, as Telegram's are. Who sees what:
- channel posts and their edits go to bots that administer the channel, except the bot that wrote
  the post: Telegram sends a bot no update about its own outgoing messages, not even when a person
  later edits one (tdlib/telegram-bot-api#121), so edits of the bot's own posts must be probed;
- in groups a bot sees commands, and everything once it is an administrator (privacy mode);
- `my_chat_member` goes to the bot whose membership changed, `from` being who changed it;
- `chat_member` (opt-in) goes to the bots administering the chat when a person's membership or
  administrator rights change.
"""

from __future__ import annotations

from typing import Any

from chainfluence_sandbox.telegram.rendering import (
    chat_json,
    member_json,
    message_json,
    user_json,
)
from chainfluence_sandbox.telegram.state import (
    BotAccount,
    CallbackQuery,
    Chat,
    ChatType,
    EmulatorState,
    MemberStatus,
    Message,
)


def my_chat_member(
    state: EmulatorState,
    bot: BotAccount,
    chat: Chat,
    *,
    actor_id: int,
    old: dict[str, Any],
    new: dict[str, Any],
) -> None:
    if old == new:
        return
    bot.updates.push(
        "my_chat_member",
        {
            "chat": chat_json(state, chat),
            "from": user_json(state.users[actor_id]),
            "date": state.clock.now(),
            "old_chat_member": old,
            "new_chat_member": new,
        },
    )


def chat_member(
    state: EmulatorState, chat: Chat, user: Any, *, actor_id: int, old: dict[str, Any]
) -> None:
    """A person's membership changed: as Telegram, tell every bot administering the chat (if it
    asked for `chat_member` updates), each seeing the member as it would from getChatMember."""
    for bot in state.bots.values():
        if chat.status_of(bot.id) not in (MemberStatus.ADMINISTRATOR, MemberStatus.CREATOR):
            continue
        new = member_json(state, chat, user, bot.id)
        if {**old, "can_be_edited": None} == {**new, "can_be_edited": None}:
            continue
        bot.updates.push(
            "chat_member",
            {
                "chat": chat_json(state, chat),
                "from": user_json(state.users[actor_id]),
                "date": state.clock.now(),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )


def chat_message(state: EmulatorState, chat: Chat, message: Message, *, edited: bool) -> None:
    """Deliver a new or edited message written by a person to every bot entitled to see it."""
    if chat.type == ChatType.PRIVATE:
        assert chat.bot_id is not None
        recipients = [state.bots[chat.bot_id]]
    else:
        recipients = [bot for bot in state.bots.values() if _sees(chat, bot, message)]
    if chat.type == ChatType.CHANNEL:
        kind = "edited_channel_post" if edited else "channel_post"
    else:
        kind = "edited_message" if edited else "message"
    payload = message_json(state, chat, message)
    for bot in recipients:
        if bot.id != message.author_id:
            bot.updates.push(kind, payload)


def _sees(chat: Chat, bot: BotAccount, message: Message) -> bool:
    status = chat.status_of(bot.id)
    if chat.type == ChatType.CHANNEL:
        return status == MemberStatus.ADMINISTRATOR
    if status == MemberStatus.ADMINISTRATOR:
        return True
    if status != MemberStatus.MEMBER:
        return False
    text = message.text or message.caption or ""
    return text.startswith("/")


def callback_query(state: EmulatorState, bot: BotAccount, query: CallbackQuery) -> None:
    chat = (
        state.private_chat(bot, query.chat_id) if query.chat_id > 0 else state.chats[query.chat_id]
    )
    assert chat is not None
    message = chat.messages[query.message_id]
    bot.updates.push(
        "callback_query",
        {
            "id": query.id,
            "from": user_json(state.users[query.user_id]),
            "message": message_json(state, chat, message),
            "chat_instance": str(abs(hash((bot.id, chat.id))) % 10**18),
            "data": query.data,
        },
    )
