"""Text rules for everything people send us, identical on SQLite and PostgreSQL.

PostgreSQL cannot store NUL in text (SQLite stores it, and `LIKE` then matches oddly), and neither
stores a lone UTF-16 surrogate; control characters other than newline and tab only hide or mangle
what other people read. Text made only of invisible characters (zero-width spaces, fillers)
looks empty to the person reading it, so it counts as empty.
"""

from __future__ import annotations

import re

# C0 controls except tab (\x09) and newline (\x0a), DEL and C1 controls, lone surrogates.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# Whitespace, zero-width and direction marks, word joiners, BOM, soft hyphen, Hangul fillers.
_INVISIBLE = re.compile(
    r"[\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]+"
)


class TextError(ValueError):
    pass


def check_text(value: str) -> str:
    """`value` if people may store and read it; `TextError` (a 422 in a request) otherwise."""
    bad = _FORBIDDEN.search(value)
    if bad is not None:
        char = bad.group()
        if char == "\x00":
            raise TextError("text must not contain NUL characters")
        if "\ud800" <= char <= "\udfff":
            raise TextError("text must be valid Unicode (it has a lone surrogate)")
        raise TextError(
            f"text must not contain control characters (U+{ord(char):04X}); "
            "only newlines and tabs are allowed"
        )
    if value and _INVISIBLE.fullmatch(value):
        raise TextError("text must contain visible characters")
    return value


def clean_text(value: str) -> str:
    """`value` without the characters `check_text` refuses: for text Telegram hands us (names,
    titles), which we store rather than refuse."""
    return _FORBIDDEN.sub("", value)
