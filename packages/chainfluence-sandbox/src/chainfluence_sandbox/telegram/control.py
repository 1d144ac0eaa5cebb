"""The control API under /control: act as people in the emulated Telegram and inspect its state.

Documented in README.md next to this file. Errors are `{"detail": "..."}` with 400 (a request that
Telegram's rules forbid, e.g. a member without can_post_messages posting) or 404 (unknown id).
"""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Response

from chainfluence_sandbox.telegram import actions
from chainfluence_sandbox.telegram.errors import EmulatorNotFoundError, EmulatorUsageError
from chainfluence_sandbox.telegram.limits import Fault
from chainfluence_sandbox.telegram.rendering import document_json, photo_json
from chainfluence_sandbox.telegram.schemas import (
    BotChatOut,
    BotCreate,
    BotOut,
    BotSelector,
    ButtonPress,
    CallbackQueryOut,
    CallOut,
    ChatCreate,
    ChatOut,
    ChatUpdate,
    ClockAdvance,
    ClockOut,
    FaultCreate,
    InitDataOut,
    InitDataRequest,
    MemberAdd,
    MemberOut,
    MessageOut,
    PostCreate,
    PostEdit,
    Promotion,
    PublicKeyOut,
    RateLimits,
    StartBot,
    UserCreate,
    UserMessage,
    UserOut,
    ViewCurveSet,
    ViewsSet,
)
from chainfluence_sandbox.telegram.state import (
    AdminRights,
    BotAccount,
    CallbackQuery,
    Chat,
    ChatType,
    EmulatorState,
    Member,
    Message,
    User,
)
from chainfluence_sandbox.telegram.views import CurveKind, ViewCurve
from chainfluence_sandbox.telegram.webapp import build_init_data, public_key

# --- state objects as control API bodies ----------------------------------------------------


def user_out(state: EmulatorState, user: User) -> UserOut:
    bot_chats = [
        BotChatOut(bot_id=bot.id, started=chat.started, blocked=chat.blocked)
        for bot in state.bots.values()
        if (chat := bot.private_chats.get(user.id)) is not None
    ]
    return UserOut(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
        is_premium=user.is_premium,
        is_bot=user.is_bot,
        bot_chats=bot_chats,
    )


def bot_out(bot: BotAccount) -> BotOut:
    return BotOut(
        id=bot.id,
        username=bot.user.username,
        first_name=bot.user.first_name,
        token=bot.token,
        webhook_url=bot.webhook.url,
        webhook_last_error=bot.webhook.last_error_message,
        webhook_delivered=bot.webhook.delivered,
        pending_update_count=bot.updates.pending_count,
        commands=dict(bot.commands),
        menu_buttons={str(k or "default"): v for k, v in bot.menu_buttons.items()},
    )


def member_out(chat: Chat, member: Member) -> MemberOut:
    return MemberOut(
        user_id=member.user_id,
        status=member.status.value,
        rights=member.rights.as_dict(chat.type) if member.rights else None,
        custom_title=member.custom_title,
        promoted_by=member.promoted_by,
    )


def chat_out(chat: Chat) -> ChatOut:
    return ChatOut(
        id=chat.id,
        type=chat.type.value,
        title=chat.title,
        username=chat.username,
        description=chat.description,
        member_count=chat.member_count(),
        hidden_subscribers=chat.hidden_subscribers,
        members=[member_out(chat, m) for m in chat.members.values()],
        view_curve=ViewCurveSet(
            kind=curve.kind.value,
            reach=curve.reach,
            half_life_hours=curve.half_life_hours,
            spike_at_hours=curve.spike_at_hours,
            spike_views=curve.spike_views,
            forward_per_mille=curve.forward_per_mille,
        )
        if (curve := chat.view_curve) is not None
        else None,
    )


