"""Sending: sendMessage, sendPhoto, sendDocument, sendMediaGroup, copyMessage, forwardMessage."""

from __future__ import annotations

import copy
from typing import Any

from chainfluence_sandbox.telegram import events
from chainfluence_sandbox.telegram.errors import bad_request
from chainfluence_sandbox.telegram.media import resolve_document, resolve_photo
from chainfluence_sandbox.telegram.methods.access import (
    Access,
    chat_with_access,
    find_message,
    require_can_send,
)
from chainfluence_sandbox.telegram.methods.content import (
    caption_text,
    link_preview_options,
    message_text,
    reply_markup,
)
from chainfluence_sandbox.telegram.methods.registry import MethodCall, method
from chainfluence_sandbox.telegram.rendering import forward_origin_json, message_json
from chainfluence_sandbox.telegram.state import Chat, Message

MAX_ALBUM = 10


def _target(call: MethodCall) -> Chat:
    chat = chat_with_access(call, call.params.chat_id(), Access.WRITE)
    require_can_send(call, chat)
    return chat


def _publish(call: MethodCall, chat: Chat, message: Message) -> dict[str, Any]:
    chat.messages[message.message_id] = message
    # Other bots administering the channel see this post; the sender never hears of its own.
    events.chat_message(call.state, chat, message, edited=False)
    return message_json(call.state, chat, message)


def _new_message(call: MethodCall, chat: Chat) -> Message:
    return Message(
        chat_id=chat.id,
        message_id=chat.allocate_message_id(),
        date=call.state.clock.now(),
        author_id=call.bot.id,
    )


@method("sendMessage")
async def send_message(call: MethodCall) -> dict[str, Any]:
    text, entities = message_text(call)
    chat = _target(call)
    markup = reply_markup(call, chat)
    message = _new_message(call, chat)
    message.text, message.entities = text, entities
    message.link_preview_options = link_preview_options(call)
    message.reply_markup = markup
    return _publish(call, chat, message)


@method("sendPhoto")
async def send_photo(call: MethodCall) -> dict[str, Any]:
    chat = _target(call)
    caption, entities = caption_text(call)
    markup = reply_markup(call, chat)
    file_id = await resolve_photo(call.state, call.params.get_str("photo"), call.params, "photo")
    message = _new_message(call, chat)
    message.photo_file_id = file_id
    message.caption, message.caption_entities = caption, entities
    message.reply_markup = markup
    return _publish(call, chat, message)


@method("sendDocument")
async def send_document(call: MethodCall) -> dict[str, Any]:
    chat = _target(call)
    caption, entities = caption_text(call)
    markup = reply_markup(call, chat)
    file_id = resolve_document(call.state, call.params.get_str("document"), call.params)
    message = _new_message(call, chat)
    message.document_file_id = file_id
    message.caption, message.caption_entities = caption, entities
    message.reply_markup = markup
    return _publish(call, chat, message)


@method("sendMediaGroup")
async def send_media_group(call: MethodCall) -> list[dict[str, Any]]:
    media = call.params.get_json("media", what="media")
    if not isinstance(media, list):
        raise bad_request("Expected an Array of InputMedia")
    if not media:
        raise bad_request("there are no messages to send")
    if len(media) > MAX_ALBUM:
        raise bad_request("too many messages to send as an album")
    chat = _target(call)
    prepared: list[tuple[str, str | None, list[dict[str, Any]]]] = []
    for item in media:
        if not isinstance(item, dict) or item.get("type") != "photo":
            raise bad_request("Can't parse InputMedia: the emulator sends photo albums only")
        caption, entities = caption_text(call, item)
        file_id = await resolve_photo(call.state, item.get("media"), call.params, "media")
        prepared.append((file_id, caption, entities))
    group_id = call.state.allocate_media_group_id()
    sent = []
    for file_id, caption, entities in prepared:
        message = _new_message(call, chat)
        message.photo_file_id = file_id
        message.caption, message.caption_entities = caption, entities
        message.media_group_id = group_id
        sent.append(_publish(call, chat, message))
    return sent


def _source(call: MethodCall, purpose: str) -> tuple[Chat, Message]:
    chat = chat_with_access(call, call.params.chat_id("from_chat_id"), Access.READ)
    return chat, find_message(chat, call.params.get_int("message_id"), purpose)


@method("forwardMessage")
async def forward_message(call: MethodCall) -> dict[str, Any]:
    chat = _target(call)
    source_chat, source = _source(call, "message to forward")
    message = _new_message(call, chat)
    _copy_content(source, message)
    message.forward_origin = forward_origin_json(call.state, source_chat, source)
    return _publish(call, chat, message)


@method("copyMessage")
async def copy_message(call: MethodCall) -> dict[str, Any]:
    chat = _target(call)
    _, source = _source(call, "message to copy")
    markup = reply_markup(call, chat)
    message = _new_message(call, chat)
    _copy_content(source, message)
    if source.photo_file_id is not None and call.params.raw("caption") is not None:
        message.caption, message.caption_entities = caption_text(call)
    message.reply_markup = markup
    _publish(call, chat, message)
    return {"message_id": message.message_id}


def _copy_content(source: Message, target: Message) -> None:
    target.text = source.text
    target.entities = copy.deepcopy(source.entities)
    target.link_preview_options = copy.deepcopy(source.link_preview_options)
    target.photo_file_id = source.photo_file_id
    target.caption = source.caption
    target.caption_entities = copy.deepcopy(source.caption_entities)
