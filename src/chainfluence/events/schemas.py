"""Live-event shapes: the EventSource ticket."""

from __future__ import annotations

from pydantic import Field

from chainfluence.kit.schemas import Schema


class EventsTicket(Schema):
    ticket: str = Field(description="`GET /v1/events?ticket=…` (EventSource sends no headers)")
    expires_in: int = Field(description="Seconds it stays valid; ask again to reconnect later")
