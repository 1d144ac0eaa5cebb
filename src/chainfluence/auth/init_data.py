"""Validation of Telegram Mini App initData.

Two ways, as Telegram documents them: HMAC-SHA256 keyed with the bot token (constant-time
comparison), or, for deployments that must not hold the token, the Ed25519 `signature` checked
with the bot id and Telegram's public key. Either way the data must be fresh (auth_date within
the configured age, not in the future) and must carry a user. Every failure is an
`InvalidInitData` (401), never an unhandled error.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

from aiogram.utils.web_app import WebAppInitData, parse_webapp_init_data
from aiogram.utils.web_app import check_webapp_signature as check_hmac
from aiogram.utils.web_app_signature import PRODUCTION_PUBLIC_KEY, TEST_PUBLIC_KEY
from aiogram.utils.web_app_signature import check_webapp_signature as check_ed25519

from chainfluence.auth.exceptions import InvalidInitData
from chainfluence.config import InitDataValidation, Settings
from chainfluence.kit.time import utcnow
from chainfluence.users.identity import TelegramIdentity

MAX_INIT_DATA_LENGTH = 8192


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
        _check_hmac(raw, fields, settings)

    try:
        data = parse_webapp_init_data(raw)
    except Exception:
        raise InvalidInitData("initData is malformed.") from None
    return _identity(data, settings)


def _check_hmac(raw: str, fields: dict[str, str], settings: Settings) -> None:
    token = settings.bot_token
    if token is None:
        raise InvalidInitData("initData cannot be checked: no bot token is configured.")
    if not fields.get("hash"):
        raise InvalidInitData("initData has no hash.")
    if not check_hmac(token, raw):
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
