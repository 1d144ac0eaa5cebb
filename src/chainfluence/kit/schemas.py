"""Base API schemas: camelCase on the wire, Telegram ids as strings, UTC timestamps."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel

from chainfluence.kit.time import as_utc


class Schema(BaseModel):
    """Every request and response body: camelCase aliases, snake_case attributes."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        str_strip_whitespace=True,
    )


class RequestSchema(Schema):
    """Request bodies reject unknown fields, so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid")


_ID_LIMIT = 2**63 - 1


def _parse_id(value: Any) -> int:
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit() or len(text) > 20:
            raise ValueError("an id must be a number or a numeric string")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("an id must be a number or a numeric string")
    if abs(value) > _ID_LIMIT:
        raise ValueError("an id is out of range")
    return value


# Telegram ids (users, channels): JSON strings out, numbers or strings in.
TgId = Annotated[
    int,
    BeforeValidator(_parse_id),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+$", "examples": ["123456789"]}),
]
# Our own integer ids: JSON numbers out, numbers or strings in.
IntId = Annotated[int, BeforeValidator(_parse_id)]


def _iso_utc(value: dt.datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


UtcDateTime = Annotated[
    dt.datetime,
    PlainSerializer(_iso_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Message(Schema):
    message: str
