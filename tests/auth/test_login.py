"""Login with Telegram initData, and access tokens."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.kit import time as clock
from chainfluence.models import User
from tests.conftest import app_client, make_settings
from tests.factories import (
    TEST_BOT_ID,
    encode,
    init_data,
    init_data_fields,
    login,
    sign_ed25519,
    sign_hmac,
)


async def _login(client: httpx.AsyncClient, raw: str) -> httpx.Response:
    return await client.post("/v1/auth/login", json={"initData": raw})


async def test_valid_init_data_logs_in_and_returns_a_working_token(
    client: httpx.AsyncClient,
) -> None:
    response = await _login(client, init_data(1001, first_name="Alice", username="alice"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    assert body["user"]["id"] == "1001"
    assert body["user"]["username"] == "alice"
    assert body["user"]["isPublisher"] is False
    assert body["user"]["isAdvertiser"] is False
    me = await client.get(
        "/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == "1001"


async def test_tma_authorization_header_is_accepted_and_registers_the_user(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/users/me", headers={"Authorization": f"tma {init_data(2002)}"})

    assert response.status_code == 200, response.text
    assert response.json()["id"] == "2002"


def _tampered() -> str:
    fields = sign_hmac(init_data_fields(1001))
    user = json.loads(fields["user"])
    user["id"] = 9999
    fields["user"] = json.dumps(user, separators=(",", ":"))
    return encode(fields)


def _without(key: str) -> str:
    fields = sign_hmac(init_data_fields(1001))
    del fields[key]
    return encode(fields)


def _at(offset: dt.timedelta) -> str:
    return init_data(1001, auth_date=int((clock.utcnow() + offset).timestamp()))


BAD_INIT_DATA = {
    "tampered field": (_tampered, "initData signature is invalid."),
    "wrong bot token": (
        lambda: encode(sign_hmac(init_data_fields(1001), bot_token="999:other-bot-token")),
        "initData signature is invalid.",
    ),
    "missing hash": (lambda: _without("hash"), "initData has no hash."),
    "expired": (
        lambda: _at(-dt.timedelta(hours=2)),
        "initData has expired; reopen the app from Telegram.",
    ),
    "future dated": (lambda: _at(dt.timedelta(minutes=10)), "initData is dated in the future."),
    "missing user": (
        lambda: encode(sign_hmac(init_data_fields(None))),
        "initData carries no user.",
    ),
    "not a query string": (lambda: "%%%", "initData is not a valid query string."),
    "blank": (lambda: "   ", "initData is empty; open the app from Telegram."),
    "garbage auth_date": (
        lambda: encode(sign_hmac({**init_data_fields(1001), "auth_date": "yesterday"})),
        "initData is malformed.",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INIT_DATA))
async def test_bad_init_data_is_refused_with_401_and_a_message(
    client: httpx.AsyncClient, db: AsyncEngine, case: str
) -> None:
    make, message = BAD_INIT_DATA[case]

    responses = [await _login(client, make())]
    if make().strip():
        responses.append(
            await client.get("/v1/users/me", headers={"Authorization": f"tma {make()}"})
        )

    for response in responses:
        assert response.status_code == 401, response.text
        assert response.json() == {"message": message, "code": "invalid_init_data"}
    async with db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(User))).scalar_one() == 0


async def test_max_age_is_configurable(db: AsyncEngine, database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(database_url, tmp_path, auth={"init_data_max_age_seconds": 60})
    async with app_client(settings) as client:
        stale = await _login(client, _at(-dt.timedelta(seconds=120)))
        fresh = await _login(client, _at(-dt.timedelta(seconds=30)))

    assert stale.status_code == 401
    assert fresh.status_code == 200


async def test_third_party_signature_is_verified_with_the_configured_public_key(
    db: AsyncEngine,
    database_url: str,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    telegram_key = Ed25519PrivateKey.generate()
    other_key = Ed25519PrivateKey.generate()
    public_hex = telegram_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    settings = make_settings(
        database_url,
        tmp_path,
        telegram={"bot_token": None, "bot_id": TEST_BOT_ID},
        auth={"init_data_validation": "signature", "telegram_public_key": public_hex},
    )
    async with app_client(settings) as client:
        good = await _login(client, encode(sign_ed25519(init_data_fields(3003), telegram_key)))
        forged = await _login(client, encode(sign_ed25519(init_data_fields(3004), other_key)))
        other_bot = await _login(
            client, encode(sign_ed25519(init_data_fields(3005), telegram_key, bot_id=42))
        )
        hmac_only = await _login(client, init_data(3006))

    assert good.status_code == 200, good.text
    assert good.json()["user"]["id"] == "3003"
    for refused in (forged, other_bot):
        assert refused.status_code == 401
        assert refused.json()["message"] == "initData signature is invalid."
    assert hmac_only.status_code == 401
    assert hmac_only.json()["message"] == "initData has no signature."


@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda token, secret: f"Bearer {token[:-2]}xx", id="tampered"),
        pytest.param(
            lambda token, secret: (
                "Bearer "
                + jwt.encode(
                    {"sub": "1001", "iss": "chainfluence", "typ": "access", "iat": 1, "exp": 2},
                    secret,
                    algorithm="HS256",
                )
            ),
            id="expired",
        ),
        pytest.param(
            lambda token, secret: (
                "Bearer "
                + jwt.encode(
                    {"sub": "1001", "iss": "chainfluence", "typ": "access", "iat": 1, "exp": 2**40},
                    "another-secret-another-secret-another-secret",
                    algorithm="HS256",
                )
            ),
            id="wrong secret",
        ),
        pytest.param(lambda token, secret: "Bearer", id="empty bearer"),
        pytest.param(lambda token, secret: f"Basic {token}", id="unknown scheme"),
    ],
)
async def test_bad_access_token_is_refused_with_401(client: httpx.AsyncClient, make_header) -> None:  # type: ignore[no-untyped-def]
    headers = await login(client, 1001)
    token = headers["Authorization"].removeprefix("Bearer ")
    secret = client.app.state.runtime.settings.auth.jwt_secret.get_secret_value()  # type: ignore[attr-defined]

    response = await client.get(
        "/v1/users/me", headers={"Authorization": make_header(token, secret)}
    )

    assert response.status_code == 401
    assert response.json()["code"] in {"invalid_token", "not_authenticated"}
    assert response.json()["message"]


async def test_token_expires_when_the_clock_passes_its_lifetime(client: httpx.AsyncClient) -> None:
    headers = await login(client, 1001)
    clock.advance(dt.timedelta(days=2))

    response = await client.get("/v1/users/me", headers=headers)

    assert response.status_code == 401
    assert response.json() == {
        "message": "the access token has expired; log in again",
        "code": "invalid_token",
    }


async def test_a_token_in_use_still_expires(client: httpx.AsyncClient) -> None:
    # A token's signature check is remembered between requests; its expiry never is.
    headers = await login(client, 1001)
    assert (await client.get("/v1/users/me", headers=headers)).status_code == 200
    assert (await client.get("/v1/users/me/stats", headers=headers)).status_code == 200
    clock.advance(dt.timedelta(days=2))

    for path in ("/v1/users/me", "/v1/users/me/stats"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.json()["message"] == "the access token has expired; log in again"


async def test_missing_authorization_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/users/me")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_concurrent_first_logins_create_exactly_one_user(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    responses = await asyncio.gather(
        *(_login(client, init_data(5005, first_name="Eve")) for _ in range(20))
    )

    assert [r.status_code for r in responses] == [200] * 20
    async with db.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(User))).scalar_one()
    assert count == 1


async def test_later_login_refreshes_names_but_keeps_member_since_and_roles(
    client: httpx.AsyncClient,
) -> None:
    headers = await login(client, 1001, first_name="Alice", username="alice")
    await client.patch("/v1/users/me", json={"isPublisher": True}, headers=headers)
    first = (await client.get("/v1/users/me", headers=headers)).json()
    clock.advance(dt.timedelta(hours=3))

    headers = await login(client, 1001, first_name="Alicia", username="alicia")
    second = (await client.get("/v1/users/me", headers=headers)).json()

    assert second["firstName"] == "Alicia"
    assert second["username"] == "alicia"
    assert second["memberSince"] == first["memberSince"]
    assert second["isPublisher"] is True
