"""Telegram Mini App `initData`, signed as Telegram signs it.

`hash` is HMAC-SHA256 of the data-check-string (sorted `key=value` lines, hash excluded) keyed
with HMAC-SHA256("WebAppData", bot_token), so aiogram's `safe_parse_webapp_init_data` accepts it.
`signature` is the Ed25519 signature for third-party validation (the data-check-string prefixed
with "<bot_id>:WebAppData\\n"); the emulator signs with its own key, published by the control API,
since Telegram's private key is Telegram's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from chainfluence_sandbox.telegram.state import BotAccount, EmulatorState, User


def signing_key(state: EmulatorState) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(state.web_app_signing_seed)


def public_key(state: EmulatorState) -> bytes:
    return signing_key(state).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields))


def build_init_data(
    state: EmulatorState,
    bot: BotAccount,
    user: User,
    *,
    auth_date: int | None = None,
    query_id: str | None = None,
    start_param: str | None = None,
    chat_type: str | None = None,
    chat_instance: str | None = None,
    signed: bool = True,
) -> str:
    user_data: dict[str, object] = {"id": user.id, "first_name": user.first_name}
    if user.last_name:
        user_data["last_name"] = user.last_name
    if user.username:
        user_data["username"] = user.username
    if user.language_code:
        user_data["language_code"] = user.language_code
    if user.is_premium:
        user_data["is_premium"] = True
    user_data["allows_write_to_pm"] = True
    fields = {
        "query_id": query_id or "AAH" + secrets.token_urlsafe(18),
        "user": json.dumps(user_data, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(auth_date if auth_date is not None else state.clock.now()),
    }
    if start_param:
        fields["start_param"] = start_param
    if chat_type:
        fields["chat_type"] = chat_type
    if chat_instance:
        fields["chat_instance"] = chat_instance
    if signed:
        message = f"{bot.id}:WebAppData\n{_check_string(fields)}".encode()
        signature = signing_key(state).sign(message)
        fields["signature"] = base64.urlsafe_b64encode(signature).decode().rstrip("=")
    secret = hmac.new(b"WebAppData", bot.token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, _check_string(fields).encode(), hashlib.sha256).hexdigest()
    return urlencode(fields, quote_via=quote)
