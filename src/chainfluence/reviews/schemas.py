"""Review shapes (API.md `Review`)."""

from __future__ import annotations

from pydantic import Field

from chainfluence.kit.schemas import RequestSchema, Schema, TgId, UtcDateTime


class ReviewCreate(RequestSchema):
    rating: int = Field(ge=1, le=5, description="1 to 5 stars")
    comment: str | None = Field(default=None, max_length=2000)


class Review(Schema):
    id: int
    deal_id: int
    reviewer_id: TgId
    reviewee_id: TgId
    channel_id: TgId | None
    rating: int
    comment: str | None
    created_at: UtcDateTime