def message_out(state: EmulatorState, message: Message) -> MessageOut:
    chat = state.find_chat(message.chat_id)
    views, forwards = (
        chat.views_of(message, state.clock.now()) if chat is not None else (message.views, 0)
    )
    return MessageOut(
        chat_id=message.chat_id,
        message_id=message.message_id,
        date=message.date,
        author_id=message.author_id,
        sent_by_bot=message.author_id in state.bots,
        text=message.text,
        entities=message.entities,
        caption=message.caption,
        caption_entities=message.caption_entities,
        photo=photo_json(state, message.photo_file_id) if message.photo_file_id else None,
        document=(
            document_json(state, message.document_file_id) if message.document_file_id else None
        ),
        media_group_id=message.media_group_id,
        reply_markup=message.reply_markup,
        link_preview_options=message.link_preview_options,
        forward_origin=message.forward_origin,
        edit_date=message.edit_date,
        views=views,
        forwards=forwards,
        deleted_at=message.deleted_at,
        deleted_by=message.deleted_by,
    )


def callback_out(query: CallbackQuery) -> CallbackQueryOut:
    return CallbackQueryOut(
        id=query.id,
        user_id=query.user_id,
        chat_id=query.chat_id,
        message_id=query.message_id,
        data=query.data,
        answer=query.answer,
    )


def _rights(raw: dict[str, bool] | None) -> AdminRights | None:
    return AdminRights.from_mapping(raw) if raw is not None else None


def _photo(body: PostCreate) -> bytes | None:
    if body.photo_base64 is None:
        return None
    try:
        return base64.b64decode(body.photo_base64, validate=True)
    except (binascii.Error, ValueError):
        raise EmulatorUsageError("photo_base64 is not valid base64") from None


# --- routes ---------------------------------------------------------------------------------


