"""The emulated Telegram world: bots, users, chats, members with rights, messages and files.

Plain in-memory objects. Every mutation is synchronous (nothing awaits half-way through a
change), so inside one asyncio event loop each change is atomic and the state is safe to share
between concurrent requests without locks. Time comes from `Clock`, which tests can move forward.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from chainfluence.kit.time import utcnow
from chainfluence_sandbox.telegram.errors import EmulatorNotFoundError, EmulatorUsageError
from chainfluence_sandbox.telegram.limits import CallLog, FaultInjector, RateLimiter
from chainfluence_sandbox.telegram.updates import UpdateQueue, WebhookConfig
from chainfluence_sandbox.telegram.views import ViewCurve

CHANNEL_ID_BASE = -1_001_000_000_000  # supergroups and channels: -100xxxxxxxxxx
GROUP_ID_BASE = -4_000_000_000  # basic groups
FIRST_USER_ID = 7_000_000_001
FIRST_BOT_ID = 8_000_000_001


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class MemberStatus(StrEnum):
    CREATOR = "creator"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    LEFT = "left"
    KICKED = "kicked"


PRESENT_STATUSES = frozenset(
    {MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR, MemberStatus.MEMBER}
)


class Clock:
    """The project's clock (`chainfluence.kit.time`), plus an offset of the emulator's own.

    Following the project clock keeps Telegram's time in step with the backend's when tests or
    the sandbox move time forward (48 h limits, hold periods); `advance` moves only the emulator.
    """

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> int:
        return int(utcnow().timestamp() + self.offset)

    def advance(self, seconds: float) -> int:
        if seconds < 0:
            raise EmulatorUsageError("the clock only moves forward")
        self.offset += seconds
        return self.now()


@dataclass
class AdminRights:
    """Administrator rights as in Bot API's ChatAdministratorRights (all default to False)."""

    is_anonymous: bool = False
    can_manage_chat: bool = False
    can_delete_messages: bool = False
    can_manage_video_chats: bool = False
    can_restrict_members: bool = False
    can_promote_members: bool = False
    can_change_info: bool = False
    can_invite_users: bool = False
    can_post_stories: bool = False
    can_edit_stories: bool = False
    can_delete_stories: bool = False
    can_send_welcome_messages: bool = False
    # channels only
    can_post_messages: bool = False
    can_edit_messages: bool = False
    can_manage_direct_messages: bool = False
    # groups and supergroups only
    can_pin_messages: bool = False
    can_manage_topics: bool = False

    CHANNEL_ONLY = ("can_post_messages", "can_edit_messages", "can_manage_direct_messages")
    GROUP_ONLY = ("can_pin_messages", "can_manage_topics")

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_mapping(cls, values: dict[str, bool]) -> AdminRights:
        unknown = set(values) - set(cls.names())
        if unknown:
            raise EmulatorUsageError(f"unknown administrator rights: {sorted(unknown)}")
        return cls(**values)

    @classmethod
    def bot_defaults(cls) -> AdminRights:
        """What Telegram apps preselect when a bot is added as an administrator."""
        rights = cls(**{name: True for name in cls.names()})
        rights.is_anonymous = False
        rights.can_promote_members = False
        return rights

    def as_dict(self, chat_type: ChatType) -> dict[str, bool]:
        skip = self.GROUP_ONLY if chat_type == ChatType.CHANNEL else self.CHANNEL_ONLY
        values = {name: getattr(self, name) for name in self.names() if name not in skip}
        if chat_type == ChatType.GROUP:
            values.pop("can_manage_topics")
        return values


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    is_premium: bool = False
    is_bot: bool = False


@dataclass
class Member:
    user_id: int
    status: MemberStatus
    rights: AdminRights | None = None
    custom_title: str | None = None
    promoted_by: int | None = None
    since: int = 0


