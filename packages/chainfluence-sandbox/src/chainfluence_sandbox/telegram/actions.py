"""What people do in the emulated Telegram: join, promote, post, edit, delete, start or block a bot.

Each action checks what Telegram would let that person do, changes the state and emits the updates
bots would receive. The control API and `seed_demo` are thin layers over these functions.
"""

from __future__ import annotations

import secrets
from typing import Any

from chainfluence_sandbox.telegram import events
from chainfluence_sandbox.telegram.errors import EmulatorUsageError
from chainfluence_sandbox.telegram.media import store_photo
from chainfluence_sandbox.telegram.rendering import member_json, user_json
from chainfluence_sandbox.telegram.state import (
    AdminRights,
    BotAccount,
    CallbackQuery,
    Chat,
    ChatType,
    EmulatorState,
    Member,
    MemberStatus,
    Message,
)
from chainfluence_sandbox.telegram.text import format_text


def _resolve_user(state: EmulatorState) -> Any:
    def resolve(user_id: int) -> dict[str, Any] | None:
        user = state.users.get(user_id)
        return user_json(user) if user else None

    return resolve


def _notify_bot_membership(
    state: EmulatorState, chat: Chat, user_id: int, actor_id: int, old: dict[str, Any]
) -> None:
    bot = state.bots.get(user_id)
    if bot is None:
        events.chat_member(state, chat, state.user(user_id), actor_id=actor_id, old=old)
        return
    chat.known_to.add(bot.id)
    new = member_json(state, chat, bot.user, bot.id)
    events.my_chat_member(state, bot, chat, actor_id=actor_id, old=old, new=new)


def _require_right(chat: Chat, user_id: int, right: str, what: str) -> None:
    rights = chat.rights_of(user_id)
    if rights is None or not getattr(rights, right):
        raise EmulatorUsageError(f"user {user_id} may not {what} in chat {chat.id} ({right})")


def _actor(chat: Chat, by_user_id: int | None) -> int:
    """Who acts: the given person, or by default the chat's creator."""
    if by_user_id is not None:
        return by_user_id
    for member in chat.members.values():
        if member.status == MemberStatus.CREATOR:
            return member.user_id
    raise EmulatorUsageError(f"chat {chat.id} has no creator; say who acts")


# --- membership -----------------------------------------------------------------------------


def add_member(
    state: EmulatorState, chat: Chat, user_id: int, *, by_user_id: int | None = None
) -> Member:
    """A person joins (or is added to) a chat; a bot can be added to groups as a plain member."""
    user = state.user(user_id)
    if user.is_bot and chat.type == ChatType.CHANNEL:
        raise EmulatorUsageError("a bot joins a channel only as an administrator: promote it")
    current = chat.members.get(user_id)
    if current and current.status in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR):
        return current
    actor = user_id if not user.is_bot else _actor(chat, by_user_id)
    old = member_json(state, chat, user, user_id)
    member = Member(user_id, MemberStatus.MEMBER, since=state.clock.now())
    chat.members[user_id] = member
    _notify_bot_membership(state, chat, user_id, actor, old)
    return member


def promote(
    state: EmulatorState,
    chat: Chat,
    user_id: int,
    *,
    rights: AdminRights | None = None,
    by_user_id: int | None = None,
    custom_title: str | None = None,
) -> Member:
    """Make someone (a person or a bot) an administrator, or change an administrator's rights."""
    if chat.type == ChatType.PRIVATE:
        raise EmulatorUsageError("private chats have no administrators")
    user = state.user(user_id)
    actor = _actor(chat, by_user_id)
    _require_right(chat, actor, "can_promote_members", "promote members")
    if chat.status_of(user_id) == MemberStatus.CREATOR:
        raise EmulatorUsageError("the creator's rights can't be changed")
    if rights is None:
        rights = AdminRights.bot_defaults()
    old = member_json(state, chat, user, user_id)
    member = Member(
        user_id,
        MemberStatus.ADMINISTRATOR,
        rights=rights,
        custom_title=custom_title,
        promoted_by=actor,
        since=state.clock.now(),
    )
    chat.members[user_id] = member
    _notify_bot_membership(state, chat, user_id, actor, old)
    return member


def demote(
    state: EmulatorState, chat: Chat, user_id: int, *, by_user_id: int | None = None
) -> Member:
    """Take an administrator's rights away; they stay in the chat as a member."""
    user = state.user(user_id)
    actor = _actor(chat, by_user_id)
    _require_right(chat, actor, "can_promote_members", "demote administrators")
    if chat.status_of(user_id) != MemberStatus.ADMINISTRATOR:
        raise EmulatorUsageError(f"{user_id} is not an administrator of chat {chat.id}")
    old = member_json(state, chat, user, user_id)
    member = Member(user_id, MemberStatus.MEMBER, since=state.clock.now())
    chat.members[user_id] = member
    _notify_bot_membership(state, chat, user_id, actor, old)
    return member


