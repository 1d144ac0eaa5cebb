"""Chats and members: getChat, getChatMember(Count), getChatAdministrators, leaveChat."""

from __future__ import annotations

from typing import Any

from chainfluence_sandbox.telegram import events
from chainfluence_sandbox.telegram.errors import bad_request, user_not_found
from chainfluence_sandbox.telegram.methods.access import (
    Access,
    chat_with_access,
    require_admin_view,
)
from chainfluence_sandbox.telegram.methods.registry import MethodCall, method
from chainfluence_sandbox.telegram.rendering import chat_full_json, member_json, user_json
from chainfluence_sandbox.telegram.state import ChatType, Member, MemberStatus


@method("getChat")
async def get_chat(call: MethodCall) -> dict[str, Any]:
    chat = chat_with_access(call, call.params.chat_id(), Access.READ)
    return chat_full_json(call.state, chat, call.bot.id)


@method("getChatMember")
async def get_chat_member(call: MethodCall) -> dict[str, Any]:
    user_id = call.params.get_int("user_id")
    access = Access.READ if user_id == call.bot.id else Access.READ_MEMBERS
    chat = chat_with_access(call, call.params.chat_id(), access)
    user = call.state.users.get(user_id)
    if user is None:
        raise user_not_found()
    if chat.type == ChatType.PRIVATE:
        if user_id not in (chat.user_id, call.bot.id):
            raise bad_request("user not found")
        return {"status": "member", "user": user_json(user)}
    if user_id != call.bot.id:
        require_admin_view(call, chat)
    return member_json(call.state, chat, user, call.bot.id)


@method("getChatMemberCount")
@method("getChatMembersCount")
async def get_chat_member_count(call: MethodCall) -> int:
    chat = chat_with_access(call, call.params.chat_id(), Access.READ_MEMBERS)
    if chat.type == ChatType.PRIVATE:
        return 1 if chat.user_id == call.bot.id else 2
    return chat.member_count()


@method("getChatAdministrators")
async def get_chat_administrators(call: MethodCall) -> list[dict[str, Any]]:
    chat = chat_with_access(call, call.params.chat_id(), Access.READ_MEMBERS)
    if chat.type == ChatType.PRIVATE:
        raise bad_request("there are no administrators in the private chat")
    require_admin_view(call, chat)
    admins = sorted(
        (
            m
            for m in chat.members.values()
            if m.status in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR)
        ),
        key=lambda m: (m.status != MemberStatus.CREATOR, m.since, m.user_id),
    )
    state = call.state
    return [member_json(state, chat, state.users[m.user_id], call.bot.id) for m in admins]


@method("leaveChat")
async def leave_chat(call: MethodCall) -> bool:
    chat = chat_with_access(call, call.params.chat_id(), Access.EDIT)
    if chat.type == ChatType.PRIVATE:
        raise bad_request("chat member status can't be changed in private chats")
    state, bot = call.state, call.bot
    old = member_json(state, chat, bot.user, bot.id)
    chat.members[bot.id] = Member(bot.id, MemberStatus.LEFT, since=state.clock.now())
    new = member_json(state, chat, bot.user, bot.id)
    events.my_chat_member(state, bot, chat, actor_id=bot.id, old=old, new=new)
    return True
