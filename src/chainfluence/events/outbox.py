"""Writing the outbox: every flush that adds a notification or a deal timeline entry, or adds an
offer or changes its status, adds one `user_events` row per person concerned.

A SQLAlchemy `after_flush` hook rather than calls in each service: whichever code makes the
change (a request, a job in a worker, a bot update) the row is written in its transaction. Once
that transaction commits the people concerned are announced to the broker that the session's
runtime put in `session.info` (sessions without one are found by the streams' periodic check).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from chainfluence.kit.db import after_commit
from chainfluence.models import Deal, DealEvent, Notification, Offer, UserEvent, UserEventType

# session.info key: an async callable taking the user ids to announce after commit.
ANNOUNCE_INFO_KEY = "chainfluence.events.announce"
Announce = Callable[[set[int]], Awaitable[None]]


def _notification_rows(notification: Notification) -> list[dict[str, Any]]:
    from chainfluence.notifications.service import to_schema

    data = to_schema(notification).model_dump(mode="json", by_alias=True)
    return [_row(notification.user_id, UserEventType.notification, notification.id, data)]


def _deal_rows(session: Session, entry: DealEvent) -> list[dict[str, Any]]:
    deal = session.identity_map.get(inspect(Deal).identity_key_from_primary_key((entry.deal_id,)))
    if isinstance(deal, Deal):
        parties, status = {deal.advertiser_id, deal.publisher_id}, deal.status
    else:
        found = session.connection().execute(
            select(Deal.advertiser_id, Deal.publisher_id, Deal.status).where(
                Deal.id == entry.deal_id
            )
        )
        row = found.one()
        parties, status = {row.advertiser_id, row.publisher_id}, row.status
    data = {
        "dealId": entry.deal_id,
        "event": entry.event,
        "status": str(entry.to_status or status),
        "fromStatus": str(entry.from_status) if entry.from_status else None,
        "timelineId": entry.id,
    }
    return [_row(user, UserEventType.deal, entry.deal_id, data) for user in sorted(parties)]


def _offer_rows(offer: Offer) -> list[dict[str, Any]]:
    data = {"offerId": offer.id, "status": str(offer.status), "campaignId": offer.campaign_id}
    parties = sorted({offer.advertiser_id, offer.publisher_id})
    return [_row(user, UserEventType.offer, offer.id, data) for user in parties]


def _row(
    user_id: int, type: UserEventType, subject_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    return {"user_id": user_id, "type": type, "subject_id": subject_id, "data": data}


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    rows: list[dict[str, Any]] = []
    for obj in session.new:
        if isinstance(obj, Notification):
            rows += _notification_rows(obj)
        elif isinstance(obj, DealEvent):
            rows += _deal_rows(session, obj)
        elif isinstance(obj, Offer):
            rows += _offer_rows(obj)
    for obj in session.dirty:
        if isinstance(obj, Offer) and inspect(obj).attrs.status.history.has_changes():
            rows += _offer_rows(obj)
    if not rows:
        return
    from chainfluence.kit.time import utcnow

    now = utcnow()
    session.connection().execute(insert(UserEvent), [{**row, "created_at": now} for row in rows])
    announce: Announce | None = session.info.get(ANNOUNCE_INFO_KEY)
    if announce is not None:
        users = {row["user_id"] for row in rows}

        async def send() -> None:
            await announce(users)

        after_commit(session, send)


def install() -> None:
    """Hook the outbox into every session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
