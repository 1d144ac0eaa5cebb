"""Changing what was sent: editMessageText/Caption/ReplyMarkup and deleteMessage.

Edit rules: a bot edits its own messages; in a channel its own posts need can_post_messages (or
can_edit_messages) and other people's posts need can_edit_messages. Deleting follows the documented
limits: under 48 hours old; own messages anywhere except channels, where own posts need
can_post_messages and anyone's need can_delete_messages; incoming messages in private chats; any
message in a group the bot administers.
"""

from __future__ import annotations

from typing import Any

from chainfluence_sandbox.telegram import events
from chainfluence_sandbox.telegram.errors import bad_request, message_not_modified
from chainfluence_sandbox.telegram.methods.access import Access, chat_with_access, find_message
from chainfluence_sandbox.telegram.methods.content import (
    caption_text,
    link_preview_options,
    message_text,
    reply_markup,
)
from chainfluence_sandbox.telegram.methods.registry import MethodCall, method
from chainfluence_sandbox.telegram.rendering import message_json
from chainfluence_sandbox.telegram.state import Chat, ChatType, MemberStatus, Message

DELETE_WINDOW_SECONDS = 48 * 3600


def _not_inline(call: MethodCall) -> None:
    if call.params.has("inline_message_id"):
        raise bad_request("the emulator has no inline messages (inline_message_id)")


def _editable(call: MethodCall) -> tuple[Chat, Message]:
    _not_inline(call)
    chat = chat_with_access(call, call.params.chat_id(), Access.EDIT)
    message = find_message(chat, call.params.get_int("message_id"), "message to edit")
    own = message.author_id == call.bot.id
    if chat.type == ChatType.CHANNEL:
        rights = chat.rights_of(call.bot.id)
        allowed = rights is not None and (
            rights.can_edit_messages or (own and rights.can_post_messages)
        )
    else:
        allowed = own
    if not allowed or message.forward_origin is not None:
        raise bad_request("message can't be edited")
    return chat, message


def _apply_edit(
    call: MethodCall, chat: Chat, message: Message, changes: dict[str, Any]
) -> dict[str, Any]:
    before = message.content()
    previous = {name: getattr(message, name) for name in changes}
    for name, value in changes.items():
        setattr(message, name, value)
    if message.content() == before:
        for name, value in previous.items():
            setattr(message, name, value)
        raise message_not_modified()
    message.edit_date = call.state.clock.now()
    events.chat_message(call.state, chat, message, edited=True)
    return message_json(call.state, chat, message)


@method("editMessageText")
async def edit_message_text(call: MethodCall) -> dict[str, Any]:
    text, entities = message_text(call)
    chat, message = _editable(call)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    changes = {
        "text": text,
        "entities": entities,
        "reply_markup": reply_markup(call, chat),
        "link_preview_options": link_preview_options(call),
    }
    return _apply_edit(call, chat, message, changes)


@method("editMessageCaption")
async def edit_message_caption(call: MethodCall) -> dict[str, Any]:
    chat, message = _editable(call)
    if message.photo_file_id is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = caption_text(call)
    changes = {
        "caption": caption,
        "caption_entities": entities,
        "reply_markup": reply_markup(call, chat),
    }
    return _apply_edit(call, chat, message, changes)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: MethodCall) -> dict[str, Any]:
    chat, message = _editable(call)
    return _apply_edit(call, chat, message, {"reply_markup": reply_markup(call, chat)})


@method("deleteMessage")
async def delete_message(call: MethodCall) -> bool:
    chat = chat_with_access(call, call.params.chat_id(), Access.WRITE)
    message = find_message(chat, call.params.get_int("message_id"), "message to delete")
    state, bot = call.state, call.bot
    if state.clock.now() - message.date >= DELETE_WINDOW_SECONDS or not _may_delete(
        chat, message, bot.id
    ):
        raise bad_request("message can't be deleted")
    message.deleted_at = state.clock.now()
    message.deleted_by = bot.id
    return True


def _may_delete(chat: Chat, message: Message, bot_id: int) -> bool:
    own = message.author_id == bot_id
    if chat.type == ChatType.PRIVATE:
        return True
    rights = chat.rights_of(bot_id)
    if chat.type == ChatType.CHANNEL:
        if rights is None:
            return False
        return rights.can_delete_messages or (own and rights.can_post_messages)
    if own:
        return True
    if chat.type == ChatType.GROUP:
        return chat.status_of(bot_id) == MemberStatus.ADMINISTRATOR
    return rights is not None and rights.can_delete_messages
