"""Base API schemas: camelCase on the wire, Telegram ids as strings, UTC timestamps.

Input rules live here, in one place: every integer a request carries fits the BIGINT column it
ends in (or a 422), every string obeys `kit.text` (no NUL, no control characters, not only
invisible characters), ids are ASCII digits, booleans are JSON booleans. Request bodies get them
through `RequestSchema`; query and path parameters through the types below.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StrictBool,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel

from chainfluence.kit.text import check_text
from chainfluence.kit.time import as_utc

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


class Schema(BaseModel):
    """Every request and response body: camelCase aliases, snake_case attributes."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        str_strip_whitespace=True,
    )


def _checked(value: Any) -> Any:
    """`value` once every string in it obeys `kit.text` and every integer fits a BIGINT."""
    if isinstance(value, str):
        return check_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError("a number is out of range")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _checked(key)
            _checked(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _checked(item)
    return value


class RequestSchema(Schema):
    """Request bodies reject unknown fields, so a typo never silently does nothing, and every
    field obeys the input rules above (nested request schemas check their own fields)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _input_rules(cls, value: Any) -> Any:
        return _checked(value)


_INTEGER = re.compile(r"-?[0-9]{1,19}")


def parse_int(value: Any) -> int:
    """An integer sent as a JSON number or as a string of ASCII digits, within int64.

    Python's `int()` would also take "1_0", " 12 ", "+12" and other scripts' digits ("١٢")."""
    if isinstance(value, str):
        if not _INTEGER.fullmatch(value):
            raise ValueError("must be a whole number written with the digits 0-9")
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("the number is out of range")
    return value


def _parse_id(value: Any) -> int:
    try:
        return parse_int(value)
    except ValueError as exc:
        if "range" in str(exc):
            raise ValueError("an id is out of range") from None
        raise ValueError("an id must be a number or a string of the digits 0-9") from None


_ID_PATTERN = r"^-?[0-9]{1,18}$"

# Telegram ids (users, channels): JSON strings out, numbers or strings in.
TgId = Annotated[
    int,
    BeforeValidator(_parse_id),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _ID_PATTERN, "examples": ["123456789"]}),
]
# Our own integer ids: JSON numbers out, numbers or strings in.
IntId = Annotated[
    int,
    BeforeValidator(_parse_id),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX},
                {"type": "string", "pattern": _ID_PATTERN},
            ]
        }
    ),
]
# A count or size given in a query or path (subscribers, a version): 0 to int64, ASCII digits.
Count = Annotated[int, Ge(0), Le(INT64_MAX), BeforeValidator(parse_int)]


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise ValueError("must be true or false")


# A boolean in a query string: exactly `true` or `false` (not 0/1, yes/no, on/off).
QueryBool = Annotated[bool, BeforeValidator(_parse_bool)]
# A boolean in a JSON body: a JSON true or false, never 0/1 or a string.
Bool = StrictBool
# Text in a query or path parameter, under the same rules as bodies' strings.
QueryText = Annotated[str, AfterValidator(check_text)]


def iso_utc(value: dt.datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


UtcDateTime = Annotated[
    dt.datetime,
    PlainSerializer(iso_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Message(Schema):
    message: str
