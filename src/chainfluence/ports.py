"""Narrow ports: what a domain may ask of the process, one capability per Protocol.

Domains declare the ports they use (often a few combined: `class _Ports(Sessions, Messenger,
Protocol)`) instead of taking the whole `Runtime`; the runtime built by `chainfluence.bootstrap`
provides them all, and a test can pass anything that has just those. This module imports no
domain and no integration at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from aiogram import Bot

    from chainfluence.config import Settings
    from chainfluence.jobs.queue import JobQueue
    from chainfluence.notifications.push import PushSender
    from chainfluence.telegram.stats_providers import StatsProvider

__all__ = [
    "Configured",
    "Enqueuer",
    "Messenger",
    "PayoutSender",
    "PayoutWallet",
    "Pusher",
    "Services",
    "Sessions",
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


class Enqueuer(Protocol):
    """The job queue, for work queued outside a transaction."""

    @property
    def queue(self) -> JobQueue: ...


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
