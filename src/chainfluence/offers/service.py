"""Offer service: applying to a campaign, booking a channel, and deciding on an offer.

An offer is one version of proposed terms. Its author's side waits; the other side (the
counterpart) accepts, declines or counters it, and the author may withdraw it. Only a pending,
unexpired offer changes, and every decision locks its row first, so two decisions on the same
offer cannot both succeed: the second sees the first's outcome and gets a 409.

Checks run in a fixed order, so the answer never depends on timing: can the caller see it (404),
may they do this (403), is it still possible (409), are the new terms valid (422).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.campaigns import repository as campaigns
from chainfluence.campaigns.exceptions import CampaignNotFound
from chainfluence.channels import repository as channels
from chainfluence.channels.exceptions import ChannelNotFound, NotChannelManager
from chainfluence.config import Settings
from chainfluence.deals import service as deal_service
from chainfluence.formats import AdFormat
from chainfluence.kit.money import format_ton
from chainfluence.kit.time import UTC, utcnow
from chainfluence.models import (
    Campaign,
    CampaignStatus,
    Channel,
    Deal,
    NotificationType,
    Offer,
    OfferDirection,
    OfferStatus,
    RelatedType,
    User,
)
from chainfluence.notifications.service import notify
from chainfluence.offers import repository, schemas, transitions
from chainfluence.offers.channel_access import is_channel_manager
from chainfluence.offers.exceptions import (
    CampaignBudgetExceeded,
    CampaignNotTakingOffers,
    ChannelNotTakingOffers,
    FormatNotOffered,
    InvalidOffer,
    NotCampaignOwner,
    OfferAlreadyOpen,
    OfferExpired,
    OfferNotFound,
    OwnCampaign,
    OwnChannel,
)
from chainfluence.offers.schemas import ProposedTime
from chainfluence.offers.transitions import OfferAction, OfferRole, OfferRule

# Further ahead than this is a typo, not a plan.
MAX_LEAD_TIME = dt.timedelta(days=366)


_SYSTEM = (OfferRole.system,)


class Side(StrEnum):
    advertiser = "advertiser"
    publisher = "publisher"


# --- time rules ---------------------------------------------------------------------------


def campaign_closes_at(campaign: Campaign) -> dt.datetime | None:
    """The deadline is the campaign's last day (UTC): it takes offers until that day ends."""
    return closes_at(campaign.deadline)


def closes_at(deadline: dt.date | None) -> dt.datetime | None:
    """When a campaign whose last day is `deadline` stops taking offers (see above)."""
    if deadline is None:
        return None
    return dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(), UTC)


def expires_at(offer: Offer, campaign: Campaign | None) -> dt.datetime | None:
    """When a pending offer lapses: its own date, or its campaign's deadline, whichever is first."""
    moments = [offer.expires_at, campaign_closes_at(campaign) if campaign else None]
    known = [moment for moment in moments if moment is not None]
    return min(known) if known else None


def is_expired(offer: Offer, campaign: Campaign | None, now: dt.datetime) -> bool:
    lapse = expires_at(offer, campaign)
    return lapse is not None and lapse <= now


def _check_proposed(
    proposed: ProposedTime, now: dt.datetime, campaign: Campaign | None
) -> ProposedTime:
    if proposed.open_until <= now:
        raise InvalidOffer("The proposed date is in the past.")
    if proposed.at > now + MAX_LEAD_TIME:
        raise InvalidOffer("The proposed date is more than a year ahead.")
    if campaign is not None and campaign.deadline and proposed.at.date() > campaign.deadline:
        raise InvalidOffer(
            f"The proposed date is after the campaign's last day ({campaign.deadline.isoformat()})."
        )
    return proposed


def _require_campaign_open(campaign: Campaign, now: dt.datetime) -> None:
    if campaign.deleted_at is not None:
        raise CampaignNotTakingOffers("This campaign was deleted; it takes no offers.")
    if campaign.status is not CampaignStatus.active:
        raise CampaignNotTakingOffers(
            f"This campaign is {campaign.status.value}; it takes no offers right now."
        )
    closes = campaign_closes_at(campaign)
    if closes is not None and closes <= now:
        raise CampaignNotTakingOffers("This campaign's deadline has passed; it takes no offers.")


