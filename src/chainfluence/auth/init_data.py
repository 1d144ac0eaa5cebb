"""Validation of Telegram Mini App initData.

Two ways, as Telegram documents them: HMAC-SHA256 keyed with the bot token (constant-time
comparison), or, for deployments that must not hold the token, the Ed25519 `signature` checked
with the bot id and Telegram's public key. Either way the data must be fresh (auth_date within
the configured age, not in the future) and must carry a user. Every failure is an
`InvalidInitData` (401), never an unhandled error.

The checks and the parsing are Telegram's documented algorithms written out here rather than
aiogram's helpers: importing aiogram costs an API process about 130 MB, and the API must not
load it (the bot's dispatcher runs in the worker).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qsl

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel

from chainfluence.auth.exceptions import InvalidInitData
from chainfluence.config import InitDataValidation, Settings
from chainfluence.kit.time import utcnow
from chainfluence.users.identity import TelegramIdentity

MAX_INIT_DATA_LENGTH = 8192

# Telegram's Ed25519 keys for third-party validation (production and test environments).
PRODUCTION_PUBLIC_KEY = bytes.fromhex(
    "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d"
)
TEST_PUBLIC_KEY = bytes.fromhex("40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec")


class WebAppUser(BaseModel):
    """Telegram's WebAppUser, the fields we read (the rest are ignored)."""

    id: int
    is_bot: bool | None = None
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool | None = None
    photo_url: str | None = None


class WebAppChat(BaseModel):
    id: int
    type: str
    title: str
    username: str | None = None
    photo_url: str | None = None


class WebAppInitData(BaseModel):
    """Telegram's WebAppInitData (https://core.telegram.org/bots/webapps#webappinitdata)."""

    query_id: str | None = None
    user: WebAppUser | None = None
    receiver: WebAppUser | None = None
    chat: WebAppChat | None = None
    chat_type: str | None = None
    chat_instance: str | None = None
    start_param: str | None = None
    can_send_after: int | None = None
    auth_date: dt.datetime
    hash: str


def parse_webapp_init_data(raw: str) -> WebAppInitData:
    """The fields of initData, JSON values (user, chat...) decoded; no check of any signature."""
    return _init_data_of(dict(parse_qsl(raw)))


def _init_data_of(fields: dict[str, str]) -> WebAppInitData:
    decoded: dict[str, Any] = {}
    for key, value in fields.items():
        if (value.startswith("[") and value.endswith("]")) or (
            value.startswith("{") and value.endswith("}")
        ):
            decoded[key] = json.loads(value)
        else:
            decoded[key] = value
    return WebAppInitData.model_validate(decoded)


def _data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))


@functools.lru_cache(maxsize=4)
def _hmac_secret(token: str) -> bytes:
    """The key Telegram signs a bot's initData with, derived from its token alone: computed
    once per token (every initData's signature and date are still checked each time)."""
    return hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()


def check_hmac(token: str, raw: str) -> bool:
    """Telegram's HMAC-SHA256 of the data-check string, keyed with the bot token."""
    try:
        fields = dict(parse_qsl(raw, strict_parsing=True))
    except ValueError:
        return False
    return _hmac_matches(token, fields)


def _hmac_matches(token: str, fields: dict[str, str]) -> bool:
    given = fields.get("hash")
    if given is None:
        return False
    signed = {key: value for key, value in fields.items() if key != "hash"}
    expected = hmac.new(
        _hmac_secret(token), _data_check_string(signed).encode(), hashlib.sha256
    ).hexdigest()
    # As bytes: a hash that is not ASCII is a mismatch, not a TypeError.
    return hmac.compare_digest(expected.encode(), given.encode())


def check_ed25519(bot_id: int, raw: str, public_key: bytes) -> bool:
    """Telegram's Ed25519 `signature` over "<bot id>:WebAppData" and the data-check string."""
    try:
        fields = dict(parse_qsl(raw, strict_parsing=True))
    except ValueError:
        return False
    signature = fields.pop("signature", None)
    if not signature:
        return False
    fields.pop("hash", None)
    message = f"{bot_id}:WebAppData\n{_data_check_string(fields)}".encode()
    padding = "=" * (-len(signature) % 4)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            base64.urlsafe_b64decode(signature + padding), message
        )
    except InvalidSignature:
        return False
    return True


def telegram_public_key(setting: str) -> bytes:
    if setting == "production":
        return PRODUCTION_PUBLIC_KEY
    if setting == "test":
        return TEST_PUBLIC_KEY
    try:
        key = bytes.fromhex(setting)
    except ValueError:
        raise ValueError(
            "telegram_public_key must be 'production', 'test' or 64 hex digits"
        ) from None
    if len(key) != 32:
        raise ValueError("telegram_public_key must be 32 bytes (64 hex digits)")
    return key


def validate_init_data(raw: str, settings: Settings) -> TelegramIdentity:
    if not raw or not raw.strip():
        raise InvalidInitData("initData is empty; open the app from Telegram.")
    if len(raw) > MAX_INIT_DATA_LENGTH:
        raise InvalidInitData("initData is too long.")
    try:
        fields = dict(parse_qsl(raw, strict_parsing=True))
    except ValueError:
        raise InvalidInitData("initData is not a valid query string.") from None

    if settings.auth.init_data_validation is InitDataValidation.signature:
        _check_signature(raw, fields, settings)
    else:
        _check_hmac(fields, settings)

    try:
        # The fields parsed above (the lenient parse would find the same ones).
        data = _init_data_of(fields)
    except Exception:
        raise InvalidInitData("initData is malformed.") from None
    return _identity(data, settings)


def _check_hmac(fields: dict[str, str], settings: Settings) -> None:
    token = settings.bot_token
    if token is None:
        raise InvalidInitData("initData cannot be checked: no bot token is configured.")
    if not fields.get("hash"):
        raise InvalidInitData("initData has no hash.")
    if not _hmac_matches(token, fields):
        raise InvalidInitData("initData signature is invalid.")


def _check_signature(raw: str, fields: dict[str, str], settings: Settings) -> None:
    bot_id = settings.bot_id
    if bot_id is None:
        raise InvalidInitData("initData cannot be checked: no bot id is configured.")
    if not fields.get("signature"):
        raise InvalidInitData("initData has no signature.")
    try:
        valid = check_ed25519(bot_id, raw, telegram_public_key(settings.auth.telegram_public_key))
    except Exception:
        valid = False
    if not valid:
        raise InvalidInitData("initData signature is invalid.")


def _identity(data: WebAppInitData, settings: Settings) -> TelegramIdentity:
    now = utcnow()
    auth_date = data.auth_date
    if auth_date.tzinfo is None:
        auth_date = auth_date.replace(tzinfo=dt.UTC)
    age = (now - auth_date).total_seconds()
    if age < -settings.auth.init_data_clock_skew_seconds:
        raise InvalidInitData("initData is dated in the future.")
    if age > settings.auth.init_data_max_age_seconds:
        raise InvalidInitData("initData has expired; reopen the app from Telegram.")
    user = data.user
    if user is None:
        raise InvalidInitData("initData carries no user.")
    if user.is_bot:
        raise InvalidInitData("Bots cannot log in.")
    return TelegramIdentity(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        photo_url=user.photo_url,
        language_code=user.language_code,
        is_premium=bool(user.is_premium),
        auth_date=auth_date,
        start_param=data.start_param,
    )