@dataclass
class Message:
    chat_id: int
    message_id: int
    date: int
    author_id: int
    """The account that created the message, kept even where the wire shows only `sender_chat`."""
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    photo_file_id: str | None = None
    """Any size's file_id of the photo; the rendered message lists every size."""
    document_file_id: str | None = None
    media_group_id: str | None = None
    reply_markup: dict[str, Any] | None = None
    link_preview_options: dict[str, Any] | None = None
    forward_origin: dict[str, Any] | None = None
    edit_date: int | None = None
    views: int = 0
    deleted_at: int | None = None
    deleted_by: int | None = None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def content(self) -> tuple[Any, ...]:
        """What "message is not modified" compares."""
        return (
            self.text,
            self.entities,
            self.caption,
            self.caption_entities,
            self.photo_file_id,
            self.document_file_id,
            self.reply_markup,
        )


@dataclass
class Chat:
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    description: str | None = None
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1
    hidden_subscribers: int = 0
    """Subscribers not modelled as users, so a channel can have 120,000 of them cheaply."""
    known_to: set[int] = field(default_factory=set)
    """Bots that have seen the chat; a bot can't find a private chat it never was in."""
    view_curve: ViewCurve | None = None
    """How its posts gather views over time (channels); None: views change only when set."""
    created_at: int = 0
    # private chats (one per bot and user) only
    user_id: int | None = None
    bot_id: int | None = None
    started: bool = False
    blocked: bool = False

    @property
    def is_public(self) -> bool:
        return self.username is not None

    def status_of(self, user_id: int) -> MemberStatus:
        member = self.members.get(user_id)
        return member.status if member else MemberStatus.LEFT

    def rights_of(self, user_id: int) -> AdminRights | None:
        """Effective rights: the creator has all of them, a member none (None)."""
        member = self.members.get(user_id)
        if member is None:
            return None
        if member.status == MemberStatus.CREATOR:
            return AdminRights(**{name: True for name in AdminRights.names()})
        if member.status == MemberStatus.ADMINISTRATOR:
            return member.rights
        return None

    def member_count(self) -> int:
        present = sum(1 for m in self.members.values() if m.status in PRESENT_STATUSES)
        return present + self.hidden_subscribers

    def allocate_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def views_of(self, message: Message, now: int) -> tuple[int, int]:
        """A post's views and forwards at `now`: those it was given plus the curve's."""
        if self.view_curve is None:
            return message.views, 0
        views = message.views + self.view_curve.views_at(now - message.date)
        return views, self.view_curve.forwards_for(views)

    def live_message(self, message_id: int) -> Message | None:
        message = self.messages.get(message_id)
        if message is None or message.is_deleted:
            return None
        return message


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    width: int | None = None
    height: int | None = None
    photo_sizes: list[str] = field(default_factory=list)
    """For photos: file_ids of every size of the same picture, smallest first."""
    file_name: str | None = None
    mime_type: str | None = None
    """For documents: the name and type the sender gave."""

    @property
    def file_size(self) -> int:
        return len(self.data)


@dataclass
class CallbackQuery:
    id: str
    bot_id: int
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created_at: int
    answer: dict[str, Any] | None = None