def _require_channel_active(channel: Channel) -> None:
    if channel.deleted_at is not None or not channel.is_active:
        raise ChannelNotTakingOffers()


# --- creating offers ----------------------------------------------------------------------


async def apply(
    session: AsyncSession, *, user: User, campaign_id: int, body: schemas.ApplicationCreate
) -> Offer:
    """A publisher applies to a campaign for a channel they manage."""
    campaign = await campaigns.get(session, campaign_id)
    if campaign is None:
        raise CampaignNotFound()
    channel = await channels.get(session, body.channel_id)
    if channel is None:
        raise ChannelNotFound()
    if not await is_channel_manager(session, user.id, channel):
        raise NotChannelManager("make offers for this channel")
    if user.id == campaign.advertiser_id or await is_channel_manager(
        session, campaign.advertiser_id, channel
    ):
        raise OwnCampaign()
    now = utcnow()
    _require_campaign_open(campaign, now)
    _require_channel_active(channel)
    prices = await repository.enabled_prices(session, channel.id)
    fmt = body.format or _default_format(campaign, prices)
    if fmt not in prices:
        raise FormatNotOffered(fmt.value)
    if campaign.preferred_formats and fmt.value not in campaign.preferred_formats:
        wanted = ", ".join(campaign.preferred_formats)
        raise InvalidOffer(f"This campaign takes only these formats: {wanted}.")
    amount = body.amount if body.amount is not None else prices[fmt]
    if amount <= 0:
        raise InvalidOffer("Name an amount: this channel lists the format for free.")
    proposed = _check_proposed(body.proposed_date, now, campaign) if body.proposed_date else None
    await _refuse_second_open_offer(session, campaign, channel.id, now)
    offer = Offer(
        campaign_id=campaign.id,
        channel_id=channel.id,
        publisher_id=channel.owner_id,
        advertiser_id=campaign.advertiser_id,
        author_id=user.id,
        direction=OfferDirection.application,
        status=OfferStatus.pending,
        amount_nano=amount,
        format=fmt,
        proposed_at=proposed.at if proposed else None,
        expires_at=proposed.open_until if proposed else None,
        message=body.message,
        version=1,
    )
    await _insert(session, offer)
    user.is_publisher = True  # the role follows the act (see campaigns.service.create)
    await notify(
        session,
        user_id=campaign.advertiser_id,
        type=NotificationType.campaign_offer,
        title=f"New offer for “{campaign.title}”",
        body=f"{_channel_name(channel)} offers a {fmt.value} post for {_ton(amount)}.",
        related=(RelatedType.offer, offer.id),
    )
    return offer


async def book(
    session: AsyncSession, *, user: User, channel_id: int, body: schemas.BookingCreate
) -> Offer:
    """An advertiser books a channel's format directly, optionally under one of their campaigns."""
    channel = await channels.get(session, channel_id)
    if channel is None:
        raise ChannelNotFound()
    if await is_channel_manager(session, user.id, channel):
        raise OwnChannel()
    campaign: Campaign | None = None
    if body.campaign_id is not None:
        campaign = await campaigns.get(session, body.campaign_id)
        if campaign is None:
            raise CampaignNotFound()
        if campaign.advertiser_id != user.id:
            raise NotCampaignOwner()
    now = utcnow()
    if campaign is not None:
        _require_campaign_open(campaign, now)
    _require_channel_active(channel)
    prices = await repository.enabled_prices(session, channel.id)
    if body.format not in prices:
        raise FormatNotOffered(body.format.value)
    proposed = _check_proposed(body.proposed_date, now, campaign)
    if campaign is not None:
        await _refuse_second_open_offer(session, campaign, channel.id, now)
    offer = Offer(
        campaign_id=campaign.id if campaign else None,
        channel_id=channel.id,
        publisher_id=channel.owner_id,
        advertiser_id=user.id,
        author_id=user.id,
        direction=OfferDirection.booking,
        status=OfferStatus.pending,
        amount_nano=body.amount,
        format=body.format,
        proposed_at=proposed.at,
        expires_at=proposed.open_until,
        message=body.message,
        version=1,
    )
    await _insert(session, offer)
    user.is_advertiser = True  # the role follows the act (see campaigns.service.create)
    await notify(
        session,
        user_id=channel.owner_id,
        type=NotificationType.booking_request,
        title=f"Booking request for {_channel_name(channel)}",
        body=(
            f"A {body.format.value} post for {_ton(body.amount)} on "
            f"{_when(proposed)}{_under(campaign)}."
        ),
        related=(RelatedType.offer, offer.id),
    )
    return offer


