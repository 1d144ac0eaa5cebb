"""HTTP plumbing: the error body, request logging and metrics, client addresses."""

from __future__ import annotations

import ipaddress
import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram
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
}


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

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("Something went wrong on our side; please try again.", "internal_error"),
            status_code=500,
        )


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


class AccessLogMiddleware:
    """One structured log line and metrics per request. Never logs headers, bodies or queries,
    which may carry initData or tokens."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            REQUESTS.labels(method, template, str(status)).inc()
            LATENCY.labels(method, template).observe(elapsed)
            log.info(
                "%s %s %d %.1fms",
                method,
                template,
                status,
                elapsed * 1000,
                extra={"user_id": scope.get("state", {}).get("user_id")},
            )
