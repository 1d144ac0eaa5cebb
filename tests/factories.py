"""Test factories: Telegram initData as Telegram signs it, logged-in clients, images."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from chainfluence.kit.time import utcnow

TEST_BOT_TOKEN = "123456789:TEST-token-for-chainfluence-tests-0001"
TEST_BOT_ID = 123456789


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields))


def init_data_fields(
    user_id: int | None = 1001,
    *,
    first_name: str = "Alice",
    username: str | None = "alice",
    auth_date: int | None = None,
    **extra: str,
) -> dict[str, str]:
    fields: dict[str, str] = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "auth_date": str(auth_date if auth_date is not None else int(utcnow().timestamp())),
    }
    if user_id is not None:
        user: dict[str, Any] = {"id": user_id, "first_name": first_name, "language_code": "en"}
        if username:
            user["username"] = username
        fields["user"] = json.dumps(user, separators=(",", ":"))
    fields.update(extra)
    return fields


def sign_hmac(fields: dict[str, str], bot_token: str = TEST_BOT_TOKEN) -> dict[str, str]:
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, _check_string(fields).encode(), hashlib.sha256).hexdigest()
    return {**fields, "hash": digest}


def sign_ed25519(
    fields: dict[str, str], key: Ed25519PrivateKey, bot_id: int = TEST_BOT_ID
) -> dict[str, str]:
    message = f"{bot_id}:WebAppData\n{_check_string(fields)}".encode()
    signature = base64.urlsafe_b64encode(key.sign(message)).decode().rstrip("=")
    # Telegram sends a hash too; a third party cannot check it.
    return {**fields, "signature": signature, "hash": "0" * 64}


def encode(fields: dict[str, str]) -> str:
    return urlencode(fields)


def init_data(user_id: int = 1001, **kwargs: Any) -> str:
    return encode(sign_hmac(init_data_fields(user_id, **kwargs)))


async def login(client: httpx.AsyncClient, user_id: int = 1001, **kwargs: Any) -> dict[str, str]:
    """Log in as a Telegram user; returns the Authorization header for later requests."""
    response = await client.post("/v1/auth/login", json={"initData": init_data(user_id, **kwargs)})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(buffer, format=fmt)
    return buffer.getvalue()
