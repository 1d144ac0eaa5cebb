"""Campaign shapes on the wire (API.md `Campaign`), their inputs, and channel matches."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from chainfluence.categories import Category, CategoryIn
from chainfluence.channels.schemas import Channel
from chainfluence.formats import AdFormat
from chainfluence.kit.money import NanoString, TonAmount, TonString
from chainfluence.kit.schemas import RequestSchema, Schema, TgId, UtcDateTime
from chainfluence.models import CampaignStatus

TITLE_MIN = 3
TITLE_MAX = 120
TEXT_MAX = 5000
# Telegram's limit for a message's text; a post with images is further limited by the bot.
CREATIVE_TEXT_MAX = 4096
# Telegram sends at most ten media in one album.
CREATIVE_IMAGES_MAX = 10
MIN_SUBSCRIBERS_MAX = 10**10


Engagement = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Subscribers = Annotated[int, Field(ge=0, le=MIN_SUBSCRIBERS_MAX)]


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


class Campaign(Schema):
    id: int
    advertiser_id: TgId
    title: str
    description: str
    category: Category | None
    status: CampaignStatus
    budget: TonString = Field(description="Budget per channel placement, TON")
    budget_nano: NanoString
    total_budget: TonString | None = Field(description="Budget for the whole campaign, TON")
    total_budget_nano: NanoString | None
    creative_text: str | None
    content_guidelines: str | None
    creative_images: list[str] = Field(description="Upload file ids")
    preferred_formats: list[str]
    min_subscribers: int | None
    min_engagement: float | None = Field(description="Percent of subscribers viewing a post")
    preferred_categories: list[Category]
    deadline: dt.date | None = Field(description="Last day (UTC) the campaign takes offers")
    offer_count: int = Field(description="Negotiations opened on the campaign (counters excluded)")
    accepted_count: int = Field(description="Deals made from the campaign")
    live_count: int = Field(description="Deals whose post is published and not refunded")
    created_at: UtcDateTime
    updated_at: UtcDateTime


class CampaignSummary(Schema):
    id: int
    title: str
    status: CampaignStatus


class _CampaignFields(RequestSchema):
    @field_validator("preferred_formats", "preferred_categories", check_fields=False)
    @classmethod
    def _dedupe(cls, values: list[Any] | None) -> list[Any] | None:
        return _unique(values) if values is not None else None

    @field_validator("creative_images", check_fields=False)
    @classmethod
    def _dedupe_images(cls, values: list[str] | None) -> list[str] | None:
        return _unique(values) if values is not None else None


class CampaignCreate(_CampaignFields):
    title: str = Field(min_length=TITLE_MIN, max_length=TITLE_MAX)
    description: str = Field(default="", max_length=TEXT_MAX)
    category: CategoryIn | None = None
    budget: TonAmount = Field(default=0, description="Per channel, TON; 0 means no cap")
    total_budget: TonAmount | None = None
    creative_text: str | None = Field(default=None, max_length=CREATIVE_TEXT_MAX)
    content_guidelines: str | None = Field(default=None, max_length=TEXT_MAX)
    creative_images: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=CREATIVE_IMAGES_MAX
    )
    preferred_formats: list[AdFormat] = Field(default_factory=list)
    min_subscribers: Subscribers | None = None
    min_engagement: Engagement | None = None
    preferred_categories: list[CategoryIn] = Field(default_factory=list)
    deadline: dt.date | None = None

    @model_validator(mode="after")
    def _total_covers_one_placement(self) -> CampaignCreate:
        if self.total_budget is not None and self.total_budget < self.budget:
            raise ValueError("totalBudget cannot be smaller than the per-channel budget")
        return self


class CampaignUpdate(_CampaignFields):
    """Only the fields sent change; `null` clears an optional field."""

    title: str | None = Field(default=None, min_length=TITLE_MIN, max_length=TITLE_MAX)
    description: str | None = Field(default=None, max_length=TEXT_MAX)
    category: CategoryIn | None = None
    status: CampaignStatus | None = None
    budget: TonAmount | None = None
    total_budget: TonAmount | None = None
    creative_text: str | None = Field(default=None, max_length=CREATIVE_TEXT_MAX)
    content_guidelines: str | None = Field(default=None, max_length=TEXT_MAX)
    creative_images: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=CREATIVE_IMAGES_MAX
    )
    preferred_formats: list[AdFormat] | None = None
    min_subscribers: Subscribers | None = None
    min_engagement: Engagement | None = None
    preferred_categories: list[CategoryIn] | None = None
    deadline: dt.date | None = None

    @model_validator(mode="after")
    def _required_fields_are_not_cleared(self) -> CampaignUpdate:
        for name in ("title", "status", "budget", "description"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class CampaignSort(StrEnum):
    created_at = "createdAt"
    created_at_desc = "-createdAt"
    budget = "budget"
    budget_desc = "-budget"
    deadline = "deadline"
    deadline_desc = "-deadline"


class ChannelMatch(Channel):
    """A channel as the catalogue shows it, with what makes it fit the campaign."""

    matching_formats: list[AdFormat] = Field(
        description="Enabled formats the campaign wants, priced within its budget"
    )
    best_price: TonString = Field(description="Cheapest of the matching formats, TON")
    best_price_nano: NanoString


class ChannelReport(Schema):
    """A campaign's deals in one channel."""

    channel_id: TgId
    channel_username: str | None
    deals: int
    spent_nano: NanoString = Field(description="Sum of the settled deals' spentNano")
    verified_views: int = Field(description="Sum of the end-of-hold views of deals that have one")
    effective_cpm_nano: NanoString | None = Field(
        description="The spend of deals with verified views × 1000 ÷ their views, rounded down"
    )


class CampaignDealReport(Schema):
    deal_id: int
    channel_id: TgId
    status: str
    price_nano: NanoString
    spent_nano: NanoString | None = Field(description="Null while the deal is not settled")
    verified_views: int | None
    effective_cpm_nano: NanoString | None


class CampaignReport(Schema):
    """What a campaign's deals bought, over all of them and by channel (docs/reports.md)."""

    campaign_id: int
    deals: int
    settled_deals: int = Field(description="Deals released, split, refunded or cancelled")
    spent_nano: NanoString = Field(description="Sum of the settled deals' spentNano")
    verified_views: int = Field(description="Sum of the end-of-hold views of deals that have one")
    effective_cpm_nano: NanoString | None = Field(
        description="The spend of settled deals with verified views × 1000 ÷ those views, "
        "rounded down; null when no such deal"
    )
    by_channel: list[ChannelReport]
    deal_reports: list[CampaignDealReport]
    generated_at: UtcDateTime