def control_router(state: EmulatorState) -> APIRouter:
    router = APIRouter(prefix="/control", tags=["telegram emulator control"])

    # world and clock
    @router.post("/reset", status_code=204)
    async def reset() -> Response:
        state.reset()
        return Response(status_code=204)

    @router.get("/clock")
    async def clock() -> ClockOut:
        return ClockOut(now=state.clock.now())

    @router.post("/clock/advance")
    async def advance_clock(body: ClockAdvance) -> ClockOut:
        return ClockOut(now=state.clock.advance(body.seconds))

    # bots
    @router.post("/bots", status_code=201)
    async def create_bot(body: BotCreate) -> BotOut:
        bot = state.add_bot(username=body.username, first_name=body.first_name, token=body.token)
        return bot_out(bot)

    @router.get("/bots")
    async def list_bots() -> list[BotOut]:
        return [bot_out(bot) for bot in state.bots.values()]

    @router.get("/bots/{bot}")
    async def get_bot(bot: str) -> BotOut:
        return bot_out(state.bot(bot))

    # users
    @router.post("/users", status_code=201)
    async def create_user(body: UserCreate) -> UserOut:
        user = state.add_user(
            first_name=body.first_name,
            last_name=body.last_name,
            username=body.username,
            language_code=body.language_code,
            is_premium=body.is_premium,
            user_id=body.id,
        )
        return user_out(state, user)

    @router.get("/users/{user_id}")
    async def get_user(user_id: int) -> UserOut:
        return user_out(state, state.user(user_id))

    @router.post("/users/{user_id}/start")
    async def start_bot(user_id: int, body: StartBot) -> MessageOut:
        message = actions.start_bot(state, state.bot(body.bot), user_id, body.payload)
        return message_out(state, message)

    @router.post("/users/{user_id}/messages")
    async def send_to_bot(user_id: int, body: UserMessage) -> MessageOut:
        bot = state.bot(body.bot)
        message = actions.send_to_bot(state, bot, user_id, body.text, entities=body.entities)
        return message_out(state, message)

    @router.post("/users/{user_id}/block", status_code=204)
    async def block_bot(user_id: int, body: BotSelector) -> Response:
        actions.block_bot(state, state.bot(body.bot), user_id)
        return Response(status_code=204)

    @router.post("/users/{user_id}/unblock", status_code=204)
    async def unblock_bot(user_id: int, body: BotSelector) -> Response:
        actions.unblock_bot(state, state.bot(body.bot), user_id)
        return Response(status_code=204)

    @router.post("/users/{user_id}/callback-queries", status_code=201)
    async def press_button(user_id: int, body: ButtonPress) -> CallbackQueryOut:
        bot = state.bot(body.bot)
        chat = state.chat_for_bot(bot, body.chat)
        query = actions.press_button(state, bot, user_id, chat, body.message_id, body.data)
        return callback_out(query)

    @router.get("/callback-queries/{query_id}")
    async def get_callback_query(query_id: str) -> CallbackQueryOut:
        query = state.callback_queries.get(query_id)
        if query is None:
            raise EmulatorNotFoundError(f"callback query {query_id} not found")
        return callback_out(query)

    @router.post("/users/{user_id}/web-app-init-data")
    async def web_app_init_data(user_id: int, body: InitDataRequest) -> InitDataOut:
        bot = state.bot(body.bot)
        user = state.human(user_id)
        init_data = build_init_data(
            state,
            bot,
            user,
            auth_date=body.auth_date,
            query_id=body.query_id,
            start_param=body.start_param,
            chat_type=body.chat_type,
            chat_instance=body.chat_instance,
            signed=body.signed,
        )
        return InitDataOut(init_data=init_data, user_id=user.id, bot_id=bot.id)

    @router.get("/web-app/public-key")
    async def web_app_public_key() -> PublicKeyOut:
        return PublicKeyOut(public_key_hex=public_key(state).hex())

    # chats, members, posts
    @router.post("/chats", status_code=201)
    async def create_chat(body: ChatCreate) -> ChatOut:
        chat = state.add_chat(
            chat_type=ChatType(body.type),
            title=body.title,
            owner_id=body.owner_id,
            username=body.username.lstrip("@") if body.username else None,
            description=body.description,
            chat_id=body.id,
            hidden_subscribers=body.subscribers,
        )
        return chat_out(chat)

    @router.get("/chats/{chat}")
    async def get_chat(chat: str) -> ChatOut:
        return chat_out(state.chat(chat))

    @router.patch("/chats/{chat}")
    async def update_chat(chat: str, body: ChatUpdate) -> ChatOut:
        found = state.chat(chat)
        if body.title is not None:
            found.title = body.title
        if body.description is not None:
            found.description = body.description
        if body.subscribers is not None:
            found.hidden_subscribers = body.subscribers
        return chat_out(found)

    @router.post("/chats/{chat}/members", status_code=201)
    async def add_member(chat: str, body: MemberAdd) -> MemberOut:
        found = state.chat(chat)
        member = actions.add_member(state, found, body.user_id, by_user_id=body.by_user_id)
        return member_out(found, member)

    @router.delete("/chats/{chat}/members/{user_id}")
    async def remove_member(
        chat: str, user_id: int, by_user_id: int | None = None, ban: bool = False
    ) -> MemberOut:
        found = state.chat(chat)
        member = actions.remove_member(state, found, user_id, by_user_id=by_user_id, ban=ban)
        return member_out(found, member)

    @router.put("/chats/{chat}/admins/{user_id}")
    async def promote(chat: str, user_id: int, body: Promotion) -> MemberOut:
        found = state.chat(chat)
        member = actions.promote(
            state,
            found,
            user_id,
            rights=_rights(body.rights),
            by_user_id=body.by_user_id,
            custom_title=body.custom_title,
        )
        return member_out(found, member)

    @router.delete("/chats/{chat}/admins/{user_id}")
    async def demote(chat: str, user_id: int, by_user_id: int | None = None) -> MemberOut:
        found = state.chat(chat)
        member = actions.demote(state, found, user_id, by_user_id=by_user_id)
        return member_out(found, member)

    @router.post("/chats/{chat}/posts", status_code=201)
    async def create_post(chat: str, body: PostCreate) -> MessageOut:
        message = actions.post(
            state,
            state.chat(chat),
            by_user_id=body.by_user_id,
            text=body.text,
            entities=body.entities,
            parse_mode=body.parse_mode,
            photo=_photo(body),
            photo_file_id=body.photo_file_id,
            caption=body.caption,
            reply_markup=body.reply_markup,
            views=body.views,
        )
        return message_out(state, message)

    @router.patch("/chats/{chat}/posts/{message_id}")
    async def edit_post(chat: str, message_id: int, body: PostEdit) -> MessageOut:
        message = actions.edit_post(
            state,
            state.chat(chat),
            message_id,
            by_user_id=body.by_user_id,
            text=body.text,
            entities=body.entities,
            parse_mode=body.parse_mode,
            caption=body.caption,
        )
        return message_out(state, message)

    @router.delete("/chats/{chat}/posts/{message_id}")
    async def delete_post(chat: str, message_id: int, by_user_id: int | None = None) -> MessageOut:
        message = actions.delete_post(state, state.chat(chat), message_id, by_user_id=by_user_id)
        return message_out(state, message)

    @router.put("/chats/{chat}/posts/{message_id}/views")
    async def set_views(chat: str, message_id: int, body: ViewsSet) -> MessageOut:
        return message_out(state, actions.set_views(state.chat(chat), message_id, body.views))

    @router.put("/chats/{chat}/view-curve")
    async def set_view_curve(chat: str, body: ViewCurveSet) -> ChatOut:
        found = state.chat(chat)
        if found.type != ChatType.CHANNEL:
            raise EmulatorUsageError("view curves are for channels")
        found.view_curve = ViewCurve(
            kind=CurveKind(body.kind),
            reach=body.reach,
            half_life_hours=body.half_life_hours,
            spike_at_hours=body.spike_at_hours,
            spike_views=body.spike_views,
            forward_per_mille=body.forward_per_mille,
        )
        return chat_out(found)

    @router.delete("/chats/{chat}/view-curve")
    async def clear_view_curve(chat: str) -> ChatOut:
        found = state.chat(chat)
        found.view_curve = None
        return chat_out(found)

    @router.get("/chats/{chat}/messages")
    async def list_messages(
        chat: str,
        bot: str | None = None,
        include_deleted: bool = False,
        sent_by_bot: bool | None = None,
    ) -> list[MessageOut]:
        found = state.chat_for_bot(state.bot(bot), chat) if _is_user_ref(chat) else state.chat(chat)
        result = []
        for message in sorted(found.messages.values(), key=lambda m: m.message_id):
            if message.is_deleted and not include_deleted:
                continue
            out = message_out(state, message)
            if sent_by_bot is not None and out.sent_by_bot != sent_by_bot:
                continue
            result.append(out)
        return result

    @router.get("/chats/{chat}/messages/{message_id}")
    async def get_message(chat: str, message_id: int, bot: str | None = None) -> MessageOut:
        found = state.chat_for_bot(state.bot(bot), chat) if _is_user_ref(chat) else state.chat(chat)
        message = found.messages.get(message_id)
        if message is None:
            raise EmulatorNotFoundError(f"message {message_id} not found in chat {chat}")
        return message_out(state, message)

    # failures, limits, traffic
    @router.post("/faults", status_code=204)
    async def add_fault(body: FaultCreate) -> Response:
        state.faults.add(
            Fault(
                method=body.method.lower() if body.method else None,
                remaining=body.count,
                error_code=body.error_code,
                retry_after=body.retry_after,
                description=body.description,
                after_effect=body.after_effect,
            )
        )
        return Response(status_code=204)

    @router.delete("/faults", status_code=204)
    async def clear_faults() -> Response:
        state.faults.clear()
        return Response(status_code=204)

    @router.put("/rate-limits")
    async def set_rate_limits(body: RateLimits) -> RateLimits:
        state.rate_limiter.configure(
            enabled=body.enabled,
            per_chat_per_second=body.per_chat_per_second,
            global_per_second=body.global_per_second,
        )
        return body

    @router.get("/calls")
    async def list_calls(method: str | None = None) -> list[CallOut]:
        return [
            CallOut(
                bot_id=r.bot_id,
                method=r.method,
                params=r.params,
                ok=r.ok,
                error_code=r.error_code,
                description=r.description,
                at=r.at,
            )
            for r in state.calls.find(method)
        ]

    @router.delete("/calls", status_code=204)
    async def clear_calls() -> Response:
        state.calls.clear()
        return Response(status_code=204)

    return router


def _is_user_ref(chat: str) -> bool:
    return chat.isdigit()
