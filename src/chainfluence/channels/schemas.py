"""Channel shapes (API.md: Channel, Stats) and request bodies."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from chainfluence.categories import Category, CategoryIn
from chainfluence.formats import AdFormat
from chainfluence.kit.money import PositiveTon, TonNumber
from chainfluence.kit.schemas import Bool, RequestSchema, Schema, TgId, UtcDateTime

# Telegram usernames: 5-32 characters (a few old ones have 4), letters, digits, underscores.
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,31}$")
_LINK = re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me)/(?:s/)?([A-Za-z0-9_]+)/?$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class Price(Schema):
    format: AdFormat
    price: TonNumber
    enabled: bool
    description: str | None
    # Price per 1000 average views, in TON; null while views are unknown.
    cpm: TonNumber | None = None


class Channel(Schema):
    id: TgId
    owner_id: TgId
    username: str | None
    title: str
    description: str | None
    category: Category | None
    language: str | None
    subscribers: int | None
    avg_views: int | None
    engagement_rate: float | None = Field(
        description="Average views / subscribers, in percent (28.63 = 28.63 %)"
    )
    posts_per_week: float | None
    trust_score: int | None = Field(
        default=None, description="0-100; reasons in the channel's stats (null while unknown)"
    )
    pricing: list[Price]
    # The cheapest enabled format's price and its CPM.
    min_price: TonNumber | None
    cpm: TonNumber | None
    rating: float | None
    review_count: int
    is_verified: bool
    is_active: bool
    # Why it is inactive: owner, bot_removed, bot_rights_lost (null when active).
    inactive_reason: str | None
    stats_updated_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ChannelCreate(RequestSchema):
    """Exactly one of `username` (public channel: "@name", "name" or a t.me link) or `channelId`;
    optionally the category to list it under."""

    username: str | None = Field(default=None, max_length=64)
    channel_id: TgId | None = None
    category: CategoryIn | None = None

    @field_validator("username")
    @classmethod
    def _normalize_username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        link = _LINK.match(text)
        if link:
            text = link.group(1)
        text = text.removeprefix("@")
        if not _USERNAME.match(text):
            raise ValueError("a channel username is 5-32 letters, digits or underscores")
        return text

    @model_validator(mode="after")
    def _exactly_one(self) -> ChannelCreate:
        if (self.username is None) == (self.channel_id is None):
            raise ValueError("send either username or channelId")
        return self


class PriceIn(RequestSchema):
    format: AdFormat
    price: PositiveTon
    enabled: Bool = True
    description: str | None = Field(default=None, max_length=500)


class ChannelUpdate(RequestSchema):
    category: CategoryIn | None = None
    description: str | None = Field(default=None, max_length=2000)
    language: str | None = None
    # The complete price list: formats left out are removed.
    pricing: list[PriceIn] | None = Field(default=None, max_length=len(AdFormat))
    is_active: Bool | None = None

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().lower()
        if not _LANGUAGE.match(code):
            raise ValueError("a language is an ISO 639-1 code such as 'en' or 'ru'")
        return code

    @field_validator("pricing")
    @classmethod
    def _one_price_per_format(cls, value: list[PriceIn] | None) -> list[PriceIn] | None:
        if value is not None:
            formats = [p.format for p in value]
            if len(set(formats)) != len(formats):
                raise ValueError("each format may appear once in pricing")
        return value

    @model_validator(mode="after")
    def _no_explicit_nulls(self) -> ChannelUpdate:
        for name in ("pricing", "is_active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class Stats(Schema):
    channel_id: TgId
    username: str | None
    subscriber_count: int | None
    avg_views: int | None
    engagement_rate: float | None = Field(
        description="Average views / subscribers, in percent (28.63 = 28.63 %)"
    )
    posts_per_week: float | None
    language_distribution: dict[str, float] | None = Field(
        description='Share of recent posts per language, in percent ({"en": 80.0, "ru": 20.0})'
    )
    top_posts_views: list[int] | None
    # From the post view series: mean views at 24 h of age (last 20 posts), ERR24 (that /
    # subscribers) and ER ((forwards + reactions) / views), both in percent; null until known,
    # and `sources` says what is missing.
    avg_views_24h: int | None = Field(default=None, alias="avgViews24h")
    err24_percent: float | None = None
    er_percent: float | None = None
    trust_score: int | None = Field(
        default=None,
        description=(
            "0-100 from our own view series and subscriber history (formula in the API "
            "document); null while too few posts are read, sources.trust says why"
        ),
    )
    trust_reasons: list[dict[str, Any]] | None = Field(
        default=None,
        description='What took points off: [{"signal", "points", "detail"}]',
    )
    # Where the views-based figures came from ("bot_api" when only Telegram's own counts).
    source: str | None
    updated_at: UtcDateTime | None
    # Per figure: {"source", "fetchedAt", ...}, or {"missing": why} while it has no value.
    sources: dict[str, Any]


class Manager(Schema):
    user_id: TgId
    username: str | None
    first_name: str | None
    is_owner: bool
    is_creator: bool
    # One of our users (may act for the channel), or only a Telegram administrator.
    is_user: bool
    can_post_messages: bool
    can_edit_messages: bool
    can_delete_messages: bool
    synced_at: UtcDateTime


class CatalogueSort(StrEnum):
    subscribers = "subscribers"
    subscribers_desc = "-subscribers"
    avg_views = "avgViews"
    avg_views_desc = "-avgViews"
    er = "er"
    er_desc = "-er"
    price = "price"
    price_desc = "-price"
    cpm = "cpm"
    cpm_desc = "-cpm"
    rating = "rating"
    rating_desc = "-rating"
    trust = "trust"
    trust_desc = "-trust"
    created_at = "createdAt"
    created_at_desc = "-createdAt"
