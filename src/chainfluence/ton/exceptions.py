"""Errors of the chain side (payout orders)."""

from __future__ import annotations

from chainfluence.kit.errors import Conflict, Unprocessable


class EscrowNotCreated(Unprocessable):
    code = "escrow_not_created"

    def __init__(self) -> None:
        super().__init__("This deal has no escrow yet: nothing can be paid out of it.")


class PayoutAlreadyOrdered(Conflict):
    code = "payout_already_ordered"

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"A {kind} of this escrow is already on its way; an escrow pays out only once."
        )


class SplitShareMismatch(Conflict):
    code = "split_share_mismatch"

    def __init__(self) -> None:
        super().__init__("This escrow was already ordered to split with a different share.")
