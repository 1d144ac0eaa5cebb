"""The OpenAPI document with every error a route can answer, each with the error body.

FastAPI lists a route's success code and a 422 in its own validation shape. Our errors are all
`{"message", "code"}` (422s add `errors`, 500s `requestId`), and they come from layers FastAPI
does not see: the request limits (413/431) and per-IP limits (429) in middleware, the auth
dependency (401), loaders (404/403), the domain's `AppError`s (400/403/409/503). The rules below
derive each route's list from what its operation shows (security, path parameters, a body,
the method); a route adds codes of its own with `responses=` on its decorator. The schemathesis
run (tests/test_api_schema.py) checks that no route answers a code it does not document.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["message", "code"],
    "properties": {
        "message": {"type": "string", "description": "A sentence to show the person."},
        "code": {"type": "string", "description": "snake_case, stable for programs."},
        "errors": {
            "type": "array",
            "description": "422: each offending field and what is wrong with it.",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "requestId": {"type": "string", "description": "500: quote it when reporting."},
    },
}

DESCRIPTIONS = {
    400: "The request cannot be carried out as sent (e.g. an expired ton_proof challenge).",
    401: "Not logged in, or the token or initData is invalid or expired.",
    403: "Logged in, but not allowed to do this.",
    404: "No such resource (or not visible to you).",
    409: "Not possible in the resource's current state.",
    413: "The request body is too large.",
    415: "The uploaded file is not a supported image.",
    422: "Invalid input; `errors` lists each field.",
    429: "Too many requests; retry after `Retry-After` seconds.",
    431: "The request headers are too large.",
    500: "An unexpected error on our side; `requestId` identifies it.",
    503: "A service we depend on (Telegram, the TON network, the platform wallet) is unavailable.",
}

_MUTATING = frozenset({"post", "put", "patch", "delete"})
_HTTP_METHODS = frozenset({"get", "head", "options", *_MUTATING})


def error_codes(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses a route may answer, from what its operation shows."""
    codes = {431, 500}
    params = operation.get("parameters", [])
    body = operation.get("requestBody")
    secured = bool(operation.get("security"))
    has_path_params = any(p.get("in") == "path" for p in params)
    if params or body:
        codes.add(422)
    if body:
        codes.add(413)
        if "multipart/form-data" in body.get("content", {}):
            codes.add(415)
    if path.startswith("/v1/"):
        codes.add(429)
    if has_path_params:
        codes.add(404)
    if secured:
        codes.add(401)
        if method in _MUTATING or has_path_params or path.startswith("/v1/admin/"):
            codes.add(403)
        if method in _MUTATING:
            codes |= {400, 404, 409, 503}
    return codes


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (FastAPI's document) with the error responses of every operation."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for code in sorted(error_codes(path, method, operation) | declared):
                entry = responses.setdefault(str(code), {})
                entry["description"] = entry.get("description") or DESCRIPTIONS.get(code, "Error")
                if code == 422 or "content" not in entry:
                    entry["content"] = error_content
            operation["responses"] = dict(sorted(responses.items()))
    return schema
