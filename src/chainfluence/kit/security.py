"""Access tokens: HS256 JWTs carrying the Telegram user id."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import jwt

from chainfluence.kit.time import utcnow

ISSUER = "chainfluence"
_ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


def issue_access_token(
    user_id: int, *, secret: str, ttl_seconds: int, purpose: str = "access"
) -> IssuedToken:
    """`purpose` other than "access" makes a single-purpose token (e.g. an events ticket) that
    `read_access_token` refuses unless asked for that purpose."""
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "iss": ISSUER,
        "typ": purpose,
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(seconds=ttl_seconds)).timestamp()),
    }
    return IssuedToken(_hs256(claims, secret), ttl_seconds)


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


# The JOSE header PyJWT writes for HS256, encoded once.
_HEADER = _b64(b'{"alg":"HS256","typ":"JWT"}')


def _hs256(claims: Mapping[str, Any], secret: str) -> str:
    """The compact HS256 JWS of `claims`, as `jwt.encode` writes it: PyJWT's general encoder
    (algorithm lookup, header merging, key checks) costs several times this on every login.
    Tokens are read with PyJWT (`_verified_claims`)."""
    signing_input = _HEADER + b"." + _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + _b64(signature)).decode()


@functools.lru_cache(maxsize=4096)
def _verified_claims(token: str, keys: tuple[str, ...]) -> Mapping[str, Any] | None:
    """The claims of a token signed with one of `keys`, none if signed with none of them.

    Cached: a client sends the same token with every request until it expires, and checking its
    signature and claims again costs more than the rest of a simple authenticated read. Only
    what depends on the token and the keys alone is cached; expiry and purpose are checked by
    the caller on every use. A malformed token raises (and is not cached)."""
    for key in keys:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[_ALGORITHM],
                issuer=ISSUER,
                # Expiry is checked by the caller against our clock, which the sandbox can move.
                options={
                    "require": ["exp", "iat", "sub", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise InvalidToken("the access token is invalid") from exc
        return MappingProxyType(claims)
    return None


def read_access_token(
    token: str, *, secret: str, previous_secrets: Sequence[str] = (), purpose: str = "access"
) -> int:
    """The user id in a valid, unexpired access token; `InvalidToken` with a reason otherwise.

    Tokens are issued with `secret`; those signed with one of `previous_secrets` are still
    accepted until they expire, so the secret can be rotated without logging everyone out."""
    claims = _verified_claims(token, (secret, *previous_secrets))
    if claims is None:
        raise InvalidToken("the access token is invalid")
    if claims.get("typ") != purpose:
        raise InvalidToken("the access token is invalid")
    if not isinstance(claims["exp"], int) or claims["exp"] <= utcnow().timestamp():
        raise InvalidToken("the access token has expired; log in again")
    try:
        return int(claims["sub"])
    except (TypeError, ValueError) as exc:
        raise InvalidToken("the access token is invalid") from exc
