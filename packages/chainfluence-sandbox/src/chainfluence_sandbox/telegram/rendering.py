"""Emulator objects as Bot API JSON (the shapes aiogram's strict models validate)."""

from __future__ import annotations

import hashlib
from typing import Any

from chainfluence_sandbox.telegram.state import (
    AdminRights,
    Chat,
    ChatType,
    EmulatorState,
    MemberStatus,
    Message,
    User,
)


def user_json(user: User) -> dict[str, Any]:
    data: dict[str, Any] = {"id": user.id, "is_bot": user.is_bot, "first_name": user.first_name}
    if user.last_name:
        data["last_name"] = user.last_name
    if user.username:
        data["username"] = user.username
    if user.language_code and not user.is_bot:
        data["language_code"] = user.language_code
    if user.is_premium:
        data["is_premium"] = True
    return data


def bot_me_json(user: User) -> dict[str, Any]:
    return {
        **user_json(user),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def chat_json(state: EmulatorState, chat: Chat) -> dict[str, Any]:
    if chat.type == ChatType.PRIVATE:
        assert chat.user_id is not None
        user = state.users[chat.user_id]
        data: dict[str, Any] = {"id": chat.id, "type": "private", "first_name": user.first_name}
        if user.last_name:
            data["last_name"] = user.last_name
        if user.username:
            data["username"] = user.username
        return data
    data = {"id": chat.id, "type": chat.type.value, "title": chat.title}
    if chat.username:
        data["username"] = chat.username
    return data


def chat_full_json(state: EmulatorState, chat: Chat, bot_id: int) -> dict[str, Any]:
    data = chat_json(state, chat)
    data["accent_color_id"] = abs(chat.id) % 7
    data["max_reaction_count"] = 11
    is_user = chat.type == ChatType.PRIVATE
    data["accepted_gift_types"] = {
        "unlimited_gifts": is_user,
        "limited_gifts": is_user,
        "unique_gifts": is_user,
        "premium_subscription": is_user,
        "gifts_from_channels": is_user,
    }
    username = data.get("username")
    if username:
        data["active_usernames"] = [username]
    if chat.description and not is_user:
        data["description"] = chat.description
    rights = chat.rights_of(bot_id)
    if rights is not None and rights.can_invite_users:
        digest = hashlib.sha256(str(chat.id).encode()).hexdigest()[:16]
        data["invite_link"] = f"https://t.me/+{digest}"
    if chat.type == ChatType.CHANNEL:
        data["has_visible_history"] = True
    return data


def member_json(state: EmulatorState, chat: Chat, user: User, viewer_bot_id: int) -> dict[str, Any]:
    member = chat.members.get(user.id)
    status = member.status if member else MemberStatus.LEFT
    data: dict[str, Any] = {"status": status.value, "user": user_json(user)}
    if member is None:
        return data
    if status == MemberStatus.CREATOR:
        data["is_anonymous"] = False
    elif status == MemberStatus.ADMINISTRATOR:
        rights = member.rights or AdminRights()
        data["can_be_edited"] = member.promoted_by == viewer_bot_id and user.id != viewer_bot_id
        data.update(rights.as_dict(chat.type))
    elif status == MemberStatus.KICKED:
        data["until_date"] = 0
    if member.custom_title and status in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR):
        data["custom_title"] = member.custom_title
    return data


def photo_json(state: EmulatorState, file_id: str) -> list[dict[str, Any]]:
    stored = state.files[file_id]
    sizes = [state.files[size_id] for size_id in stored.photo_sizes or [file_id]]
    return [
        {
            "file_id": size.file_id,
            "file_unique_id": size.file_unique_id,
            "file_size": size.file_size,
            "width": size.width or 0,
            "height": size.height or 0,
        }
        for size in sizes
    ]


def message_json(state: EmulatorState, chat: Chat, message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {"message_id": message.message_id}
    if chat.type == ChatType.CHANNEL:
        data["sender_chat"] = chat_json(state, chat)
    else:
        data["from"] = user_json(state.users[message.author_id])
    data["chat"] = chat_json(state, chat)
    data["date"] = message.date
    if message.forward_origin is not None:
        data["forward_origin"] = message.forward_origin
    if message.media_group_id:
        data["media_group_id"] = message.media_group_id
    if message.edit_date is not None:
        data["edit_date"] = message.edit_date
    if message.text is not None:
        data["text"] = message.text
        if message.entities:
            data["entities"] = message.entities
        if message.link_preview_options:
            data["link_preview_options"] = message.link_preview_options
    if message.document_file_id is not None:
        data["document"] = document_json(state, message.document_file_id)
    if message.photo_file_id is not None or message.document_file_id is not None:
        if message.photo_file_id is not None:
            data["photo"] = photo_json(state, message.photo_file_id)
        if message.caption:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = message.caption_entities
    if message.reply_markup is not None:
        data["reply_markup"] = message.reply_markup
    return data


def document_json(state: EmulatorState, file_id: str) -> dict[str, Any]:
    stored = state.files[file_id]
    data: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.file_size,
    }
    if stored.file_name:
        data["file_name"] = stored.file_name
    if stored.mime_type:
        data["mime_type"] = stored.mime_type
    return data


def forward_origin_json(state: EmulatorState, chat: Chat, message: Message) -> dict[str, Any]:
    """Where a forwarded copy says it came from (forwarding a forward keeps the first origin)."""
    if message.forward_origin is not None:
        return message.forward_origin
    if chat.type == ChatType.CHANNEL:
        return {
            "type": "channel",
            "chat": chat_json(state, chat),
            "message_id": message.message_id,
            "date": message.date,
        }
    return {
        "type": "user",
        "sender_user": user_json(state.users[message.author_id]),
        "date": message.date,
    }
