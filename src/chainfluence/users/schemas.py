"""User shapes on the wire (API.md)."""

from __future__ import annotations

from pydantic import Field

from chainfluence.kit.money import NanoString, TonString
from chainfluence.kit.schemas import Bool, RequestSchema, Schema, TgId, UtcDateTime


class User(Schema):
    id: TgId
    username: str | None
    first_name: str
    last_name: str | None
    photo_url: str | None
    language_code: str | None
    is_publisher: bool
    is_advertiser: bool
    is_operator: bool
    wallet_address: str | None = Field(
        description="The linked wallet, user-friendly non-bounceable (`UQ…`; `0Q…` on testnet)"
    )
    wallet_address_raw: str | None = Field(description="The same wallet, raw (`0:<hex>`)")
    wallet_verified: bool
    rating: float | None
    review_count: int
    member_since: UtcDateTime
    created_at: UtcDateTime
    updated_at: UtcDateTime


class PublicUser(Schema):
    id: TgId
    username: str | None
    first_name: str
    last_name: str | None
    photo_url: str | None
    is_publisher: bool
    is_advertiser: bool
    rating: float | None
    review_count: int
    deals_completed: int
    member_since: UtcDateTime


class UserUpdate(RequestSchema):
    is_publisher: Bool | None = None
    is_advertiser: Bool | None = None


class PublisherStats(Schema):
    channels_listed: int
    total_earned: TonString = Field(description="TON earned from released deals (after fees)")
    total_earned_nano: NanoString
    deals_completed: int
    rating: float | None
    review_count: int


class AdvertiserStats(Schema):
    total_spent: TonString = Field(description="TON paid for released deals")
    total_spent_nano: NanoString
    deals_completed: int
    campaigns_created: int


class UserStats(Schema):
    publisher: PublisherStats
    advertiser: AdvertiserStats
