"""Narrow ports: what a domain may ask of the process, one capability per Protocol.

Domains declare the ports they use (often a few combined: `class _Ports(Sessions, Messenger,
Protocol)`) instead of taking the whole `Runtime`; the runtime built by `chainfluence.bootstrap`
provides them all, and a test can pass anything that has just those. Beside the Protocols it
holds the plain values they exchange (a push message, a views report). It imports no domain and
no integration, not even for type checking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

    from chainfluence.config import Settings
    from chainfluence.models import Campaign, Notification

__all__ = [
    "Attachments",
    "BotApiCaller",
    "CampaignEnd",
    "CampaignEnds",
    "Configured",
    "Enqueuer",
    "JobSender",
    "Messenger",
    "PayoutSender",
    "PayoutWallet",
    "PostReader",
    "PostReading",
    "PostReadings",
    "PostSample",
    "ProviderReport",
    "PushAttachment",
    "PushMessage",
    "PushSender",
    "Pusher",
    "ReadUnavailable",
    "RecipientUnreachable",
    "Services",
    "Sessions",
    "StatsProvider",
    "TransientPushError",
    "UpdateHandling",
    "ViewsSources",
]


class Sessions(Protocol):
    """Units of work: commit on success (then send the jobs queued in it), roll back on error."""

    def session(
        self, *, write: bool = True, autocommit: bool = False
    ) -> AbstractAsyncContextManager[AsyncSession]: ...


class Configured(Protocol):
    @property
    def settings(self) -> Settings: ...


class BotApiCaller(Protocol):
    """Plain Bot API calls (`telegram.botapi.BotApi`): `call` returns the answer's result;
    `files` are uploaded as multipart parts (name -> (file name, bytes))."""

    @property
    def id(self) -> int: ...

    async def call(
        self, method: str, /, *, files: dict[str, tuple[str, bytes]] | None = None, **params: Any
    ) -> Any: ...


class Messenger(Protocol):
    """The Telegram Bot API client (None when no bot is configured). Plain JSON calls, no
    aiogram: the API process asks Telegram through it and must not load aiogram."""

    @property
    def bot(self) -> BotApiCaller | None: ...


class UpdateHandling(Protocol):
    """aiogram's update dispatcher and the bot it answers through (None without a bot), built on
    first use: only a process that handles updates loads aiogram."""

    @property
    def dispatcher(self) -> Dispatcher | None: ...

    @property
    def dispatcher_bot(self) -> Bot | None: ...


class JobSender(Protocol):
    async def enqueue(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        delay: float = 0.0,
        dedup_key: str | None = None,
    ) -> bool:
        """Queue a job; False when an unfinished job with the same dedup key already exists."""
        ...


class Enqueuer(Protocol):
    """The job queue, for work queued outside a transaction."""

    @property
    def queue(self) -> JobSender: ...


class CampaignEnd(Protocol):
    async def __call__(self, session: AsyncSession, campaign: Campaign, *, reason: str) -> int:
        """End the pending offers of a campaign that was completed or deleted; how many."""
        ...


class CampaignEnds(Protocol):
    """What a campaign's end does to its pending offers (the offers domain's answer)."""

    @property
    def close_campaign_offers(self) -> CampaignEnd: ...


# --- pushing a notification to a chat (the bot implements PushSender) ------------------------


class RecipientUnreachable(Exception):
    """The user blocked the bot or never started it: stop pushing, keep in-app notifications."""


class TransientPushError(Exception):
    """Network trouble or a rate limit: try again later."""


@dataclass(frozen=True, slots=True)
class PushMessage:
    chat_id: int
    title: str
    body: str
    # Mini App start parameter opening the related object, e.g. "deal_42".
    start_param: str | None
    # A file sent with it (name, bytes), e.g. a finished deal's evidence pack: the push is then
    # one document message whose caption is the notification.
    document: tuple[str, bytes] | None = None
    # The page paying the related deal (`/app/pay/{dealId}`), for its advertiser while it waits
    # for the deposit: a second button.
    pay_url: str | None = None


class PushSender(Protocol):
    async def send_push(self, message: PushMessage) -> None:
        """Deliver one push; raise `RecipientUnreachable` or `TransientPushError` on failure."""
        ...


class PushAttachment(Protocol):
    async def __call__(
        self, session: AsyncSession, notification: Notification, settings: Settings
    ) -> tuple[str, bytes] | None:
        """The file a push of `notification` carries (name, bytes), or None."""
        ...


class Attachments(Protocol):
    """What a push carries besides its text (a finished deal's evidence pack); None: nothing."""

    @property
    def push_attachment(self) -> PushAttachment | None: ...


class Pusher(Protocol):
    """How a stored notification reaches a chat (None: notifications stay in-app)."""

    @property
    def push_sender(self) -> PushSender | None: ...


# --- post views from somewhere the bot cannot see them (telegram.stats_providers) ------------


@dataclass(frozen=True, slots=True)
class PostSample:
    message_id: int
    posted_at: dt.datetime
    views: int | None
    text: str | None = None
    has_media: bool = False
    media_group_id: str | None = None
    edited_at: dt.datetime | None = None
    forwards: int | None = None
    # Total reactions on the post; None when the provider does not see them.
    reactions: int | None = None


@dataclass(frozen=True, slots=True)
class ProviderReport:
    source: str
    fetched_at: dt.datetime
    # Posts published since the requested time, that still exist.
    posts: list[PostSample] = field(default_factory=list)
    # True: the provider lists the channel's whole recent history; False: only posts whose ids
    # it was given (and their neighbours), so it says nothing about posts before those.
    complete_history: bool = True


class StatsProvider(Protocol):
    name: str

    async def fetch(
        self,
        *,
        channel_id: int,
        username: str | None,
        since: dt.datetime,
        known_ids: Sequence[int] = (),
    ) -> ProviderReport | None:
        """Recent posts of the channel with their views, or None when this provider can't see it.
        `known_ids`: message ids of the channel's posts already known (newest last)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class PostReading:
    """One message of a channel as MTProto showed it (for the probes of live ads)."""

    message_id: int
    posted_at: dt.datetime
    edited_at: dt.datetime | None
    # Text (or caption) and its entities as the Bot API spells them (`posting.text_fingerprint_of`).
    text: str
    entities: list[dict[str, object]]
    views: int | None
    forwards: int | None
    reactions: int | None


@dataclass(frozen=True, slots=True)
class PostReadings:
    source: str
    fetched_at: dt.datetime
    # Every id asked for: its reading, or None when Telegram answered that it does not exist
    # (`messageEmpty`: deleted) or left it out of its answer.
    messages: dict[int, PostReading | None]
    # Calls made to Telegram for this answer.
    calls: int = 0


class ReadUnavailable(Exception):
    """No answer this time (FLOOD_WAIT, network, Telegram's error, another process holding the
    session): says nothing about the posts."""


@runtime_checkable
class PostReader(Protocol):
    """Reads given messages of a channel: deletions and edits for the probes of live ads."""

    name: str

    async def read_posts(self, *, channel_id: int, message_ids: Sequence[int]) -> PostReadings:
        """The messages (at most 100 per call to Telegram); raises `ReadUnavailable`."""
        ...


class ViewsSources(Protocol):
    """Where post views come from besides what the bot observes."""

    @property
    def stats_providers(self) -> Sequence[StatsProvider]: ...


class PayoutSender(Protocol):
    """The platform wallet that signs and sends payout orders."""

    @property
    def address(self) -> str: ...

    async def process(self) -> object | None: ...


class PayoutWallet(Protocol):
    @property
    def payout_sender(self) -> PayoutSender | None: ...


class Services(
    Sessions,
    Configured,
    Messenger,
    UpdateHandling,
    Enqueuer,
    Pusher,
    Attachments,
    ViewsSources,
    PayoutWallet,
    Protocol,
):
    """Everything a job handler may reach (`JobContext.runtime`); a handler passes on only the
    ports each service it calls declares."""
