"""The FastAPI application: routers under /v1, error body, CORS, limits, health and metrics."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

import chainfluence
from chainfluence.admin.router import router as admin_router
from chainfluence.auth.router import router as auth_router
from chainfluence.auth.users_router import router as users_router
from chainfluence.bootstrap import build_runtime
from chainfluence.bot.webhook import router as telegram_router
from chainfluence.campaigns.router import router as campaigns_router
from chainfluence.channels.router import router as channels_router
from chainfluence.config import Settings, get_settings
from chainfluence.deals.router import router as deals_router
from chainfluence.escrow.router import router as escrow_router
from chainfluence.events.router import router as events_router
from chainfluence.evidence.router import add_key_route
from chainfluence.evidence.router import router as evidence_router
from chainfluence.kit.errors import TooManyRequests
from chainfluence.kit.heap import freeze_startup_objects
from chainfluence.kit.http import (
    REQUEST_ID_HEADER,
    AccessLogMiddleware,
    AdmissionMiddleware,
    RequestLimitsMiddleware,
    client_ip,
    error_body,
    install_error_handlers,
)
from chainfluence.kit.openapi import document_errors
from chainfluence.kit.pagination import TOTAL_COUNT_HEADER
from chainfluence.notifications.router import router as notifications_router
from chainfluence.offers.router import router as offers_router
from chainfluence.operations import OPERATIONAL_PATHS, add_operational_routes
from chainfluence.pages.router import router as pages_router
from chainfluence.reviews.router import router as reviews_router
from chainfluence.runtime import Runtime
from chainfluence.telegram.lifecycle import configure_webhook
from chainfluence.uploads.router import router as uploads_router
from chainfluence.wallets.router import router as wallets_router

if TYPE_CHECKING:
    from chainfluence.plugins import LocalServices

log = logging.getLogger(__name__)


class IpRateLimitMiddleware:
    """Per-IP limits on /v1 (a stricter one on login), before any work is done."""

    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        runtime: Runtime = self.fastapi_app.state.runtime
        limits = runtime.settings.rate_limit
        if limits.enabled and scope["method"] != "OPTIONS":
            ip = client_ip(scope, runtime.settings.http.trusted_proxies)
            try:
                await runtime.rate_limiter.hit(limits.per_ip, "ip", ip)
                if scope["path"] == "/v1/auth/login":
                    await runtime.rate_limiter.hit(limits.login_per_ip, "login-ip", ip)
            except TooManyRequests as exc:
                response = JSONResponse(
                    error_body(exc.message, exc.code), status_code=429, headers=exc.headers
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# The /v1 routers, each included in the app under /v1 itself rather than through one /v1
# router: FastAPI walks included routers level by level to find a route (and again to hand the
# request down), so one level fewer is a third of the routing's CPU on every request (GET
# /v1/users/me: 29 -> 12 us per route lookup). Same routes, same order, same OpenAPI.
API_ROUTERS = (
    auth_router,
    users_router,
    channels_router,
    notifications_router,
    uploads_router,
    campaigns_router,
    offers_router,
    deals_router,
    evidence_router,
    events_router,
    wallets_router,
    escrow_router,
    reviews_router,
    admin_router,
)
API_PREFIX = "/v1"


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    consume_jobs: bool | None = None,
    services: LocalServices | None = None,
    owns_process: bool = False,
) -> FastAPI:
    """The API. With `runtime` given the caller owns it (serve); otherwise the app builds its own.

    `owns_process`: the app is the process's whole life (`chainfluence api`), so once started it
    freezes what start-up built out of the garbage collector's way (see `kit.heap`).

    Jobs are consumed in this process when asked, or by default when there is no Redis (there is
    then no separate worker to run them). `services`: what the plugins started for `serve` (the
    sandbox's emulators); in sandbox mode their routes are mounted (never in production).
    """
    settings = runtime.settings if runtime is not None else (settings or get_settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = runtime is None
        current = runtime if runtime is not None else build_runtime(settings)
        app.state.runtime = current
        if own:
            await current.follow_sandbox_clock()
        consume = consume_jobs if consume_jobs is not None else settings.redis.url is None
        if own and consume:
            await current.start_consuming()
        if own:
            await configure_webhook(current)
        if owns_process:
            freeze_startup_objects()
        try:
            yield
        finally:
            if own:
                await current.close()

    app = FastAPI(
        title="Chainfluence API",
        version=chainfluence.__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        # Our figures are Prometheus metrics and structured logs (AccessLogMiddleware); no
        # OpenTelemetry provider is configured, and without this FastAPI looks for one on
        # every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    _document_errors(app)
    # First in the route table: a route is found by trying each in turn, and the probes come
    # often (every few seconds per balancer) for a trivial answer that should not pay for
    # trying every /v1 route first. The OpenAPI document keeps them last (see `_document_errors`).
    add_operational_routes(app)
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    if services is not None and settings.is_sandbox:
        services.install_routes(app)
    app.include_router(telegram_router)
    app.include_router(pages_router)
    add_key_route(app)
    if settings.http.concurrent_requests:
        app.add_middleware(
            AdmissionMiddleware,
            slots=settings.http.concurrent_requests,
            lease=settings.http.slot_lease_seconds,
            max_wait=settings.http.queue_wait_seconds,
            exempt=OPERATIONAL_PATHS,
        )
    app.add_middleware(IpRateLimitMiddleware, fastapi_app=app)
    app.add_middleware(
        RequestLimitsMiddleware,
        max_body_bytes=settings.http.max_body_bytes,
        max_header_bytes=settings.http.max_header_bytes,
        upload_paths=frozenset({"/v1/uploads"}),
        # The multipart envelope around the file: boundaries, part headers.
        upload_bytes=settings.uploads.max_bytes + 64 * 1024,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.http.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        expose_headers=[TOTAL_COUNT_HEADER, "Retry-After", REQUEST_ID_HEADER],
        max_age=600,
    )
    app.add_middleware(AccessLogMiddleware)
    return app


API_DESCRIPTION = """Telegram channel advertising with per-deal TON escrow.

Conventions (a generated TypeScript client lives in `clients/typescript/`):

- **Auth**: `Authorization: Bearer <accessToken>` from `POST /v1/auth/login {initData}`, or
  `Authorization: tma <initData>`.
- **Errors**: every non-2xx answer is `{"message": "<a sentence to show>", "code": "<snake_case>"}`;
  422 lists the offending fields.
- **Lists**: JSON arrays; `limit` (default 50, max 200) and `offset`; the total in `X-Total-Count`.
- **Money**: stored in nanotons. Prices people type (`price`, `budget`, `amount` of offers) are TON
  decimals; every `…Nano` field is a string of nanotons (exact; parse it as a big integer).
- **Ratios are percent**: `engagementRate` 28.63 means 28.63 % (average views / subscribers), as are
  `err24Percent`, `erPercent`, the catalogue's `minEr` filter and a campaign's `minEngagement`.
- **Categories**: one list, spelled lowercase in answers: `crypto`, `defi`, `trading`, `nft`,
  `tech`, `business`, `finance`, `news`, `education`, `entertainment`, `lifestyle`, `gaming`,
  `sports`, `health`, `travel`, `food`, `fashion`, `music`, `art`, `science`, `politics`,
  `marketing`, `other`. Input in any case (`"Crypto"`, `"DeFi"`, `"NFT"`), in bodies and filters.
- **Addresses**: stored and given raw (`0:<hex>`), with the user-friendly form next to it: wallets
  non-bounceable (`UQ…`), contracts such as the escrow bounceable (`EQ…`), with the test-only flag
  on testnet (`0Q…`/`kQ…`). E.g. a deal's `escrowAddress` and `escrowAddressFriendly`.
- **Ids**: users and channels are Telegram ids as JSON strings; other ids are numbers.
"""


_OPERATIONAL_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _document_errors(app: FastAPI) -> None:
    """/openapi.json lists every error response of every route (see `kit.openapi`), the
    operational routes (health, readiness) last as they were declared before the route table
    put them first."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = document_errors(build())
            paths = schema.get("paths", {})
            operational = {path for path in paths if path in _OPERATIONAL_PATHS}
            schema["paths"] = {
                **{k: v for k, v in paths.items() if k not in operational},
                **{k: v for k, v in paths.items() if k in operational},
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
