"""Bot API errors with Telegram's real status codes and descriptions.

The wording follows the official Bot API server (tdlib/telegram-bot-api, Client.cpp) and what bots
observe in practice, so production error handling written against these strings keeps working.
"""

from __future__ import annotations

from typing import Any


class TelegramError(Exception):
    """An error answered as `{"ok": false, "error_code": ..., "description": ...}`."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(message: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {message}")


def forbidden(message: str) -> TelegramError:
    return TelegramError(403, f"Forbidden: {message}")


def unauthorized() -> TelegramError:
    return TelegramError(401, "Unauthorized")


def method_not_found() -> TelegramError:
    return TelegramError(404, "Not Found: method not found")


def too_many_requests(retry_after: int) -> TelegramError:
    return TelegramError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def conflict(message: str) -> TelegramError:
    return TelegramError(409, f"Conflict: {message}")


# The descriptions below are the ones callers most often match on; keep them verbatim.
def chat_not_found() -> TelegramError:
    return bad_request("chat not found")


def user_not_found() -> TelegramError:
    return bad_request("user not found")


def chat_id_empty() -> TelegramError:
    return bad_request("chat_id is empty")


def message_text_empty() -> TelegramError:
    return bad_request("message text is empty")


def message_not_found(purpose: str) -> TelegramError:
    """`purpose` is Telegram's own phrase: "message to delete", "message to edit", ..."""
    return bad_request(f"{purpose} not found")


def message_not_modified() -> TelegramError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )


def webhook_active() -> TelegramError:
    return conflict(
        "can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first"
    )


class EmulatorUsageError(Exception):
    """A control-API (test harness) mistake, e.g. an unknown user id; not a Bot API error."""

    status_code = 400


class EmulatorNotFoundError(EmulatorUsageError):
    status_code = 404
