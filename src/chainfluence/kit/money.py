"""Money: integer nanotons everywhere inside; exact decimal TON amounts only at the edges.

1 TON = 10^9 nanotons. Floats never carry money: inputs are parsed from their decimal text, and
outputs are rendered from integers.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

NANO_PER_TON = 10**9
# Far above any real price, far below BIGINT's limit: anything larger is a typo or an attack.
MAX_TON = 10**9
MAX_NANO = MAX_TON * NANO_PER_TON


class MoneyError(ValueError):
    pass


def ton_to_nano(value: Decimal | str | int) -> int:
    """Exact conversion of a TON amount to nanotons; more than 9 decimals is an error."""
    if isinstance(value, bool):
        raise MoneyError("an amount must be a number")
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError("an amount must be a decimal number of TON") from exc
    if not amount.is_finite():
        raise MoneyError("an amount must be a finite number")
    nano = amount * NANO_PER_TON
    if nano != nano.to_integral_value():
        raise MoneyError("TON amounts have at most 9 decimal places")
    if amount < 0:
        raise MoneyError("an amount cannot be negative")
    if amount > MAX_TON:
        raise MoneyError(f"an amount cannot exceed {MAX_TON} TON")
    return int(nano)


def nano_to_ton(nano: int) -> Decimal:
    """Exact TON value of a nanoton amount, without trailing zeros (`1500000000` → `1.5`)."""
    value = Decimal(nano).scaleb(-9)
    normalized = value.normalize()
    # normalize() turns 10 into 1E+1; quantize back to a plain integer exponent.
    if normalized.as_tuple().exponent > 0:  # type: ignore[operator]
        return normalized.quantize(Decimal(1))
    return normalized


def format_ton(nano: int) -> str:
    """The TON amount as decimal text without trailing zeros (`1500000000` → `"1.5"`): the text
    of `nano_to_ton`, by integer arithmetic (lists render two of these per item)."""
    whole, fraction = divmod(abs(nano), NANO_PER_TON)
    sign = "-" if nano < 0 else ""
    if not fraction:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:09d}".rstrip("0")


def ton_number(nano: int) -> float:
    """The TON value as a float, for outputs that are JSON numbers.

    Dividing two ints is correctly rounded in Python, so this is the float nearest the exact
    value, the same as `float(nano_to_ton(nano))`, without building a Decimal (the catalogue
    renders six of these per channel).
    """
    return nano / NANO_PER_TON


def _float_text(value: float) -> Decimal:
    """The decimal text a client sent as a JSON number, recovered exactly or refused.

    JSON numbers reach us as binary floats. A decimal of up to 15 significant digits survives the
    round trip, so the float's shortest repr is exactly what was sent; beyond that the value may
    already have been rounded, and money must not be silently changed.
    """
    exact = Decimal(repr(value))
    if not exact.is_finite():
        raise MoneyError("an amount must be a finite number")
    if len(exact.normalize().as_tuple().digits) > 15:
        raise MoneyError("amounts with more than 15 significant digits must be sent as strings")
    return exact


# What a person writes for a TON amount: ASCII digits, optionally a dot and 1-9 decimals.
# Python's Decimal would also take "1_0", "1e3", " 10 ", other scripts' digits and "NaN".
_TON_TEXT = re.compile(r"[0-9]{1,40}(?:\.[0-9]{1,9})?")


def _parse_ton(value: Any) -> int:
    if isinstance(value, bool):
        raise MoneyError("an amount must be a decimal number of TON")
    if isinstance(value, float):
        value = _float_text(value)
    elif isinstance(value, str):
        if value.startswith("-") and _TON_TEXT.fullmatch(value[1:]):
            raise MoneyError("an amount cannot be negative")
        if not _TON_TEXT.fullmatch(value):
            raise MoneyError(
                'an amount is written like "12.5": digits 0-9, optionally a dot and up to 9 '
                "decimals"
            )
    if not isinstance(value, str | int | Decimal):
        raise MoneyError("an amount must be a decimal number of TON")
    return ton_to_nano(value)


# Input: a TON amount sent as a string or a JSON number (up to 9 decimals), held as nanotons.
TonAmount = Annotated[
    int,
    BeforeValidator(_parse_ton),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,9})?$"},
                {"type": "number", "minimum": 0, "maximum": MAX_TON},
            ],
            "examples": ["12.5"],
        }
    ),
]
# A price or amount someone pays: more than zero.
PositiveTon = Annotated[TonAmount, Field(gt=0)]
# Output: nanotons rendered as a TON decimal string ("12.5").
TonString = Annotated[
    int,
    PlainSerializer(format_ton, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,9})?$", "examples": ["12.5"]}),
]
# Output: nanotons rendered as a TON JSON number (12.5), where the Mini App reads a number.
TonNumber = Annotated[
    int,
    PlainSerializer(ton_number, return_type=float),
    WithJsonSchema({"type": "number", "examples": [12.5]}),
]
# Output: nanotons as a decimal string of an integer, so JavaScript never rounds it.
NanoString = Annotated[
    int,
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+$", "examples": ["12500000000"]}),
]