def _default_format(campaign: Campaign, prices: dict[AdFormat, int]) -> AdFormat:
    for wanted in campaign.preferred_formats:
        if AdFormat(wanted) in prices:
            return AdFormat(wanted)
    if not campaign.preferred_formats and prices:
        return min(prices, key=lambda fmt: (prices[fmt], fmt.value))
    raise InvalidOffer(
        "Choose a format: this channel sells none of the formats the campaign wants."
    )


async def _refuse_second_open_offer(
    session: AsyncSession, campaign: Campaign, channel_id: int, now: dt.datetime
) -> None:
    existing = await repository.pending_on_campaign(session, campaign.id, channel_id)
    if existing is None:
        return
    if is_expired(existing, campaign, now):
        # Lapsed but not swept yet: close it now so the new offer can take its place.
        transitions.move(existing, OfferAction.expire, _SYSTEM, now)
        await session.flush()
        return
    raise OfferAlreadyOpen(existing.id)


async def _insert(session: AsyncSession, offer: Offer) -> None:
    session.add(offer)
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_offers_pending_campaign_channel" not in str(exc.orig):
            raise
        # A concurrent request opened the same negotiation first.
        raise OfferAlreadyOpen(None) from None


# --- deciding -----------------------------------------------------------------------------


async def _load(
    session: AsyncSession, user: User, offer_id: int, *, lock_campaign: bool = False
) -> tuple[Offer, Campaign | None, Channel, set[Side]]:
    """The offer locked (after its campaign, when asked: the order every writer follows), and
    the sides the caller is on; 404 for someone on neither side."""
    unlocked = await repository.get(session, offer_id)
    if unlocked is None:
        raise OfferNotFound()
    campaign: Campaign | None = None
    if unlocked.campaign_id is not None:
        if lock_campaign:
            campaign = await campaigns.get_for_update(
                session, unlocked.campaign_id, include_deleted=True
            )
        else:
            campaign = await session.get(Campaign, unlocked.campaign_id)
    offer = await repository.get_for_update(session, offer_id)
    channel = await session.get(Channel, unlocked.channel_id)
    if offer is None or channel is None:
        raise OfferNotFound()
    sides = await sides_of(session, user.id, offer, channel)
    if not sides:
        raise OfferNotFound()
    return offer, campaign, channel, sides


async def sides_of(
    session: AsyncSession, user_id: int, offer: Offer, channel: Channel
) -> set[Side]:
    """The sides of the negotiation the user is on: the advertiser, or the channel's people
    (its owner, its managers, and whoever wrote a version for it)."""
    if user_id == offer.advertiser_id:
        # Creating an offer refuses an advertiser who also manages the channel.
        return {Side.advertiser}
    if user_id in (offer.publisher_id, offer.author_id) or await is_channel_manager(
        session, user_id, channel
    ):
        return {Side.publisher}
    return set()


def author_side(offer: Offer) -> Side:
    return Side.advertiser if offer.author_id == offer.advertiser_id else Side.publisher


