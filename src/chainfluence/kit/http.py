"""HTTP plumbing: the error body, request logging and metrics, request ids and limits, the
answer to an unexpected exception, client addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import secrets
import time
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Gauge, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chainfluence.kit.errors import AppError

log = logging.getLogger("chainfluence.http")

REQUESTS = Counter(
    "chainfluence_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
LATENCY = Histogram(
    "chainfluence_http_request_seconds", "HTTP request latency", ["method", "route"]
)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    431: "headers_too_large",
    503: "busy",
}
REQUEST_ID_HEADER = "X-Request-ID"
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def error_body(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "code": code, **extra}


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body",)]
    return ".".join(parts) or "body"


def _validation_message(errors: list[dict[str, Any]]) -> str:
    first = errors[0]
    message = str(first.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ")
    field = _field_path(tuple(first.get("loc", ())))
    more = (
        f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        if len(errors) > 1
        else ""
    )
    return f"Invalid {field}: {message}{more}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.message, exc.code), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        fields = [
            {"field": _field_path(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
            for e in errors
        ]
        return JSONResponse(
            error_body(_validation_message(errors), "validation_error", errors=fields),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "No such route."
        if exc.status_code == 405:
            message = "This method is not allowed on this route."
        code = _STATUS_CODES.get(exc.status_code, "error")
        return JSONResponse(
            error_body(message, code), status_code=exc.status_code, headers=exc.headers
        )

    # Unexpected exceptions are answered by `AccessLogMiddleware`, outside the framework's
    # error middleware (which would log the traceback a second time and re-raise it).


def client_ip(scope: Scope, trusted_proxies: list[str]) -> str:
    """The caller's address; X-Forwarded-For is honoured only from a trusted proxy."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not trusted_proxies or peer not in trusted_proxies:
        return peer
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
            for hop in reversed(hops):
                if hop not in trusted_proxies:
                    try:
                        return str(ipaddress.ip_address(hop))
                    except ValueError:
                        return peer
    return peer


