"""Deal loaders for routes: 404 before the handler runs unless the caller may see the deal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from chainfluence.auth.dependencies import CurrentUser
from chainfluence.channels import repository as channels
from chainfluence.deals import repository
from chainfluence.deals.exceptions import DealNotFound
from chainfluence.dependencies import DBSession, SettingsDep
from chainfluence.kit.schemas import IntId
from chainfluence.models import Deal


def is_party(deal: Deal, user_id: int) -> bool:
    return user_id in (deal.advertiser_id, deal.publisher_id)


async def get_party_deal(
    deal_id: IntId, user: CurrentUser, session: DBSession, settings: SettingsDep
) -> Deal:
    """The deal, for its advertiser, its publisher (the channel's owner or one of its managers)
    or an operator; 404 for anyone else."""
    deal = await repository.get(session, deal_id)
    if deal is None:
        raise DealNotFound()
    if is_party(deal, user.id) or settings.is_operator(user.id):
        return deal
    if await channels.is_acting_admin(session, deal.channel_id, user.id):
        return deal
    raise DealNotFound()


PartyDeal = Annotated[Deal, Depends(get_party_deal)]
