"""/v1/uploads: images only, sniffed from bytes, size-limited, served with cache headers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.models import Upload
from tests.conftest import runtime_of
from tests.factories import image_bytes, login


def _stored_files(client: httpx.AsyncClient) -> list[Path]:
    root = runtime_of(client).settings.uploads.dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def _count(db: AsyncEngine) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(Upload))).scalar_one())


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
async def test_image_round_trips_byte_for_byte(
    client: httpx.AsyncClient, fmt: str, content_type: str
) -> None:
    headers = await login(client, 1001)
    data = image_bytes(fmt)

    # The client claims a wrong name and type: the bytes decide.
    created = await client.post(
        "/v1/uploads",
        files={"file": ("photo.txt", data, "text/plain")},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    fetched = await client.get(f"/v1/uploads/{body['fileId']}")

    assert body["contentType"] == content_type
    assert body["url"] == f"http://testserver/v1/uploads/{body['fileId']}"
    assert (body["width"], body["height"]) == (32, 24)
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["content-type"] == content_type
    assert "immutable" in fetched.headers["cache-control"]
    assert fetched.headers["x-content-type-options"] == "nosniff"


async def test_renamed_text_file_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    headers = await login(client, 1001)

    response = await client.post(
        "/v1/uploads",
        files={"file": ("cat.png", b"just some text pretending to be a picture", "image/png")},
        headers=headers,
    )

    assert response.status_code == 415
    assert response.json()["code"] == "not_an_image"
    assert await _count(db) == 0
    assert _stored_files(client) == []


async def test_truncated_image_with_a_valid_header_is_refused(client: httpx.AsyncClient) -> None:
    headers = await login(client, 1001)

    response = await client.post(
        "/v1/uploads",
        files={"file": ("x.png", image_bytes("PNG")[:40], "image/png")},
        headers=headers,
    )

    assert response.status_code == 415


async def test_oversized_image_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    headers = await login(client, 1001)
    limit = runtime_of(client).settings.uploads.max_bytes
    big = image_bytes("PNG") + b"\0" * limit

    response = await client.post(
        "/v1/uploads", files={"file": ("big.png", big, "image/png")}, headers=headers
    )

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert await _count(db) == 0
    assert _stored_files(client) == []


async def test_image_telegram_would_refuse_is_refused_at_upload(client: httpx.AsyncClient) -> None:
    headers = await login(client, 1001)

    response = await client.post(
        "/v1/uploads",
        files={"file": ("strip.png", image_bytes("PNG", size=(2100, 100)), "image/png")},
        headers=headers,
    )

    assert response.status_code == 422
    assert "aspect ratio" in response.json()["message"]


async def test_upload_needs_login_and_unknown_file_is_404(client: httpx.AsyncClient) -> None:
    anonymous = await client.post(
        "/v1/uploads", files={"file": ("a.png", image_bytes("PNG"), "image/png")}
    )
    missing = await client.get("/v1/uploads/does-not-exist")

    assert anonymous.status_code == 401
    assert missing.status_code == 404
    assert missing.json()["code"] == "upload_not_found"


async def test_missing_file_field_is_422(client: httpx.AsyncClient) -> None:
    headers = await login(client, 1001)

    response = await client.post("/v1/uploads", data={"other": "x"}, headers=headers)

    assert response.status_code == 422
