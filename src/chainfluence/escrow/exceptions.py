"""Escrow and payment-request errors."""

from __future__ import annotations

from chainfluence.kit.errors import Conflict, Forbidden, ServiceUnavailable
from chainfluence.models import DealStatus


class AdvertiserOnly(Forbidden):
    code = "advertiser_only"

    def __init__(self) -> None:
        super().__init__("Only the deal's advertiser pays into its escrow.")


class DealNotPayable(Conflict):
    code = "deal_not_pending"

    def __init__(self, status: DealStatus) -> None:
        if status is DealStatus.cancelled:
            message = "This deal was cancelled; it takes no payment."
        else:
            message = f"This deal is {status.value.replace('_', ' ')}: only a pending deal is paid."
        super().__init__(message)


class DepositDeadlinePassed(Conflict):
    code = "deposit_deadline_passed"

    def __init__(self) -> None:
        super().__init__("The deadline to pay for this deal has passed.")


class WalletsMissing(Conflict):
    """A party has no proven wallet, so the escrow's refund or payout address is unknown."""

    code = "wallet_not_linked"

    def __init__(self, *, advertiser: bool, publisher: bool) -> None:
        parts = []
        if advertiser:
            parts.append(
                "you must link your TON wallet first (refunds go only to a wallet you proved)"
            )
        if publisher:
            parts.append(
                "the channel owner must link a TON wallet first (the payout goes only to their "
                "proven wallet)"
            )
        message = " and ".join(parts)
        super().__init__(f"Payment is not possible yet: {message}.")
        self.advertiser = advertiser
        self.publisher = publisher


class PlatformWalletNotConfigured(ServiceUnavailable):
    code = "platform_wallet_not_configured"

    def __init__(self) -> None:
        super().__init__(
            "Payments are unavailable: the platform wallet is not configured "
            "(CHAINFLUENCE_TON__WALLET_MNEMONIC)."
        )
