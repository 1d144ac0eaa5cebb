"""A 500 never stalls the server nor leaks a secret; oversized requests are refused before their
body is read (issue 12, findings 1 and 5), through the HTTP API."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qsl

import httpx
import pytest
import structlog
from fastapi import FastAPI, Request

from chainfluence.app import create_app
from chainfluence.config import Settings
from chainfluence.kit.logging import configure_logging, redact_text
from chainfluence.kit.serving import serve_in_background
from tests.conftest import runtime_of
from tests.factories import TEST_BOT_TOKEN, init_data, login

MNEMONIC = " ".join(["abandon"] * 23 + ["zoo"])


@pytest.fixture(params=["console", "json"])
def service_log(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """The service's own logging as `serve`/`api` configure it, written to a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging(json=request.param == "json", level="INFO")
    buffer = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:], root.level = saved
        structlog.reset_defaults()


def _add_crashing_route(app: FastAPI, raw_init_data: str) -> None:
    async def crash(request: Request) -> None:
        # What made console tracebacks take ~40 s: megabytes of locals, rendered with them.
        bulky = [f"row {i}: " + "x" * 1000 for i in range(10_000)]
        authorization = request.headers.get("authorization", "")
        raise RuntimeError(
            f"failed for {authorization} ({len(bulky)} rows) with initData {raw_init_data} at "
            f"https://api.telegram.org/bot{TEST_BOT_TOKEN}/getMe; wallet {MNEMONIC}"
        )

    async def slow() -> dict[str, str]:
        await asyncio.sleep(0.05)
        return {"status": "ok"}

    app.add_api_route("/v1/test-crash", crash, methods=["GET"])
    app.add_api_route("/v1/test-slow", slow, methods=["GET"])


async def test_unexpected_exception_is_answered_at_once_and_logged_without_secrets(
    client: httpx.AsyncClient, service_log: io.StringIO
) -> None:
    raw = init_data(4343, first_name="Hidden")
    headers = await login(client, 4343)
    token = headers["Authorization"].removeprefix("Bearer ")
    _add_crashing_route(client.app, raw)  # type: ignore[attr-defined]

    async def timed(path: str, headers: dict[str, str]) -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        response = await client.get(path, headers=headers)
        return response, time.perf_counter() - started

    # (The first request after routes are added rebuilds the router's tables, and the first
    # crash a process logs loads what formats tracebacks, a few tenths of a second: not measured.)
    warm, _ = await timed("/v1/test-slow", {})
    assert warm.status_code == 200
    first_crash, _ = await timed("/v1/test-crash", headers)
    assert first_crash.status_code == 500
    in_flight = asyncio.create_task(timed("/v1/test-slow", {}))
    await asyncio.sleep(0.01)
    # The stall this guards against was rendering the locals: ~40 s of this process's CPU, with
    # the event loop (and so every other request) held the whole time. CPU time is what such a
    # rendering costs whatever else the machine runs; the wall-clock bounds, an eighth of the
    # stall, leave a loaded CI machine's scheduling delays (tenths of a second) far behind.
    cpu_before = time.process_time()
    (crashed, crash_took), (slow, slow_took) = await asyncio.gather(
        timed("/v1/test-crash", headers), in_flight
    )
    cpu_took = time.process_time() - cpu_before

    assert crashed.status_code == 500
    body = crashed.json()
    assert body["code"] == "internal_error"
    assert body["requestId"] == crashed.headers["X-Request-ID"]
    assert body["requestId"] in body["message"]
    assert cpu_took < 0.25, cpu_took
    assert crash_took < 5, crash_took
    assert slow.status_code == 200
    assert slow_took < 5, slow_took
    logged = service_log.getvalue()
    assert "RuntimeError" in logged
    assert body["requestId"] in logged
    assert len(logged) < 60_000  # bounded: no locals, no megabytes of rows
    assert "row 9999" not in logged
    init_hash = dict(parse_qsl(raw))["hash"]
    for secret in (token, TEST_BOT_TOKEN, raw, "Hidden", "abandon abandon", init_hash):
        assert secret not in logged, secret


def test_redaction_knows_our_secret_shapes() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlLXZhbHVl"
    text = (
        f"Authorization: Bearer {jwt} / tma query_id=AAH&user=%7B%22id%22%3A1%7D&hash={'a' * 64}"
        f" / token {TEST_BOT_TOKEN} / {MNEMONIC} / amount 12 for user 42"
    )

    cleaned = redact_text(text)

    for secret in (jwt, "%7B%22id", "a" * 64, TEST_BOT_TOKEN, MNEMONIC):
        assert secret not in cleaned
    assert "amount 12 for user 42" in cleaned
    assert len(redact_text("y" * 1_000_000)) < 5_000


async def test_request_id_comes_back_on_every_answer(client: httpx.AsyncClient) -> None:
    mine = await client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})
    fresh = await client.get("/v1/channels")
    odd = await client.get("/healthz", headers={"X-Request-ID": "no spaces allowed"})

    assert mine.headers["X-Request-ID"] == "lb-1234abcd"
    assert len(fresh.headers["X-Request-ID"]) == 16
    assert odd.headers["X-Request-ID"] != "no spaces allowed"


async def test_oversized_body_is_refused_before_it_is_read(client: httpx.AsyncClient) -> None:
    big = b'{"initData": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    received = 0

    async def streamed() -> AsyncIterator[bytes]:
        nonlocal received
        for start in range(0, len(big), 64 * 1024):
            received += 1
            yield big[start : start + 64 * 1024]

    declared = await client.post(
        "/v1/auth/login", content=big, headers={"Content-Type": "application/json"}
    )
    chunked = await client.post(
        "/v1/auth/login", content=streamed(), headers={"Content-Type": "application/json"}
    )

    assert declared.status_code == 413
    assert declared.json()["code"] == "payload_too_large"
    assert "1,048,576 bytes" in declared.json()["message"]
    assert chunked.status_code == 413
    assert chunked.json()["code"] == "payload_too_large"


async def test_oversized_headers_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/v1/users/me", headers={"Authorization": "Bearer " + "a" * 1024 * 1024}
    )

    assert response.status_code == 431
    assert response.json()["code"] == "headers_too_large"


async def test_upload_may_be_larger_than_other_bodies_but_not_than_its_limit(
    client: httpx.AsyncClient,
) -> None:
    headers = await login(client, 4444)
    limit = runtime_of(client).settings.uploads.max_bytes

    response = await client.post(
        "/v1/uploads",
        files={"file": ("big.png", b"\x89PNG" + b"0" * (limit + 128 * 1024), "image/png")},
        headers=headers,
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_oversized_headers_get_an_answer_over_a_real_connection(settings: Settings) -> None:
    # Once a 1 MB Authorization header dropped the connection without any answer.
    app = create_app(settings)
    async with serve_in_background(app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get(
            "/v1/users/me", headers={"Authorization": "Bearer " + "a" * 1024 * 1024}
        )
        fine = await client.get("/healthz")

    assert response.status_code == 431
    assert response.json()["code"] == "headers_too_large"
    assert fine.status_code == 200