def remove_member(
    state: EmulatorState,
    chat: Chat,
    user_id: int,
    *,
    by_user_id: int | None = None,
    ban: bool = False,
) -> Member:
    """Remove someone (or let them leave when `by_user_id` is themselves); `ban` keeps them out."""
    user = state.user(user_id)
    actor = _actor(chat, by_user_id)
    if chat.status_of(user_id) == MemberStatus.CREATOR:
        raise EmulatorUsageError("the creator can't be removed")
    if actor != user_id:
        _require_right(chat, actor, "can_restrict_members", "remove members")
    old = member_json(state, chat, user, user_id)
    member = Member(
        user_id, MemberStatus.KICKED if ban else MemberStatus.LEFT, since=state.clock.now()
    )
    chat.members[user_id] = member
    _notify_bot_membership(state, chat, user_id, actor, old)
    return member


# --- posts ----------------------------------------------------------------------------------


def post(
    state: EmulatorState,
    chat: Chat,
    *,
    by_user_id: int | None = None,
    text: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    parse_mode: str | None = None,
    photo: bytes | None = None,
    photo_file_id: str | None = None,
    caption: str | None = None,
    reply_markup: dict[str, Any] | None = None,
    views: int = 0,
) -> Message:
    """A person posts in a channel (needs can_post_messages) or writes in a group."""
    if chat.type == ChatType.PRIVATE:
        raise EmulatorUsageError("use send_to_bot for private chats")
    author = _actor(chat, by_user_id)
    state.human(author)
    if chat.type == ChatType.CHANNEL:
        _require_right(chat, author, "can_post_messages", "post")
    elif chat.status_of(author) not in (
        MemberStatus.CREATOR,
        MemberStatus.ADMINISTRATOR,
        MemberStatus.MEMBER,
    ):
        raise EmulatorUsageError(f"user {author} is not in chat {chat.id}")
    message = Message(
        chat_id=chat.id,
        message_id=chat.allocate_message_id(),
        date=state.clock.now(),
        author_id=author,
        reply_markup=reply_markup,
        views=views,
    )
    _set_content(
        state,
        message,
        text=text,
        entities=entities,
        parse_mode=parse_mode,
        photo=photo,
        photo_file_id=photo_file_id,
        caption=caption,
    )
    chat.messages[message.message_id] = message
    events.chat_message(state, chat, message, edited=False)
    return message


def _set_content(
    state: EmulatorState,
    message: Message,
    *,
    text: str | None,
    entities: list[dict[str, Any]] | None,
    parse_mode: str | None,
    photo: bytes | None,
    photo_file_id: str | None,
    caption: str | None,
) -> None:
    resolve = _resolve_user(state)
    if photo is not None or photo_file_id is not None:
        if photo is not None:
            photo_file_id = store_photo(state, photo).file_id
        elif photo_file_id not in state.files:
            raise EmulatorUsageError(f"unknown photo file_id {photo_file_id}")
        message.photo_file_id = photo_file_id
        plain, found = format_text(
            caption, parse_mode=parse_mode, entities=entities, resolve_user=resolve
        )
        message.caption, message.caption_entities = plain or None, found
        message.text, message.entities = None, []
        return
    plain, found = format_text(text, parse_mode=parse_mode, entities=entities, resolve_user=resolve)
    if not plain:
        raise EmulatorUsageError("a post needs text or a photo")
    message.text, message.entities = plain, found


def edit_post(
    state: EmulatorState,
    chat: Chat,
    message_id: int,
    *,
    by_user_id: int | None = None,
    text: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    parse_mode: str | None = None,
    caption: str | None = None,
) -> Message:
    """A person edits a post: their own, or anyone's with can_edit_messages (channels)."""
    message = _live_message(chat, message_id)
    editor = _actor(chat, by_user_id)
    state.human(editor)
    if message.author_id != editor:
        _require_right(chat, editor, "can_edit_messages", "edit others' posts")
    if message.photo_file_id is not None:
        resolve = _resolve_user(state)
        plain, found = format_text(
            caption, parse_mode=parse_mode, entities=entities, resolve_user=resolve
        )
        message.caption, message.caption_entities = plain or None, found
    else:
        if text is None:
            raise EmulatorUsageError("editing a text post needs the new text")
        _set_content(
            state,
            message,
            text=text,
            entities=entities,
            parse_mode=parse_mode,
            photo=None,
            photo_file_id=None,
            caption=None,
        )
    message.edit_date = state.clock.now()
    events.chat_message(state, chat, message, edited=True)
    return message


