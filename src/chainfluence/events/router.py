"""/v1/events: the caller's live events as Server-Sent Events, and the ticket a browser's
EventSource authenticates with."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from chainfluence.auth.dependencies import CurrentUser, authenticated_user_id, authorization_header
from chainfluence.dependencies import RequestServices, ServicesDep, app_services
from chainfluence.events import schemas, stream
from chainfluence.kit.errors import TooManyRequests, Unauthorized, Unprocessable
from chainfluence.kit.security import InvalidToken, issue_access_token, read_access_token

router = APIRouter(prefix="/events", tags=["events"])


class _Ports(RequestServices, stream.StreamPorts, Protocol):
    """What the stream route needs: a request's services and the live events'."""


async def _ports(request: Request) -> _Ports:
    ports: _Ports = app_services(request)
    return ports


TICKET_PURPOSE = "events"

_DESCRIPTION = """Server-Sent Events: the caller's new notifications (`event: notification`,
data as in GET /v1/notifications) and changes of their deals (`event: deal`: `dealId`, `event`
(the timeline entry), `status`, `fromStatus`) and offers (`event: offer`: `offerId`, `status`).
Each has an `id:`; reconnecting with `Last-Event-ID` (EventSource does it by itself) or
`?lastEventId=` replays what was missed. Without either, only what happens from now on. A comment
line every few seconds keeps the stream alive.

Authenticate with the `Authorization` header or, from a browser's EventSource, with
`?ticket=` from POST /v1/events/ticket. At most a few streams per user (429 beyond)."""


@router.post("/ticket", response_model=schemas.EventsTicket)
async def events_ticket(user: CurrentUser, services: ServicesDep) -> schemas.EventsTicket:
    """A short-lived ticket that only opens GET /v1/events (it is not an access token)."""
    settings = services.settings
    issued = issue_access_token(
        user.id,
        secret=settings.auth.jwt_secret.get_secret_value(),
        ttl_seconds=settings.events.ticket_ttl_seconds,
        purpose=TICKET_PURPOSE,
    )
    return schemas.EventsTicket(ticket=issued.token, expires_in=issued.expires_in)


@router.get(
    "",
    response_class=StreamingResponse,
    description=_DESCRIPTION,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The event stream"}},
)
async def events(
    request: Request,
    services: Annotated[_Ports, Depends(_ports)],
    authorization: Annotated[str | None, Depends(authorization_header)],
    ticket: Annotated[str | None, Query(max_length=2000)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
    last_event_id_query: Annotated[
        int | None, Query(alias="lastEventId", ge=0, le=2**63 - 1)
    ] = None,
) -> StreamingResponse:
    if ticket is not None:
        settings = services.settings
        try:
            user_id = read_access_token(
                ticket,
                secret=settings.auth.jwt_secret.get_secret_value(),
                previous_secrets=[s.get_secret_value() for s in settings.auth.jwt_previous_secrets],
                purpose=TICKET_PURPOSE,
            )
        except InvalidToken:
            raise Unauthorized(
                "The events ticket is invalid or has expired; ask POST /v1/events/ticket again.",
                code="invalid_events_ticket",
            ) from None
    else:
        user_id = await authenticated_user_id(request, services, authorization)
    after = last_event_id_query
    if last_event_id is not None and last_event_id.strip():
        if not last_event_id.strip().isdigit():
            raise Unprocessable("Last-Event-ID must be an event id from this stream.")
        after = int(last_event_id.strip())
    slot = await services.event_streams.acquire(user_id)
    if slot is None:
        raise TooManyRequests(
            f"You already have {services.event_streams.limit} event streams open; close one.",
            retry_after=int(services.settings.events.heartbeat_seconds),
        )
    return StreamingResponse(
        stream.events(services, user_id, last_event_id=after, slot=slot),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
