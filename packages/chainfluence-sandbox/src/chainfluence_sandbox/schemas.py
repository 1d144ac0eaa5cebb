"""Shapes of the sandbox helper routes (camelCase, ids and money as in API.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chainfluence.kit.money import NANO_PER_TON, NanoString, TonAmount, TonString
from chainfluence.kit.schemas import RequestSchema, Schema, TgId, UtcDateTime
from chainfluence.models import DealStatus
from chainfluence.users.schemas import User

# A sandbox wallet gets this unless told otherwise: enough for a few demo deals.
DEFAULT_WALLET_FUNDS_NANO = 100 * NANO_PER_TON
MAX_WALLET_FUNDS_NANO = 1_000_000 * NANO_PER_TON


class TelegramProfile(RequestSchema):
    """Who the person is in the Telegram emulator, used only when they do not exist there yet."""

    first_name: str | None = Field(default=None, min_length=1, max_length=64)
    last_name: str | None = Field(default=None, max_length=64)
    username: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
    language_code: str | None = Field(default="en", max_length=8)


class SandboxLogin(Schema):
    init_data: str = Field(description="Mini App initData signed as Telegram signs it.")
    access_token: str = Field(description="What POST /v1/auth/login answered for that initData.")
    token_type: str
    expires_in: int
    authorization: str = Field(
        description='Paste into the docs\' "Authorize" dialog: "Bearer <accessToken>".'
    )
    user: User


class WalletRequest(RequestSchema):
    amount: TonAmount = Field(
        default=DEFAULT_WALLET_FUNDS_NANO,
        json_schema_extra={"default": "100"},
        description="TON minted to the wallet (0 for none), as a decimal string or number.",
    )


class SandboxWallet(Schema):
    user_id: TgId
    address: str = Field(description="User-friendly, non-bounceable (as wallet apps show it).")
    raw_address: str
    network: str = Field(description='TON Connect network id ("-239").')
    balance: TonString
    balance_nano: NanoString
    status: str = Field(description="Account status on the local chain (nonexist, uninit, active).")


class LinkedWallet(SandboxWallet):
    funded: TonString = Field(description="What this call minted to the wallet.")
    user: User = Field(description="The user after the link: walletVerified is true.")


class DealPaymentRequest(RequestSchema):
    amount: Annotated[TonAmount, Field(gt=0)] | None = Field(
        default=None,
        description="Send this many TON instead of the exact price (to play an under- or "
        "over-payment).",
    )
    wait_seconds: float = Field(
        default=15,
        ge=0,
        le=60,
        description="Wait up to this long for the chain watcher to record the deposit.",
    )


class DealPayment(Schema):
    deal_id: int
    status: DealStatus = Field(description="The deal's status when the call returned.")
    escrow_address: str
    sent: TonString
    sent_nano: NanoString
    deposited_nano: NanoString = Field(description="What the deal has recorded as deposited.")
    missing_nano: NanoString
    from_address: str = Field(description="The advertiser's sandbox wallet.")
    message_hash: str = Field(description="Hash of the wallet's external message (hex).")
    wallet_balance: TonString
    wallet_balance_nano: NanoString


class ClockAdvance(RequestSchema):
    seconds: float = Field(gt=0, le=400 * 24 * 3600, description="How far to move time forward.")


class Clock(Schema):
    now: UtcDateTime = Field(description="The sandbox's time (the app, Telegram and the chain).")
    offset_seconds: float = Field(
        description="How far the sandbox's time is ahead of real time (processes that follow "
        "this sandbox's clock apply it)."
    )


class PostEdit(RequestSchema):
    text: str = Field(min_length=1, max_length=4096)


class ChannelPost(Schema):
    channel_id: TgId
    message_id: int
    text: str | None
    edited_at: int | None = Field(description="Unix seconds")
    deleted_at: int | None = Field(description="Unix seconds")
    by_user_id: TgId = Field(description="The channel's owner, who acted.")


class Person(Schema):
    id: TgId
    name: str
    username: str | None
    role: str = Field(description="What the demo world made them.")


class SandboxChannel(Schema):
    id: TgId
    username: str | None
    title: str | None
    owner_id: TgId
    subscribers: int


class TelegramEmulator(Schema):
    api_url: str = Field(description="The Bot API emulator's base URL.")
    control_docs_url: str = Field(description="Its control API: act as any Telegram user.")
    bot_username: str
    people: list[Person]
    channels: list[SandboxChannel]


class TonEmulator(Schema):
    api_url: str = Field(description="The toncenter-v2 endpoint of the local chain.")
    control_docs_url: str = Field(description="Its control API: fund addresses, inspect accounts.")


class SandboxWorld(Schema):
    now: UtcDateTime
    telegram: TelegramEmulator | None
    ton: TonEmulator | None
    wallets: list[SandboxWallet]
