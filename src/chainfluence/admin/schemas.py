"""Admin shapes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chainfluence.kit.money import NanoString
from chainfluence.kit.schemas import RequestSchema, Schema


class Resolution(RequestSchema):
    outcome: Literal["release", "refund", "split"]
    publisher_share_bps: int | None = Field(
        default=None, ge=0, le=10_000, description="For a split: the publisher's share of the price"
    )
    note: str | None = Field(default=None, max_length=2000)


class StatusCount(Schema):
    status: str
    count: int
    amount_nano: NanoString


class PayoutOrders(Schema):
    pending: int
    sent: int
    failed: int


class Overview(Schema):
    deals: list[StatusCount]
    held_nano: NanoString = Field(description="Prices of deals whose escrow holds the money")
    payout_orders: PayoutOrders
