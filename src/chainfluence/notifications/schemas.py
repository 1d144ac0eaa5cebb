"""Notification shapes (API.md: `id, type, title, body, relatedId, readAt, createdAt`)."""

from __future__ import annotations

from chainfluence.kit.schemas import Bool, RequestSchema, Schema, UtcDateTime
from chainfluence.models import NotificationType, RelatedType


class Notification(Schema):
    id: int
    type: NotificationType
    title: str
    body: str
    # Deals, offers, campaigns, reviews: a number; channels: a string (Telegram id rule).
    related_id: int | str | None
    related_type: RelatedType | None
    read: bool
    read_at: UtcDateTime | None
    created_at: UtcDateTime


class NotificationUpdate(RequestSchema):
    read: Bool


class Count(Schema):
    count: int
