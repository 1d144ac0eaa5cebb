"""Access tokens: HS256 JWTs carrying the Telegram user id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
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
    return IssuedToken(jwt.encode(claims, secret, algorithm=_ALGORITHM), ttl_seconds)


def read_access_token(
    token: str, *, secret: str, previous_secrets: Sequence[str] = (), purpose: str = "access"
) -> int:
    """The user id in a valid, unexpired access token; `InvalidToken` with a reason otherwise.

    Tokens are issued with `secret`; those signed with one of `previous_secrets` are still
    accepted until they expire, so the secret can be rotated without logging everyone out."""
    claims: dict[str, Any] | None = None
    for key in (secret, *previous_secrets):
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[_ALGORITHM],
                issuer=ISSUER,
                # Expiry is checked below against our clock, which the sandbox can move forward.
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
        break
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