@dataclass
class BotAccount:
    user: User
    token: str
    private_chats: dict[int, Chat] = field(default_factory=dict)
    updates: UpdateQueue = field(default_factory=UpdateQueue)
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Keyed by the JSON of (scope, language_code)."""
    menu_buttons: dict[int | None, dict[str, Any]] = field(default_factory=dict)
    """Keyed by private chat id; None is the default button."""

    @property
    def id(self) -> int:
        return self.user.id


@dataclass
class EmulatorConfig:
    """Behaviour switches. The defaults suit local development and tests."""

    public_base_url: str | None = None
    """Where the emulator is reachable; set by `run_telegram_emulator`."""
    allow_http_web_app_urls: bool = True
    """Telegram accepts only https Web App URLs; a local Mini App is served over http."""
    webhook_retry_initial: float = 0.05
    webhook_retry_max: float = 2.0
    """Telegram retries failed deliveries with doubling delays up to ~60 s; tests need less."""
    long_poll_max_timeout: int = 50


class EmulatorState:
    """Everything the emulator knows. One instance per emulated Telegram."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.clock = Clock()
        self.bots: dict[int, BotAccount] = {}
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.faults = FaultInjector()
        self.rate_limiter = RateLimiter()
        self.calls = CallLog()
        self.web_app_signing_seed = secrets.token_bytes(32)
        """Ed25519 seed standing in for Telegram's key that signs initData for third parties."""
        self._next_user_id = FIRST_USER_ID
        self._next_bot_id = FIRST_BOT_ID
        self._next_channel_id = CHANNEL_ID_BASE - 1
        self._next_group_id = GROUP_ID_BASE - 1
        self._next_file_number = 1
        self._next_media_group = 13_000_000_000_000_000

    # --- accounts -------------------------------------------------------------------------------

    def add_bot(
        self, *, username: str, first_name: str | None = None, token: str | None = None
    ) -> BotAccount:
        if token is None:
            bot_id = self._next_bot_id
            self._next_bot_id += 1
            token = f"{bot_id}:{secrets.token_urlsafe(26)[:35]}"
        else:
            head, sep, tail = token.partition(":")
            if not (sep and head.isdigit() and tail):
                raise EmulatorUsageError("a bot token looks like '<bot id>:<secret>'")
            bot_id = int(head)
        if bot_id in self.bots or bot_id in self.users:
            raise EmulatorUsageError(f"bot {bot_id} already exists")
        self._check_username_free(username)
        user = User(id=bot_id, first_name=first_name or username, username=username, is_bot=True)
        user.language_code = None
        bot = BotAccount(user=user, token=token)
        self.users[bot_id] = user
        self.bots[bot_id] = bot
        return bot

    def bot_by_token(self, token: str) -> BotAccount | None:
        head, _, _ = token.partition(":")
        bot = self.bots.get(int(head)) if head.isdigit() else None
        if bot is None or not secrets.compare_digest(bot.token, token):
            return None
        return bot

    def bot(self, ref: int | str | None = None) -> BotAccount:
        """A bot by id or username; without a reference, the only (or first) bot."""
        if ref is None or ref == "":
            if not self.bots:
                raise EmulatorNotFoundError("no bot is registered")
            return next(iter(self.bots.values()))
        text = str(ref).lstrip("@")
        if text.isdigit() and int(text) in self.bots:
            return self.bots[int(text)]
        for bot in self.bots.values():
            if (bot.user.username or "").lower() == text.lower():
                return bot
        raise EmulatorNotFoundError(f"bot {ref} not found")

    def add_user(
        self,
        *,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_premium: bool = False,
        user_id: int | None = None,
    ) -> User:
        if user_id is None:
            while self._next_user_id in self.users:
                self._next_user_id += 1
            user_id = self._next_user_id
            self._next_user_id += 1
        elif user_id <= 0 or user_id in self.users:
            raise EmulatorUsageError(f"user id {user_id} is taken or invalid")
        if username:
            self._check_username_free(username)
        user = User(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            is_premium=is_premium,
        )
        self.users[user_id] = user
        return user

    def user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise EmulatorNotFoundError(f"user {user_id} not found")
        return user

    def human(self, user_id: int) -> User:
        user = self.user(user_id)
        if user.is_bot:
            raise EmulatorUsageError(f"{user_id} is a bot; this action is for people")
        return user

    # --- chats ----------------------------------------------------------------------------------

    def add_chat(
        self,
        *,
        chat_type: ChatType,
        title: str,
        owner_id: int,
        username: str | None = None,
        description: str | None = None,
        chat_id: int | None = None,
        hidden_subscribers: int = 0,
    ) -> Chat:
        if chat_type == ChatType.PRIVATE:
            raise EmulatorUsageError("private chats appear when a user starts a bot")
        if chat_type == ChatType.GROUP and username:
            raise EmulatorUsageError("basic groups can't have a username")
        self.human(owner_id)
        if chat_id is None:
            chat_id = self._allocate_chat_id(chat_type)
        elif chat_id in self.chats or chat_id >= 0:
            raise EmulatorUsageError(f"chat id {chat_id} is taken or invalid")
        if username:
            self._check_username_free(username)
        now = self.clock.now()
        chat = Chat(
            id=chat_id,
            type=chat_type,
            title=title,
            username=username,
            description=description,
            hidden_subscribers=hidden_subscribers,
            created_at=now,
        )
        chat.members[owner_id] = Member(owner_id, MemberStatus.CREATOR, since=now)
        self.chats[chat_id] = chat
        return chat

    def _allocate_chat_id(self, chat_type: ChatType) -> int:
        if chat_type == ChatType.GROUP:
            while self._next_group_id in self.chats:
                self._next_group_id -= 1
            chat_id = self._next_group_id
            self._next_group_id -= 1
            return chat_id
        while self._next_channel_id in self.chats:
            self._next_channel_id -= 1
        chat_id = self._next_channel_id
        self._next_channel_id -= 1
        return chat_id

    def find_chat(self, ref: int | str) -> Chat | None:
        """A group, supergroup or channel by id or @username (no access checks)."""
        text = str(ref).strip()
        if text.startswith("@"):
            name = text[1:].lower()
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == name:
                    return chat
            return None
        try:
            return self.chats.get(int(text))
        except ValueError:
            return None

    def chat(self, ref: int | str) -> Chat:
        chat = self.find_chat(ref)
        if chat is None:
            raise EmulatorNotFoundError(f"chat {ref} not found")
        return chat

    def private_chat(self, bot: BotAccount, user_id: int, *, create: bool = False) -> Chat | None:
        chat = bot.private_chats.get(user_id)
        if chat is None and create:
            self.human(user_id)
            chat = Chat(
                id=user_id,
                type=ChatType.PRIVATE,
                user_id=user_id,
                bot_id=bot.id,
                created_at=self.clock.now(),
            )
            bot.private_chats[user_id] = chat
        return chat

    def chat_for_bot(self, bot: BotAccount, ref: int | str) -> Chat:
        """The chat a control call means: a user id is that user's private chat with `bot`."""
        text = str(ref).strip()
        if text.lstrip("-").isdigit() and int(text) > 0:
            chat = self.private_chat(bot, int(text))
            if chat is None:
                raise EmulatorNotFoundError(f"user {text} has no chat with bot {bot.id}")
            return chat
        return self.chat(ref)

    def _check_username_free(self, username: str) -> None:
        name = username.lstrip("@").lower()
        taken = any((u.username or "").lower() == name for u in self.users.values()) or any(
            (c.username or "").lower() == name for c in self.chats.values()
        )
        if taken:
            raise EmulatorUsageError(f"username @{name} is taken")

    # --- files ----------------------------------------------------------------------------------

    def store_file(
        self,
        data: bytes,
        *,
        folder: str,
        extension: str,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        number = self._next_file_number
        self._next_file_number += 1
        stored = StoredFile(
            file_id=f"AgACAgIAAxkBAA{secrets.token_urlsafe(48)}",
            file_unique_id=f"AQAD{secrets.token_urlsafe(12)}",
            data=data,
            file_path=f"{folder}/file_{number}.{extension}",
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def allocate_media_group_id(self) -> str:
        self._next_media_group += 1
        return str(self._next_media_group)

    # --- lifecycle ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the world but keep the bots (their tokens stay valid), as a fresh test needs."""
        for bot in self.bots.values():
            bot.webhook.reset()
            bot.updates.reset()
            bot.private_chats.clear()
            bot.commands.clear()
            bot.menu_buttons.clear()
        self.users = {bot_id: bot.user for bot_id, bot in self.bots.items()}
        self.chats.clear()
        self.files.clear()
        self.files_by_path.clear()
        self.callback_queries.clear()
        self.faults.clear()
        self.rate_limiter.configure(enabled=False)
        self.calls.clear()
        self.clock.offset = 0.0

    async def close(self) -> None:
        """Stop webhook deliveries and release pending long polls (call before the server stops)."""
        for bot in self.bots.values():
            await bot.webhook.stop()
            bot.updates.release_pollers()
