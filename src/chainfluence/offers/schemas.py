"""Offer shapes on the wire (API.md `Offer`) and the inputs that create and counter them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, TypeAdapter, WithJsonSchema

from chainfluence.campaigns.schemas import CampaignSummary
from chainfluence.formats import AdFormat
from chainfluence.kit.money import NanoString, PositiveTon, TonString
from chainfluence.kit.schemas import IntId, RequestSchema, Schema, TgId, UtcDateTime
from chainfluence.kit.time import UTC
from chainfluence.models import OfferDirection, OfferStatus

MESSAGE_MAX = 2000
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = TypeAdapter(dt.datetime)


@dataclass(frozen=True, slots=True)
class ProposedTime:
    """When the post should go out: a moment, or a whole day (any time that day, UTC)."""

    at: dt.datetime
    whole_day: bool

    @property
    def open_until(self) -> dt.datetime:
        """The offer stays acceptable until the proposed moment, or until its day ends."""
        return self.at + dt.timedelta(days=1) if self.whole_day else self.at


def _parse_proposed(value: Any) -> ProposedTime:
    if isinstance(value, ProposedTime):
        return value
    if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
        day = dt.date.fromisoformat(value.strip())
        return ProposedTime(dt.datetime.combine(day, dt.time(), UTC), whole_day=True)
    moment = _DATETIME.validate_python(value)
    # Times on the wire are UTC; one sent without an offset is read as UTC.
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return ProposedTime(moment, whole_day=False)


ProposedDate = Annotated[
    ProposedTime,
    BeforeValidator(_parse_proposed),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "date"},
            ],
            "description": "ISO-8601 UTC time, or a date meaning any time that day",
        }
    ),
    PlainSerializer(lambda value: value.at.isoformat(), return_type=str),
]
OfferMessage = Annotated[str, Field(max_length=MESSAGE_MAX)]


class Offer(Schema):
    id: int
    campaign_id: int | None
    channel_id: TgId
    publisher_id: TgId
    advertiser_id: TgId
    author_id: TgId = Field(description="Who proposed this version; the other side decides")
    direction: OfferDirection
    status: OfferStatus
    amount: TonString
    amount_nano: NanoString
    format: AdFormat
    proposed_date: UtcDateTime | None
    message: str | None
    version: int
    previous_offer_id: int | None
    counter_offer_id: int | None = Field(description="The version that countered this one")
    expires_at: UtcDateTime | None
    decided_at: UtcDateTime | None
    deal_id: int | None
    campaign: CampaignSummary | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ApplicationCreate(RequestSchema):
    """A publisher applies to a campaign for a channel they manage."""

    channel_id: TgId
    # The Mini App may leave these out: the format defaults to the first one the campaign wants
    # that the channel sells, and the amount to the channel's price for it.
    amount: PositiveTon | None = None
    format: AdFormat | None = None
    proposed_date: ProposedDate | None = None
    message: OfferMessage | None = None


class BookingCreate(RequestSchema):
    """An advertiser books a channel's format directly, optionally under one of their campaigns."""

    format: AdFormat
    amount: PositiveTon
    proposed_date: ProposedDate
    campaign_id: IntId | None = None
    message: OfferMessage | None = None


class CounterCreate(RequestSchema):
    """A new version of the terms; what is left out is carried over."""

    amount: PositiveTon | None = None
    format: AdFormat | None = None
    proposed_date: ProposedDate | None = None
    message: OfferMessage | None = None