def _roles(user: User, offer: Offer, sides: set[Side]) -> set[OfferRole]:
    counterpart = Side.publisher if author_side(offer) is Side.advertiser else Side.advertiser
    roles = {OfferRole.counterpart} if counterpart in sides else set()
    if user.id == offer.author_id:
        roles.add(OfferRole.author)
    return roles


def _decide(
    offer: Offer,
    campaign: Campaign | None,
    action: OfferAction,
    user: User,
    sides: set[Side],
    now: dt.datetime,
) -> OfferRule:
    """The move a party may make now (403, then 409 for an offer not pending or expired)."""
    rule = transitions.check(offer, action, _roles(user, offer, sides))
    if is_expired(offer, campaign, now):
        raise OfferExpired()
    return rule


async def accept(
    session: AsyncSession, *, user: User, offer_id: int, settings: Settings
) -> tuple[Offer, Deal]:
    """The counterpart agrees: the offer is accepted and its deal made, in one transaction."""
    offer, campaign, channel, sides = await _load(session, user, offer_id, lock_campaign=True)
    now = utcnow()
    rule = _decide(offer, campaign, OfferAction.accept, user, sides, now)
    if campaign is not None:
        _require_campaign_open(campaign, now)
        await _require_budget_left(session, campaign, offer.amount_nano)
    _require_channel_active(channel)
    transitions.apply(offer, rule, now)
    deal = await deal_service.create_from_offer(
        session,
        offer,
        campaign=campaign,
        actor_id=user.id,
        fee_bps=settings.ton.fee_bps,
        settings=settings.deals,
    )
    await notify(
        session,
        user_id=offer.author_id,
        type=NotificationType.offer_accepted,
        title="Your offer was accepted",
        body=(
            f"{offer.format.value} in {_channel_name(channel)} for {_ton(offer.amount_nano)}"
            f"{_under(campaign)}. Deal #{deal.id} is waiting for the advertiser's deposit."
        ),
        related=(RelatedType.deal, deal.id),
    )
    return offer, deal


async def _require_budget_left(session: AsyncSession, campaign: Campaign, amount: int) -> None:
    if campaign.total_budget_nano is None:
        return
    # The campaign row is locked, so concurrent accepts on it are counted one after another.
    committed = await campaigns.committed_nano(session, campaign.id)
    if committed + amount > campaign.total_budget_nano:
        left = max(0, campaign.total_budget_nano - committed)
        raise CampaignBudgetExceeded(
            f"Accepting would exceed the campaign's total budget: {_ton(left)} is left."
        )


async def reject(session: AsyncSession, *, user: User, offer_id: int) -> Offer:
    offer, campaign, channel, sides = await _load(session, user, offer_id)
    now = utcnow()
    transitions.apply(offer, _decide(offer, campaign, OfferAction.decline, user, sides, now), now)
    await session.flush()
    await notify(
        session,
        user_id=offer.author_id,
        type=NotificationType.offer_declined,
        title="Your offer was declined",
        body=f"{offer.format.value} in {_channel_name(channel)}{_under(campaign)}.",
        related=(RelatedType.offer, offer.id),
    )
    return offer


async def withdraw(session: AsyncSession, *, user: User, offer_id: int) -> Offer:
    offer, campaign, channel, sides = await _load(session, user, offer_id)
    now = utcnow()
    transitions.apply(offer, _decide(offer, campaign, OfferAction.withdraw, user, sides, now), now)
    await session.flush()
    await notify(
        session,
        user_id=_counterpart_user(offer),
        type=NotificationType.offer_withdrawn,
        title="An offer was withdrawn",
        body=f"{offer.format.value} in {_channel_name(channel)}{_under(campaign)}.",
        related=(RelatedType.offer, offer.id),
    )
    return offer


