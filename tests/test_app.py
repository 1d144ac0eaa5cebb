"""The HTTP surface: health, readiness, metrics, the error body, CORS."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import runtime_of
from tests.factories import init_data


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    ready = await client.get("/readyz")

    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_readyz_reports_an_unreachable_database(client: httpx.AsyncClient) -> None:
    runtime = runtime_of(client)
    engine = runtime.engine
    if engine.dialect.name == "postgresql":
        broken_url = engine.url.set(port=1)
    else:
        broken_url = engine.url.set(database="/dev/null/cannot/exist.sqlite3")
    runtime.engine = create_async_engine(broken_url)
    try:
        ready = await client.get("/readyz")
    finally:
        await runtime.engine.dispose()
        runtime.engine = engine

    assert ready.status_code == 503
    assert ready.json() == {"status": "not_ready", "checks": {"database": "unreachable"}}


async def test_unknown_route_and_wrong_method_use_the_error_body(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing-here")
    wrong_method = await client.delete("/v1/users/me")

    assert missing.status_code == 404
    assert missing.json() == {"message": "No such route.", "code": "not_found"}
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"


async def test_malformed_json_body_is_422_with_message(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["message"]


async def test_cors_allows_credentialed_requests_from_configured_origins(
    client: httpx.AsyncClient,
) -> None:
    allowed = await client.options(
        "/v1/users/me",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    foreign = await client.get("/healthz", headers={"Origin": "https://evil.example"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in foreign.headers


async def test_metrics_expose_request_counts(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")

    metrics = await client.get("/metrics")

    assert metrics.status_code == 200
    assert (
        'chainfluence_http_requests_total{method="GET",route="/healthz",status="200"}'
        in metrics.text
    )


async def test_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()

    assert "/v1/auth/login" in spec["paths"]


async def test_request_logs_never_carry_init_data_or_tokens(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    raw = init_data(4242, first_name="Secretive")
    caplog.set_level(logging.INFO)

    login = await client.post("/v1/auth/login", json={"initData": raw})
    token = login.json()["access_token"]
    await client.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    await client.get("/v1/users/me", headers={"Authorization": f"tma {raw}"})
    await client.get("/v1/users/me?initData=" + raw)

    # (httpx's own lines are this test's client talking, not the service.)
    logged = "\n".join(
        record.getMessage() + repr(record.__dict__)
        for record in caplog.records
        if record.name != "httpx"
    )
    assert "/users/me" in logged  # the access log did run
    assert token not in logged
    assert "Secretive" not in logged
    assert "hash=" not in logged
