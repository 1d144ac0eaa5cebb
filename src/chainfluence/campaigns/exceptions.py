"""Campaign errors."""

from __future__ import annotations

from chainfluence.kit.errors import Conflict, Forbidden, NotFound, Unprocessable


class CampaignNotFound(NotFound):
    code = "campaign_not_found"

    def __init__(self) -> None:
        super().__init__("No such campaign.")


class NotCampaignOwner(Forbidden):
    code = "not_campaign_owner"

    def __init__(self, action: str = "change this campaign") -> None:
        super().__init__(f"Only the advertiser who created the campaign can {action}.")


class CampaignStatusChangeRefused(Conflict):
    code = "campaign_status_change_refused"


class CampaignHasOpenDeals(Conflict):
    code = "campaign_has_open_deals"

    def __init__(self, count: int) -> None:
        deals = "deal is" if count == 1 else "deals are"
        super().__init__(
            f"The campaign cannot be deleted while {count} {deals} still open; "
            "finish or cancel them first."
        )


class InvalidCampaign(Unprocessable):
    code = "invalid_campaign"


class UnknownCreativeImage(Unprocessable):
    code = "unknown_creative_image"

    def __init__(self, file_id: str) -> None:
        super().__init__(
            f"Creative image {file_id!r} is not one of your uploads; upload it first "
            "with POST /v1/uploads."
        )
