"""Logging: structlog rendering for the standard library's records (JSON in production).

A log line can never stall the event loop or leak a secret: tracebacks are plain text without
local variables in every mode (a console traceback with locals once took ~40 s and ~10 MB per
crash, with nothing answered meanwhile), every string is cut to a bounded size, and a processor
blanks the shapes our secrets take (JWTs, `Authorization` values, Mini App initData, bot
tokens, wallet mnemonics) wherever they appear, tracebacks included.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

# Longest string value kept in a log line; tracebacks keep their start and their end.
MAX_VALUE_CHARS = 4_000
MAX_EXCEPTION_CHARS = 16_000

_REDACTIONS: list[tuple[re.Pattern[str], str]] = [
    # Authorization header values: "Bearer <jwt>", "tma <initData>".
    (re.compile(r"(?i)\b(bearer|tma)(\s+|%20|\+)[^\s'\",;]+"), r"\1 [redacted]"),
    # JWTs anywhere (three base64url parts, a JSON header).
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    # Bot API tokens ("123456:ABC..."), also inside api.telegram.org/bot<token>/ URLs.
    (re.compile(r"(?<![0-9])[0-9]{5,16}:[A-Za-z0-9_-]{30,}"), "[redacted-bot-token]"),
    # Mini App initData fields, raw or URL-encoded.
    (
        re.compile(
            r"\b(hash|signature|user|receiver|chat|query_id|auth_date|chat_instance|start_param)"
            r"(=|%3D)[^&\s'\"]+",
            re.IGNORECASE,
        ),
        r"\1=[redacted]",
    ),
    # TON wallet mnemonics: 24 lowercase words (a run of 24 or more is blanked whole).
    (re.compile(r"\b(?:[a-z]{3,8}[ ,]+){23,}[a-z]{3,8}\b"), "[redacted-mnemonic]"),
]


def redact_text(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """`text` with secret shapes blanked, at most about `limit` characters (start and end kept)."""
    if len(text) > 4 * limit:
        # Cut first (with room for a secret across the cut) so redaction stays cheap.
        text = text[: 2 * limit] + text[-2 * limit :]
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    if len(text) > limit:
        head = limit // 4
        cut = len(text) - limit
        text = f"{text[:head]}\n… [{cut} characters cut] …\n{text[-(limit - head) :]}"
    return text


def _redact_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if depth < 3 and isinstance(value, Mapping):
        return {k: _redact_value(v, depth + 1) for k, v in list(value.items())[:50]}
    if depth < 3 and isinstance(value, list | tuple):
        return [_redact_value(v, depth + 1) for v in value[:50]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(repr(value)) if depth else redact_text(str(value))


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: bounded, secret-free values (runs after tracebacks are text)."""
    for key, value in list(event_dict.items()):
        if key == "exception" and isinstance(value, str):
            event_dict[key] = redact_text(value, MAX_EXCEPTION_CHARS)
        elif key not in ("_record", "_from_structlog"):
            event_dict[key] = _redact_value(value)
    return event_dict


def configure_logging(*, json: bool, level: str = "INFO") -> None:
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.StackInfoRenderer(),
            # Plain tracebacks, never locals: formatted here in both modes so they are redacted.
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log would duplicate ours, with query strings; HTTP clients log full
    # URLs at INFO, which may carry keys; aiosqlite's debug lines carry statement parameters.
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("httpx", "httpcore", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