def delete_post(
    state: EmulatorState, chat: Chat, message_id: int, *, by_user_id: int | None = None
) -> Message:
    """A person deletes a post. Telegram tells bots nothing about deletions."""
    message = _live_message(chat, message_id)
    actor = _actor(chat, by_user_id)
    if message.author_id != actor:
        _require_right(chat, actor, "can_delete_messages", "delete others' posts")
    message.deleted_at = state.clock.now()
    message.deleted_by = actor
    return message


def set_views(chat: Chat, message_id: int, views: int) -> Message:
    if views < 0:
        raise EmulatorUsageError("views can't be negative")
    message = _live_message(chat, message_id)
    message.views = views
    return message


def _live_message(chat: Chat, message_id: int) -> Message:
    message = chat.live_message(message_id)
    if message is None:
        raise EmulatorUsageError(f"message {message_id} not found in chat {chat.id}")
    return message


# --- private chats with a bot ---------------------------------------------------------------


def send_to_bot(
    state: EmulatorState,
    bot: BotAccount,
    user_id: int,
    text: str,
    *,
    entities: list[dict[str, Any]] | None = None,
) -> Message:
    """A person writes to the bot in private; writing first lets the bot answer."""
    chat = state.private_chat(bot, user_id, create=True)
    assert chat is not None
    if chat.blocked:
        unblock_bot(state, bot, user_id)
    chat.started = True
    plain, found = format_text(
        text, parse_mode=None, entities=entities, resolve_user=_resolve_user(state)
    )
    if not plain:
        raise EmulatorUsageError("a message needs text")
    message = Message(
        chat_id=chat.id,
        message_id=chat.allocate_message_id(),
        date=state.clock.now(),
        author_id=user_id,
        text=plain,
        entities=found,
    )
    chat.messages[message.message_id] = message
    events.chat_message(state, chat, message, edited=False)
    return message


def start_bot(
    state: EmulatorState, bot: BotAccount, user_id: int, payload: str | None = None
) -> Message:
    """The user presses Start on t.me/<bot>?start=<payload>: the bot gets `/start payload`."""
    text = "/start" if not payload else f"/start {payload}"
    return send_to_bot(state, bot, user_id, text)


def block_bot(state: EmulatorState, bot: BotAccount, user_id: int) -> None:
    chat = state.private_chat(bot, user_id, create=True)
    assert chat is not None
    if chat.blocked:
        return
    chat.blocked = True
    if chat.started:
        _private_status_change(state, bot, chat, user_id, MemberStatus.MEMBER, MemberStatus.KICKED)


def unblock_bot(state: EmulatorState, bot: BotAccount, user_id: int) -> None:
    chat = state.private_chat(bot, user_id)
    if chat is None or not chat.blocked:
        return
    chat.blocked = False
    if chat.started:
        _private_status_change(state, bot, chat, user_id, MemberStatus.KICKED, MemberStatus.MEMBER)


def _private_status_change(
    state: EmulatorState,
    bot: BotAccount,
    chat: Chat,
    user_id: int,
    old: MemberStatus,
    new: MemberStatus,
) -> None:
    def status(value: MemberStatus) -> dict[str, Any]:
        data: dict[str, Any] = {"status": value.value, "user": user_json(bot.user)}
        if value == MemberStatus.KICKED:
            data["until_date"] = 0
        return data

    events.my_chat_member(state, bot, chat, actor_id=user_id, old=status(old), new=status(new))


def press_button(
    state: EmulatorState,
    bot: BotAccount,
    user_id: int,
    chat: Chat,
    message_id: int,
    data: str,
) -> CallbackQuery:
    """The user taps an inline button carrying callback_data on a message the bot sent."""
    state.human(user_id)
    message = _live_message(chat, message_id)
    buttons = [
        button
        for row in (message.reply_markup or {}).get("inline_keyboard", [])
        for button in row
        if isinstance(button, dict)
    ]
    if not any(button.get("callback_data") == data for button in buttons):
        raise EmulatorUsageError(f"message {message_id} has no button with callback_data {data!r}")
    query = CallbackQuery(
        id=str(secrets.randbits(62)),
        bot_id=bot.id,
        user_id=user_id,
        chat_id=chat.id,
        message_id=message_id,
        data=data,
        created_at=state.clock.now(),
    )
    state.callback_queries[query.id] = query
    events.callback_query(state, bot, query)
    return query
