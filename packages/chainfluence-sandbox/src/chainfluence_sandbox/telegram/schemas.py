"""Request and response bodies of the control API, shared by the routes and the Python client."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# --- requests -----------------------------------------------------------------------------------


class BotCreate(BaseModel):
    username: str
    first_name: str | None = None
    token: str | None = Field(default=None, description="'<bot id>:<secret>'; generated if absent")


class UserCreate(BaseModel):
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    is_premium: bool = False
    id: int | None = None


class ChatCreate(BaseModel):
    type: Literal["channel", "supergroup", "group"] = "channel"
    title: str
    owner_id: int
    username: str | None = Field(default=None, description="public chats only; without '@'")
    description: str | None = None
    id: int | None = None
    subscribers: int = Field(default=0, ge=0, description="extra subscribers not modelled as users")


class ChatUpdate(BaseModel):
    title: str | None = None
    description: str | None = None
    subscribers: int | None = Field(default=None, ge=0)


class MemberAdd(BaseModel):
    user_id: int
    by_user_id: int | None = None


class Promotion(BaseModel):
    by_user_id: int | None = None
    rights: dict[str, bool] | None = Field(
        default=None, description="ChatAdministratorRights fields; default: what apps preselect"
    )
    custom_title: str | None = None


class PostCreate(BaseModel):
    by_user_id: int | None = Field(default=None, description="default: the chat's creator")
    text: str | None = None
    entities: list[dict[str, Any]] | None = None
    parse_mode: str | None = None
    photo_base64: str | None = None
    photo_file_id: str | None = None
    caption: str | None = None
    reply_markup: dict[str, Any] | None = None
    views: int = Field(default=0, ge=0)


class PostEdit(BaseModel):
    by_user_id: int | None = None
    text: str | None = None
    entities: list[dict[str, Any]] | None = None
    parse_mode: str | None = None
    caption: str | None = None


class ViewsSet(BaseModel):
    views: int = Field(ge=0)


class ViewCurveSet(BaseModel):
    """A channel's view curve (see `chainfluence_sandbox.telegram.views`)."""

    kind: Literal["organic", "bot_wall", "spike"]
    reach: int = Field(ge=0, description="views a post reaches (organic), or shows (bot_wall)")
    half_life_hours: float = Field(default=12.0, gt=0)
    spike_at_hours: float = Field(default=6.0, ge=0)
    spike_views: int = Field(default=0, ge=0)
    forward_per_mille: int = Field(default=0, ge=0, le=1000)


class UserMessage(BaseModel):
    text: str
    entities: list[dict[str, Any]] | None = None
    bot: str | None = None


class StartBot(BaseModel):
    payload: str | None = None
    bot: str | None = None


class BotSelector(BaseModel):
    bot: str | None = None


class ButtonPress(BaseModel):
    chat: str
    message_id: int
    data: str
    bot: str | None = None


class InitDataRequest(BaseModel):
    bot: str | None = None
    auth_date: int | None = None
    query_id: str | None = None
    start_param: str | None = None
    chat_type: str | None = None
    chat_instance: str | None = None
    signed: bool = True


class FaultCreate(BaseModel):
    method: str | None = Field(default=None, description="Bot API method; absent = any method")
    count: int = Field(default=1, ge=1)
    error_code: int = 429
    retry_after: int = Field(default=1, ge=1)
    description: str | None = None
    after_effect: bool = Field(
        default=False, description="Run the call, then fail (the answer is lost on the way back)"
    )


class RateLimits(BaseModel):
    enabled: bool = True
    per_chat_per_second: int = Field(default=1, ge=1)
    global_per_second: int = Field(default=30, ge=1)


class ClockAdvance(BaseModel):
    seconds: float = Field(ge=0)


# --- responses ----------------------------------------------------------------------------------


class BotChatOut(BaseModel):
    bot_id: int
    started: bool
    blocked: bool


class UserOut(BaseModel):
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False
    is_bot: bool = False
    bot_chats: list[BotChatOut] = []


class BotOut(BaseModel):
    id: int
    username: str | None
    first_name: str
    token: str
    webhook_url: str = ""
    webhook_last_error: str | None = None
    webhook_delivered: int = 0
    pending_update_count: int = 0
    commands: dict[str, list[dict[str, Any]]] = {}
    menu_buttons: dict[str, dict[str, Any]] = {}


class MemberOut(BaseModel):
    user_id: int
    status: str
    rights: dict[str, bool] | None = None
    custom_title: str | None = None
    promoted_by: int | None = None


class ChatOut(BaseModel):
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    description: str | None = None
    member_count: int
    hidden_subscribers: int = 0
    members: list[MemberOut] = []
    view_curve: ViewCurveSet | None = None


class MessageOut(BaseModel):
    chat_id: int
    message_id: int
    date: int
    author_id: int
    sent_by_bot: bool
    text: str | None = None
    entities: list[dict[str, Any]] = []
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = []
    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    media_group_id: str | None = None
    reply_markup: dict[str, Any] | None = None
    link_preview_options: dict[str, Any] | None = None
    forward_origin: dict[str, Any] | None = None
    edit_date: int | None = None
    views: int = 0
    forwards: int = 0
    deleted_at: int | None = None
    deleted_by: int | None = None

    def buttons(self) -> list[dict[str, Any]]:
        """Every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


class CallbackQueryOut(BaseModel):
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: dict[str, Any] | None = None


class InitDataOut(BaseModel):
    init_data: str
    user_id: int
    bot_id: int


class PublicKeyOut(BaseModel):
    public_key_hex: str


class CallOut(BaseModel):
    bot_id: int
    method: str
    params: dict[str, Any]
    ok: bool
    error_code: int | None = None
    description: str | None = None
    at: float


class ClockOut(BaseModel):
    now: int