async def counter(
    session: AsyncSession, *, user: User, offer_id: int, body: schemas.CounterCreate
) -> Offer:
    """New terms from the counterpart: a new pending version; the old one becomes `countered`."""
    offer, campaign, channel, sides = await _load(session, user, offer_id)
    now = utcnow()
    rule = _decide(offer, campaign, OfferAction.counter, user, sides, now)
    if campaign is not None:
        _require_campaign_open(campaign, now)
    _require_channel_active(channel)
    fmt = body.format or offer.format
    amount = body.amount if body.amount is not None else offer.amount_nano
    proposed = _check_proposed(body.proposed_date, now, campaign) if body.proposed_date else None
    proposed_at = proposed.at if proposed else offer.proposed_at
    if (fmt, amount, proposed_at) == (offer.format, offer.amount_nano, offer.proposed_at):
        raise InvalidOffer("A counter-offer must change the amount, the format or the date.")
    if fmt not in await repository.enabled_prices(session, channel.id):
        raise FormatNotOffered(fmt.value)
    transitions.apply(offer, rule, now)
    # Flushed first: the new version must not meet the old one as a second pending offer.
    await session.flush()
    new = Offer(
        campaign_id=offer.campaign_id,
        channel_id=offer.channel_id,
        publisher_id=offer.publisher_id,
        advertiser_id=offer.advertiser_id,
        author_id=user.id,
        direction=offer.direction,
        status=OfferStatus.pending,
        amount_nano=amount,
        format=fmt,
        proposed_at=proposed_at,
        expires_at=proposed.open_until if proposed else offer.expires_at,
        message=body.message,
        previous_offer_id=offer.id,
        version=offer.version + 1,
    )
    await _insert(session, new)
    await notify(
        session,
        user_id=offer.author_id,
        type=NotificationType.offer_countered,
        title="Your offer was countered",
        body=(
            f"New terms: {fmt.value} in {_channel_name(channel)} for {_ton(amount)}"
            f"{_under(campaign)}."
        ),
        related=(RelatedType.offer, new.id),
    )
    return new


def _counterpart_user(offer: Offer) -> int:
    return offer.advertiser_id if author_side(offer) is Side.publisher else offer.publisher_id


# --- bulk transitions ---------------------------------------------------------------------


async def close_for_campaign(session: AsyncSession, campaign: Campaign, *, reason: str) -> int:
    """End a finished or deleted campaign's pending offers (the caller holds the campaign lock).

    The advertiser's own offers count as withdrawn, publishers' applications as declined.
    """
    now = utcnow()
    closed = await repository.pending_of_campaign_for_update(session, campaign.id)
    for offer in closed:
        if author_side(offer) is Side.advertiser:
            transitions.move(offer, OfferAction.withdraw, _SYSTEM, now)
            recipient, kind = offer.publisher_id, NotificationType.offer_withdrawn
            title = "A booking request was withdrawn"
        else:
            transitions.move(offer, OfferAction.decline, _SYSTEM, now)
            recipient, kind = offer.author_id, NotificationType.offer_declined
            title = "Your offer was declined"
        await notify(
            session,
            user_id=recipient,
            type=kind,
            title=title,
            body=f"The campaign “{campaign.title}” {reason}.",
            related=(RelatedType.offer, offer.id),
        )
    await session.flush()
    return len(closed)


async def expire_due(session: AsyncSession, *, limit: int = 500) -> int:
    """Mark pending offers past their date or their campaign's deadline `expired`."""
    now = utcnow()
    due = await repository.due_to_expire(
        session,
        now=now,
        today=now.date(),
        limit=limit,
        skip_locked=session.get_bind().dialect.name == "postgresql",
    )
    for offer in due:
        transitions.move(offer, OfferAction.expire, _SYSTEM, now)
    await session.flush()
    return len(due)


# --- wording ------------------------------------------------------------------------------


def _channel_name(channel: Channel) -> str:
    return f"@{channel.username}" if channel.username else channel.title


def _ton(nano: int) -> str:
    return f"{format_ton(nano)} TON"


def _when(proposed: ProposedTime) -> str:
    if proposed.whole_day:
        return proposed.at.date().isoformat()
    return proposed.at.strftime("%Y-%m-%d %H:%M UTC")


def _under(campaign: Campaign | None) -> str:
    return f" (campaign “{campaign.title}”)" if campaign else ""
