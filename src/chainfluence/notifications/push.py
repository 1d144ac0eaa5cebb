"""The push seam: how a stored notification reaches the user's Telegram chat.

The bot implements `PushSender` (with Telegram's rate limits and retry_after); without a bot the
runtime has none and notifications stay in-app only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chainfluence.models import Notification, RelatedType


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


class PushSender(Protocol):
    async def send_push(self, message: PushMessage) -> None:
        """Deliver one push; raise `RecipientUnreachable` or `TransientPushError` on failure."""
        ...


def start_param(notification: Notification) -> str | None:
    if notification.related_type is None or notification.related_id is None:
        return None
    if notification.related_type is RelatedType.channel:
        return f"channel_{notification.related_id}"
    return f"{notification.related_type.value}_{notification.related_id}"
