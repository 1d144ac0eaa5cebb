"""The push seam: how a stored notification reaches the user's Telegram chat.

The bot implements `PushSender` (a port, `chainfluence.ports`, with Telegram's rate limits and
retry_after); without a bot the runtime has none and notifications stay in-app only.
"""

from __future__ import annotations

from chainfluence.models import Notification, RelatedType
from chainfluence.ports import PushMessage, PushSender, RecipientUnreachable, TransientPushError

__all__ = ["PushMessage", "PushSender", "RecipientUnreachable", "TransientPushError", "start_param"]


def start_param(notification: Notification) -> str | None:
    if notification.related_type is None or notification.related_id is None:
        return None
    if notification.related_type is RelatedType.channel:
        return f"channel_{notification.related_id}"
    return f"{notification.related_type.value}_{notification.related_id}"
