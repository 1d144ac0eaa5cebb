"""Bot API call parameters from the query string and a JSON, url-encoded or multipart body.

Real clients send everything as strings (aiogram posts a form and JSON-encodes nested objects such
as `reply_markup`, `entities` and `media`; uploads are multipart parts referenced as `attach://<name>`
or sent directly under the parameter's own name). JSON bodies carry native values. The accessors
accept both, leniently, like the Bot API server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from chainfluence_sandbox.telegram.errors import bad_request, chat_id_empty


@dataclass
class UploadedFile:
    filename: str
    data: bytes
    content_type: str | None = None


class Params:
    def __init__(
        self, values: dict[str, Any] | None = None, files: dict[str, UploadedFile] | None = None
    ) -> None:
        self.values = values or {}
        self.files = files or {}

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str, default: int = 0) -> int:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            try:
                return int(float(value))
            except (TypeError, ValueError):
                return 0

    def get_bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)

    def get_json(self, name: str, *, what: str | None = None) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {what or name} JSON object") from None

    def chat_id(self, name: str = "chat_id") -> str:
        value = self.get_str(name)
        if value is None or value.strip() == "":
            if name == "chat_id":
                raise chat_id_empty()
            raise bad_request(f"{name} is empty")
        return value.strip()

    def snapshot(self) -> dict[str, Any]:
        """A JSON-friendly copy for the call log."""
        snap = dict(self.values)
        for name, upload in self.files.items():
            snap[name] = f"<file {upload.filename} {len(upload.data)} bytes>"
        return snap


async def read_params(request: Request) -> Params:
    values: dict[str, Any] = dict(request.query_params)
    files: dict[str, UploadedFile] = {}
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/json"):
        body = await request.body()
        if body.strip():
            try:
                decoded = json.loads(body)
            except ValueError:
                raise bad_request("can't parse JSON encoded request") from None
            if not isinstance(decoded, dict):
                raise bad_request("JSON object expected")
            values.update(decoded)
    elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        async with request.form(max_part_size=50 * 1024 * 1024) as form:
            for key, item in form.multi_items():
                if isinstance(item, UploadFile):
                    files[key] = UploadedFile(
                        filename=item.filename or key,
                        data=await item.read(),
                        content_type=item.content_type,
                    )
                else:
                    values[key] = item
    return Params(values, files)


async def params_from_body(content_type: str, body: bytes) -> Params:
    """Parse a body that did not arrive as a request (a webhook reply carrying a method call)."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [(b"content-type", content_type.encode())],
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return await read_params(Request(scope, receive))
