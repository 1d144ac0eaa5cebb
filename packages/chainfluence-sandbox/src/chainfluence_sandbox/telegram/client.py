"""`TelegramEmulatorControl`: the control API from Python, for tests and the demo scenario.

    control = TelegramEmulatorControl(base_url)
    owner = await control.create_user("Alice", username="alice")
    channel = await control.create_channel("Crypto Daily", owner_id=owner.id, username="crypto")
    await control.add_bot_as_admin(channel.id, rights={"can_post_messages": True})
    [post] = await control.messages(channel.id, sent_by_bot=True)

`chat` arguments take a chat id, "@username", or a user id for that user's chat with the bot.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from chainfluence_sandbox.telegram.schemas import (
    BotOut,
    CallbackQueryOut,
    CallOut,
    ChatOut,
    ClockOut,
    InitDataOut,
    MemberOut,
    MessageOut,
    PublicKeyOut,
    UserOut,
)

ChatRef = int | str
BotRef = int | str | None
Model = TypeVar("Model", bound=BaseModel)


class EmulatorControlError(Exception):
    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"{status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail


def _clean(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


class TelegramEmulatorControl:
    def __init__(self, base_url: str, *, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=30.0)
        self._owns_client = client is None

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> TelegramEmulatorControl:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        response = await self._client.request(
            method,
            f"{self.base_url}/control{path}",
            json=_clean(json) if json is not None else None,
            params=_clean(params) if params is not None else None,
        )
        if response.status_code >= 400:
            try:
                detail = str(response.json().get("detail"))
            except ValueError:
                detail = response.text
            raise EmulatorControlError(response.status_code, detail)
        return response.json() if response.content else None

    async def _one(self, model: type[Model], method: str, path: str, **kwargs: Any) -> Model:
        return model.model_validate(await self._request(method, path, **kwargs))

    async def _many(self, model: type[Model], method: str, path: str, **kwargs: Any) -> list[Model]:
        return [model.model_validate(item) for item in await self._request(method, path, **kwargs)]

    # --- world and clock ----------------------------------------------------------------------

    async def reset(self) -> None:
        await self._request("POST", "/reset")

    async def now(self) -> int:
        return (await self._one(ClockOut, "GET", "/clock")).now

    async def advance_clock(self, seconds: float) -> int:
        return (await self._one(ClockOut, "POST", "/clock/advance", json={"seconds": seconds})).now

    # --- accounts -----------------------------------------------------------------------------

    async def create_bot(
        self, username: str, *, first_name: str | None = None, token: str | None = None
    ) -> BotOut:
        body = {"username": username, "first_name": first_name, "token": token}
        return await self._one(BotOut, "POST", "/bots", json=body)

    async def bot(self, bot: BotRef = None) -> BotOut:
        if bot is None:
            return (await self._many(BotOut, "GET", "/bots"))[0]
        return await self._one(BotOut, "GET", f"/bots/{bot}")

    async def create_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_premium: bool = False,
        user_id: int | None = None,
    ) -> UserOut:
        body = {
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
            "is_premium": is_premium,
            "id": user_id,
        }
        return await self._one(UserOut, "POST", "/users", json=body)

    async def user(self, user_id: int) -> UserOut:
        return await self._one(UserOut, "GET", f"/users/{user_id}")

    # --- chats and membership -----------------------------------------------------------------

    async def create_channel(
        self,
        title: str,
        *,
        owner_id: int,
        username: str | None = None,
        description: str | None = None,
        subscribers: int = 0,
        chat_id: int | None = None,
    ) -> ChatOut:
        """A channel; public when it has a username, private (reachable by id only) otherwise."""
        return await self._create_chat(
            "channel", title, owner_id, username, description, subscribers, chat_id
        )

    async def create_group(
        self,
        title: str,
        *,
        owner_id: int,
        supergroup: bool = True,
        username: str | None = None,
        description: str | None = None,
    ) -> ChatOut:
        kind = "supergroup" if supergroup else "group"
        return await self._create_chat(kind, title, owner_id, username, description, 0, None)

    async def _create_chat(
        self,
        kind: str,
        title: str,
        owner_id: int,
        username: str | None,
        description: str | None,
        subscribers: int,
        chat_id: int | None,
    ) -> ChatOut:
        body = {
            "type": kind,
            "title": title,
            "owner_id": owner_id,
            "username": username,
            "description": description,
            "subscribers": subscribers,
            "id": chat_id,
        }
        return await self._one(ChatOut, "POST", "/chats", json=body)

    async def chat(self, chat: ChatRef) -> ChatOut:
        return await self._one(ChatOut, "GET", f"/chats/{chat}")

    async def update_chat(
        self,
        chat: ChatRef,
        *,
        title: str | None = None,
        description: str | None = None,
        subscribers: int | None = None,
    ) -> ChatOut:
        body = {"title": title, "description": description, "subscribers": subscribers}
        return await self._one(ChatOut, "PATCH", f"/chats/{chat}", json=body)

    async def add_member(
        self, chat: ChatRef, user_id: int, *, by_user_id: int | None = None
    ) -> MemberOut:
        body = {"user_id": user_id, "by_user_id": by_user_id}
        return await self._one(MemberOut, "POST", f"/chats/{chat}/members", json=body)

    async def remove_member(
        self, chat: ChatRef, user_id: int, *, by_user_id: int | None = None, ban: bool = False
    ) -> MemberOut:
        params = {"by_user_id": by_user_id, "ban": ban}
        return await self._one(
            MemberOut, "DELETE", f"/chats/{chat}/members/{user_id}", params=params
        )

    async def promote(
        self,
        chat: ChatRef,
        user_id: int,
        *,
        rights: Mapping[str, bool] | None = None,
        by_user_id: int | None = None,
        custom_title: str | None = None,
    ) -> MemberOut:
        """Make a person or a bot an administrator (a bot receives my_chat_member)."""
        body = {
            "rights": dict(rights) if rights is not None else None,
            "by_user_id": by_user_id,
            "custom_title": custom_title,
        }
        return await self._one(MemberOut, "PUT", f"/chats/{chat}/admins/{user_id}", json=body)

    async def demote(
        self, chat: ChatRef, user_id: int, *, by_user_id: int | None = None
    ) -> MemberOut:
        params = {"by_user_id": by_user_id}
        return await self._one(
            MemberOut, "DELETE", f"/chats/{chat}/admins/{user_id}", params=params
        )

    async def add_bot_as_admin(
        self,
        chat: ChatRef,
        *,
        rights: Mapping[str, bool] | None = None,
        by_user_id: int | None = None,
        bot: BotRef = None,
    ) -> MemberOut:
        """Promote the bot; `rights=None` grants what Telegram apps preselect (post, edit...)."""
        bot_id = (await self.bot(bot)).id
        return await self.promote(chat, bot_id, rights=rights, by_user_id=by_user_id)

    async def demote_bot(
        self, chat: ChatRef, *, by_user_id: int | None = None, bot: BotRef = None
    ) -> MemberOut:
        return await self.demote(chat, (await self.bot(bot)).id, by_user_id=by_user_id)

    async def remove_bot(
        self, chat: ChatRef, *, by_user_id: int | None = None, bot: BotRef = None
    ) -> MemberOut:
        return await self.remove_member(chat, (await self.bot(bot)).id, by_user_id=by_user_id)

    # --- posts --------------------------------------------------------------------------------

    async def post(
        self,
        chat: ChatRef,
        *,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        parse_mode: str | None = None,
        photo: bytes | None = None,
        photo_file_id: str | None = None,
        caption: str | None = None,
        reply_markup: dict[str, Any] | None = None,
        views: int = 0,
        by_user_id: int | None = None,
    ) -> MessageOut:
        """A person posts (default: the chat's creator); admin bots get channel_post."""
        body = {
            "text": text,
            "entities": entities,
            "parse_mode": parse_mode,
            "photo_base64": base64.b64encode(photo).decode() if photo is not None else None,
            "photo_file_id": photo_file_id,
            "caption": caption,
            "reply_markup": reply_markup,
            "views": views,
            "by_user_id": by_user_id,
        }
        return await self._one(MessageOut, "POST", f"/chats/{chat}/posts", json=body)

    async def edit_post(
        self,
        chat: ChatRef,
        message_id: int,
        *,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        parse_mode: str | None = None,
        caption: str | None = None,
        by_user_id: int | None = None,
    ) -> MessageOut:
        body = {
            "text": text,
            "entities": entities,
            "parse_mode": parse_mode,
            "caption": caption,
            "by_user_id": by_user_id,
        }
        return await self._one(MessageOut, "PATCH", f"/chats/{chat}/posts/{message_id}", json=body)

    async def delete_post(
        self, chat: ChatRef, message_id: int, *, by_user_id: int | None = None
    ) -> MessageOut:
        params = {"by_user_id": by_user_id}
        return await self._one(
            MessageOut, "DELETE", f"/chats/{chat}/posts/{message_id}", params=params
        )

    async def set_views(self, chat: ChatRef, message_id: int, views: int) -> MessageOut:
        return await self._one(
            MessageOut, "PUT", f"/chats/{chat}/posts/{message_id}/views", json={"views": views}
        )

    async def set_view_curve(
        self,
        chat: ChatRef,
        kind: str,
        *,
        reach: int,
        half_life_hours: float = 12.0,
        spike_at_hours: float = 6.0,
        spike_views: int = 0,
        forward_per_mille: int = 0,
    ) -> ChatOut:
        """How the channel's posts gather views with age: organic, bot_wall or spike."""
        body = {
            "kind": kind,
            "reach": reach,
            "half_life_hours": half_life_hours,
            "spike_at_hours": spike_at_hours,
            "spike_views": spike_views,
            "forward_per_mille": forward_per_mille,
        }
        return await self._one(ChatOut, "PUT", f"/chats/{chat}/view-curve", json=body)

    async def clear_view_curve(self, chat: ChatRef) -> ChatOut:
        return await self._one(ChatOut, "DELETE", f"/chats/{chat}/view-curve")

    async def messages(
        self,
        chat: ChatRef,
        *,
        sent_by_bot: bool | None = None,
        include_deleted: bool = False,
        bot: BotRef = None,
    ) -> list[MessageOut]:
        """Messages in a chat, oldest first: what the bot published or pushed, people's posts."""
        params = {"sent_by_bot": sent_by_bot, "include_deleted": include_deleted, "bot": bot}
        return await self._many(MessageOut, "GET", f"/chats/{chat}/messages", params=params)

    async def message(self, chat: ChatRef, message_id: int, *, bot: BotRef = None) -> MessageOut:
        return await self._one(
            MessageOut, "GET", f"/chats/{chat}/messages/{message_id}", params={"bot": bot}
        )

    # --- a person and the bot -----------------------------------------------------------------

    async def start_bot(
        self, user_id: int, payload: str | None = None, *, bot: BotRef = None
    ) -> MessageOut:
        """The user presses Start on t.me/<bot>?start=<payload>: the bot gets `/start <payload>`."""
        body = {"payload": payload, "bot": str(bot) if bot is not None else None}
        return await self._one(MessageOut, "POST", f"/users/{user_id}/start", json=body)

    async def send_to_bot(self, user_id: int, text: str, *, bot: BotRef = None) -> MessageOut:
        body = {"text": text, "bot": str(bot) if bot is not None else None}
        return await self._one(MessageOut, "POST", f"/users/{user_id}/messages", json=body)

    async def block_bot(self, user_id: int, *, bot: BotRef = None) -> None:
        await self._request("POST", f"/users/{user_id}/block", json={"bot": _bot(bot)})

    async def unblock_bot(self, user_id: int, *, bot: BotRef = None) -> None:
        await self._request("POST", f"/users/{user_id}/unblock", json={"bot": _bot(bot)})

    async def press_button(
        self, user_id: int, chat: ChatRef, message_id: int, data: str, *, bot: BotRef = None
    ) -> CallbackQueryOut:
        body = {"chat": str(chat), "message_id": message_id, "data": data, "bot": _bot(bot)}
        return await self._one(
            CallbackQueryOut, "POST", f"/users/{user_id}/callback-queries", json=body
        )

    async def callback_query(self, query_id: str) -> CallbackQueryOut:
        return await self._one(CallbackQueryOut, "GET", f"/callback-queries/{query_id}")

    async def web_app_init_data(
        self,
        user_id: int,
        *,
        start_param: str | None = None,
        auth_date: int | None = None,
        query_id: str | None = None,
        chat_type: str | None = None,
        chat_instance: str | None = None,
        signed: bool = True,
        bot: BotRef = None,
    ) -> str:
        """Mini App initData for the user, signed with the bot token (and Ed25519 `signature`)."""
        body = {
            "start_param": start_param,
            "auth_date": auth_date,
            "query_id": query_id,
            "chat_type": chat_type,
            "chat_instance": chat_instance,
            "signed": signed,
            "bot": _bot(bot),
        }
        path = f"/users/{user_id}/web-app-init-data"
        return (await self._one(InitDataOut, "POST", path, json=body)).init_data

    async def web_app_public_key(self) -> bytes:
        """The Ed25519 key the emulator signs initData `signature` with (Telegram's stand-in)."""
        out = await self._one(PublicKeyOut, "GET", "/web-app/public-key")
        return bytes.fromhex(out.public_key_hex)

    # --- failures, limits, traffic ------------------------------------------------------------

    async def fail_next(
        self,
        count: int = 1,
        *,
        method: str | None = None,
        retry_after: int = 1,
        error_code: int = 429,
        description: str | None = None,
        after_effect: bool = False,
    ) -> None:
        """The next `count` calls of `method` (any method if None) fail; 429 by default.

        With `after_effect` each call takes effect first and only its answer fails, as when the
        connection breaks on the way back."""
        body = {
            "count": count,
            "method": method,
            "retry_after": retry_after,
            "error_code": error_code,
            "description": description,
            "after_effect": after_effect,
        }
        await self._request("POST", "/faults", json=body)

    async def clear_faults(self) -> None:
        await self._request("DELETE", "/faults")

    async def set_rate_limits(
        self, *, enabled: bool = True, per_chat_per_second: int = 1, global_per_second: int = 30
    ) -> None:
        body = {
            "enabled": enabled,
            "per_chat_per_second": per_chat_per_second,
            "global_per_second": global_per_second,
        }
        await self._request("PUT", "/rate-limits", json=body)

    async def calls(self, method: str | None = None) -> list[CallOut]:
        return await self._many(CallOut, "GET", "/calls", params={"method": method})

    async def clear_calls(self) -> None:
        await self._request("DELETE", "/calls")


def _bot(bot: BotRef) -> str | None:
    return str(bot) if bot is not None else None
