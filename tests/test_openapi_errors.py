"""The OpenAPI document lists every error a route can answer, with the error body (issue 12,
finding 7), and bounds every integer parameter (finding 2). That routes answer only codes they
document is checked over generated requests by tests/test_api_schema.py."""

from __future__ import annotations

from typing import Any

import httpx

from chainfluence.kit.schemas import INT64_MAX, INT64_MIN

METHODS = {"get", "post", "put", "patch", "delete"}


async def _operations(client: httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = (await client.get("/openapi.json")).json()
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def test_every_operation_documents_its_errors_with_the_error_body(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    operations = await _operations(client)

    assert len(operations) > 50
    assert set(spec["components"]["schemas"]["Error"]["required"]) == {"message", "code"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, method, operation in operations:
        responses = operation["responses"]
        codes = {int(code) for code in responses}
        where = f"{method.upper()} {path}"
        assert {500, 431} <= codes, where
        if path.startswith("/v1/"):
            assert 429 in codes, where
        if operation.get("security"):
            assert 401 in codes, where
        if operation.get("parameters") or operation.get("requestBody"):
            assert 422 in codes, where
        if operation.get("requestBody"):
            assert 413 in codes, where
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            assert 404 in codes, where
        for code in codes - {200, 201, 202, 204}:
            if path == "/readyz":
                continue
            schema = responses[str(code)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (where, code)


async def test_routes_document_their_own_codes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()

    add_channel = spec["paths"]["/v1/channels"]["post"]["responses"]
    login = spec["paths"]["/v1/auth/login"]["post"]["responses"]
    upload = spec["paths"]["/v1/uploads"]["post"]["responses"]
    disputes = spec["paths"]["/v1/admin/disputes"]["get"]["responses"]

    # Re-adding a channel you already list answers 200 with it; a new one is 201.
    assert {"200", "201"} <= set(add_channel)
    assert add_channel["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Channel"
    }
    assert "401" in login
    assert {"413", "415"} <= set(upload)
    assert {"401", "403"} <= set(disputes)


def _integers(schema: Any) -> list[dict[str, Any]]:
    if isinstance(schema, dict):
        found = [schema] if schema.get("type") == "integer" else []
        return found + [i for value in schema.values() for i in _integers(value)]
    if isinstance(schema, list):
        return [i for value in schema for i in _integers(value)]
    return []


async def test_every_integer_parameter_is_bounded_to_int64(client: httpx.AsyncClient) -> None:
    operations = await _operations(client)

    checked = 0
    for path, method, operation in operations:
        for parameter in operation.get("parameters", []):
            for integer in _integers(parameter["schema"]):
                checked += 1
                where = f"{method.upper()} {path} {parameter['name']}"
                assert integer.get("minimum", INT64_MIN - 1) >= INT64_MIN, where
                assert integer.get("maximum", INT64_MAX + 1) <= INT64_MAX, where

    assert checked > 30