def _request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it looks like one (a proxy's), else a new one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _CLIENT_REQUEST_ID.fullmatch(text):
                return text
            break
    return secrets.token_hex(8)


def internal_error_body(request_id: str) -> dict[str, Any]:
    return error_body(
        "Something went wrong on our side; please try again. If it keeps happening, quote "
        f"request id {request_id}.",
        "internal_error",
        requestId=request_id,
    )


_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _series(method: str, template: str, status: int) -> tuple[Any, Any]:
    """The request counter and latency histogram children of one (method, route, status),
    looked up once: `labels()` validates and locks on every call. Routes are templates, so
    there are as many as routes × methods × statuses seen."""
    key = (method, template, status)
    found = _SERIES.get(key)
    if found is None:
        found = _SERIES[key] = (
            REQUESTS.labels(method, template, str(status)),
            LATENCY.labels(method, template),
        )
    return found


class AccessLogMiddleware:
    """Request ids, one structured log line and metrics per request, and the answer to an
    unexpected exception: a 500 with the error body and the request id, sent at once, its
    traceback logged once (plain, bounded and redacted: see `kit.logging`).

    Never logs headers, bodies or queries, which may carry initData or tokens."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                ]
            await send(message)

        method = scope["method"]
        # Bound for this request's log lines, then reset (cheaper than `bound_contextvars`).
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            route = getattr(scope.get("route"), "path", None) or scope.get("path", "")
            log.exception("unhandled error on %s %s", method, route)
            if not response_started:
                response = JSONResponse(internal_error_body(request_id), status_code=500)
                await response(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            count, latency = _series(method, template, status)
            count.inc()
            latency.observe(elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "%s %s %d %.1fms",
                    method,
                    template,
                    status,
                    elapsed * 1000,
                    extra={"user_id": scope.get("state", {}).get("user_id")},
                )
            structlog.contextvars.reset_contextvars(**tokens)


QUEUED = Gauge(
    "chainfluence_http_queued_requests", "Requests waiting for a slot (AdmissionMiddleware)"
)
SHED = Counter(
    "chainfluence_http_shed_requests_total",
    "Requests answered 503 after waiting too long for a slot (AdmissionMiddleware)",
)


class AdmissionMiddleware:
    """At most `slots` requests at work at once; the others wait for a slot in the order they
    came, and one that waits longer than `max_wait` is answered 503 with Retry-After.

    One process serves many requests by switching between them at every await. With no bound,
    every request that arrives starts at once, and under sustained load they all share the CPU
    and the connection pool: each takes as long as all of them together, and those unlucky at
    every turn far longer (the catalogue at 64 connections: median 64 ms, 99th percentile
    560 ms). Admitted in turn, a request waits once and then runs among a few (median 81 ms,
    99th percentile 139 ms, the same throughput).

    A slot is a lease, not a lock: a request still at work after `lease` seconds (an upload,
    an event stream, a call to Telegram) gives its slot to the next one and goes on without
    it, so slow requests never hold back fast ones for longer than that. The operational
    probes (`exempt`) never wait.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        slots: int,
        lease: float,
        max_wait: float,
        exempt: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.lease = lease
        self.max_wait = max_wait
        self.exempt = exempt
        self._slots = asyncio.Semaphore(slots)  # first come, first served

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        slots = self._slots
        if slots.locked():
            QUEUED.inc()
            try:
                async with asyncio.timeout(self.max_wait):
                    await slots.acquire()
            except TimeoutError:
                SHED.inc()
                response = JSONResponse(
                    error_body("The service is busy; try again in a moment.", "busy"),
                    status_code=503,
                    headers={"Retry-After": "1"},
                )
                await response(scope, receive, send)
                return
            finally:
                QUEUED.dec()
        else:
            await slots.acquire()  # free: returns at once
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                slots.release()

        lease = asyncio.get_running_loop().call_later(self.lease, give_back)
        try:
            await self.app(scope, receive, send)
        finally:
            lease.cancel()
            give_back()


class _BodyTooLarge(Exception):
    pass


class RequestLimitsMiddleware:
    """Refuses oversized requests before their body is read: headers beyond `max_header_bytes`
    (431), a body beyond `max_body_bytes` (413) — by its Content-Length at once, or while it
    streams in. Uploads (`upload_paths`) may carry `upload_bytes`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_header_bytes: int,
        upload_paths: frozenset[str] = frozenset(),
        upload_bytes: int = 0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes
        self.upload_paths = upload_paths
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        if sum(len(name) + len(value) + 4 for name, value in headers) > self.max_header_bytes:
            await self._refuse(scope, receive, send, 431, "The request's headers are too large.")
            return
        limit = self.upload_bytes if scope["path"] in self.upload_paths else self.max_body_bytes
        streamed = False
        for name, value in headers:
            if name == b"content-length":
                if not value.isdigit():
                    await self._refuse(scope, receive, send, 400, "Invalid Content-Length.")
                    return
                if int(value) > limit:
                    await self._refuse(scope, receive, send, 413, _too_large(limit))
                    return
            elif name == b"transfer-encoding":
                streamed = True
        if not streamed:
            # The body is at most its Content-Length, checked above (none: no body), and the
            # server reads no more than that: nothing to count as it comes.
            await self.app(scope, receive, send)
            return
        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # The framework turns a failed read into its own 400; `guarded_send`
                    # answers 413 in its place.
                    too_large = True
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":
                await self._refuse(scope, receive, send, 413, _too_large(limit))

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send, 413, _too_large(limit))

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
        # The connection is closed after: the rest of the body is never read.
        response = JSONResponse(
            error_body(text, _STATUS_CODES[status]),
            status_code=status,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _too_large(limit: int) -> str:
    return f"The request body is too large (at most {limit:,} bytes)."
