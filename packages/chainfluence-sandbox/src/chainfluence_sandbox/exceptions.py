"""Errors of the sandbox helper routes, rendered like every API error (`{"message", "code"}`)."""

from __future__ import annotations

from chainfluence.kit.errors import AppError, Conflict, NotFound, ServiceUnavailable


class EmulatorNotRunning(Conflict):
    code = "sandbox_emulator_not_running"

    def __init__(self, what: str, setting: str) -> None:
        super().__init__(
            f"The local {what} emulator is not running: {setting} is configured, so this sandbox "
            "talks to the real service and cannot act for its people."
        )


class NoSandboxWallet(NotFound):
    code = "sandbox_wallet_not_found"

    def __init__(self, user_id: int) -> None:
        super().__init__(
            f"User {user_id} has no sandbox wallet: create one with "
            f"POST /v1/sandbox/users/{user_id}/wallet."
        )


class WalletNotSandbox(Conflict):
    code = "sandbox_wallet_unknown"

    def __init__(self, address: str, user_id: int) -> None:
        super().__init__(
            f"This payment must come from {address}, the advertiser's proven wallet, and the "
            "sandbox does not hold its key: pay from that wallet's app, or link a sandbox wallet "
            f"(POST /v1/sandbox/users/{user_id}/wallet) before the deal's first payment request."
        )


class NotEnoughSandboxFunds(Conflict):
    code = "sandbox_wallet_insufficient_funds"

    def __init__(self, *, needed: str, balance: str, user_id: int) -> None:
        super().__init__(
            f"The sandbox wallet holds {balance} TON, not enough to send {needed} TON plus fees: "
            f"top it up with POST /v1/sandbox/users/{user_id}/wallet."
        )


class WalletAppRefused(Conflict):
    code = "sandbox_wallet_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(f"The sandbox wallet did not send the payment: {reason}.")


class TelegramRefused(Conflict):
    code = "sandbox_telegram_refused"


class DealNotPosted(Conflict):
    code = "deal_not_posted"

    def __init__(self) -> None:
        super().__init__("The deal's post has not been published yet.")


class ApiCallRefused(AppError):
    """A call the helper made to the public API on the user's behalf was refused: its status and
    code pass through, the message says which step it was."""

    def __init__(self, step: str, *, status_code: int, message: str, code: str) -> None:
        super().__init__(f"{step}: {message}", status_code=status_code, code=code)


class ApiNotAnswering(ServiceUnavailable):
    """`chainfluence sandbox up`: the API the helpers act through did not answer."""

    code = "sandbox_api_not_answering"

    def __init__(self, step: str, base_url: str, error: str) -> None:
        super().__init__(
            f"{step}: the API at {base_url} (sandbox up --api-url) did not answer ({error}); "
            "try again once it runs."
        )
