"""Narrow ports: what a domain may ask of the process, one capability per Protocol.

Domains declare the ports they use (often a few combined: `class _Ports(Sessions, Messenger,
Protocol)`) instead of taking the whole `Runtime`; the runtime built by `chainfluence.bootstrap`
provides them all, and a test can pass anything that has just those. This module imports no
domain and no integration at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from aiogram import Bot

    from chainfluence.config import Settings
    from chainfluence.telegram.stats_providers import StatsProvider

__all__ = [
    "Configured",
    "Enqueuer",
    "JobSender",
    "Messenger",
    "PayoutSender",
    "PayoutWallet",
    "PushMessage",
    "PushSender",
    "Pusher",
    "RecipientUnreachable",
    "Services",
    "Sessions",
    "TransientPushError",
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


class Messenger(Protocol):
    """The Telegram bot (None when none is configured)."""

    @property
    def bot(self) -> Bot | None: ...


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


class Pusher(Protocol):
    """How a stored notification reaches a chat (None: notifications stay in-app)."""

    @property
    def push_sender(self) -> PushSender | None: ...


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
    Sessions, Configured, Messenger, Enqueuer, Pusher, ViewsSources, PayoutWallet, Protocol
):
    """Everything a job handler may reach (`JobContext.runtime`); a handler passes on only the
    ports each service it calls declares."""
