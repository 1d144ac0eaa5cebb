"""Offer errors: who may not act (403), what cannot be seen (404), what is too late (409)."""

from __future__ import annotations

from chainfluence.kit.errors import Conflict, Forbidden, NotFound, Unprocessable


class OfferNotFound(NotFound):
    code = "offer_not_found"

    def __init__(self) -> None:
        # Also what someone outside the negotiation sees.
        super().__init__("No such offer.")


class NotOfferCounterpart(Forbidden):
    code = "not_offer_counterpart"

    def __init__(self) -> None:
        super().__init__(
            "Only the other party can accept, decline or counter this offer; "
            "you made it (or are not part of it)."
        )


class NotOfferAuthor(Forbidden):
    code = "not_offer_author"

    def __init__(self) -> None:
        super().__init__("Only the person who made this offer can withdraw it.")


class OwnCampaign(Forbidden):
    code = "own_campaign"

    def __init__(self) -> None:
        super().__init__("You cannot apply to your own campaign.")


class OwnChannel(Forbidden):
    code = "own_channel"

    def __init__(self) -> None:
        super().__init__("You cannot book a channel you own or manage.")


class NotCampaignOwner(Forbidden):
    code = "not_campaign_owner"

    def __init__(self) -> None:
        super().__init__("Only the campaign's advertiser can see its offers or book under it.")


class OfferNotPending(Conflict):
    code = "offer_not_pending"

    def __init__(self, status: str) -> None:
        super().__init__(f"This offer is already {status}; only a pending offer can change.")


class OfferExpired(Conflict):
    code = "offer_expired"

    def __init__(self) -> None:
        super().__init__("This offer has expired; make a new one.")


class OfferAlreadyOpen(Conflict):
    code = "offer_already_open"

    def __init__(self, offer_id: int | None) -> None:
        which = f" (#{offer_id})" if offer_id is not None else ""
        super().__init__(
            f"This channel already has a pending offer{which} on this campaign; "
            "counter or withdraw it instead."
        )


class CampaignNotTakingOffers(Conflict):
    code = "campaign_not_accepting_offers"


class ChannelNotTakingOffers(Conflict):
    code = "channel_not_accepting_offers"

    def __init__(self) -> None:
        super().__init__("This channel is not active, so it takes no offers right now.")


class CampaignBudgetExceeded(Conflict):
    code = "campaign_budget_exceeded"


class FormatNotOffered(Unprocessable):
    code = "format_not_offered"

    def __init__(self, fmt: str) -> None:
        super().__init__(f"This channel does not offer the {fmt} format.")


class InvalidOffer(Unprocessable):
    code = "invalid_offer"
