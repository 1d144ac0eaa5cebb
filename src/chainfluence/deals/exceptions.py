"""Deal errors."""

from __future__ import annotations

from chainfluence.kit.errors import Forbidden, NotFound


class DealNotFound(NotFound):
    code = "deal_not_found"

    def __init__(self) -> None:
        # Also what a non-party sees: a deal's existence is private to its parties.
        super().__init__("No such deal.")


class NotADealParty(Forbidden):
    code = "not_a_party"

    def __init__(self) -> None:
        super().__init__("Only the advertiser and the publisher of this deal can do this.")
