"""Test factories: Telegram initData as Telegram signs it, logged-in clients, images."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from chainfluence.kit.time import utcnow

T = TypeVar("T")

TEST_BOT_TOKEN = "123456789:TEST-token-for-chainfluence-tests-0001"
TEST_BOT_ID = 123456789


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields))


def init_data_fields(
    user_id: int | None = 1001,
    *,
    first_name: str = "Alice",
    username: str | None = "alice",
    auth_date: int | None = None,
    **extra: str,
) -> dict[str, str]:
    fields: dict[str, str] = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "auth_date": str(auth_date if auth_date is not None else int(utcnow().timestamp())),
    }
    if user_id is not None:
        user: dict[str, Any] = {"id": user_id, "first_name": first_name, "language_code": "en"}
        if username:
            user["username"] = username
        fields["user"] = json.dumps(user, separators=(",", ":"))
    fields.update(extra)
    return fields


def sign_hmac(fields: dict[str, str], bot_token: str = TEST_BOT_TOKEN) -> dict[str, str]:
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, _check_string(fields).encode(), hashlib.sha256).hexdigest()
    return {**fields, "hash": digest}


def sign_ed25519(
    fields: dict[str, str], key: Ed25519PrivateKey, bot_id: int = TEST_BOT_ID
) -> dict[str, str]:
    message = f"{bot_id}:WebAppData\n{_check_string(fields)}".encode()
    signature = base64.urlsafe_b64encode(key.sign(message)).decode().rstrip("=")
    # Telegram sends a hash too; a third party cannot check it.
    return {**fields, "signature": signature, "hash": "0" * 64}


def encode(fields: dict[str, str]) -> str:
    return urlencode(fields)


def init_data(user_id: int = 1001, **kwargs: Any) -> str:
    return encode(sign_hmac(init_data_fields(user_id, **kwargs)))


async def login(client: httpx.AsyncClient, user_id: int = 1001, **kwargs: Any) -> dict[str, str]:
    """Log in as a Telegram user; returns the Authorization header for later requests."""
    response = await client.post("/v1/auth/login", json={"initData": init_data(user_id, **kwargs)})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(buffer, format=fmt)
    return buffer.getvalue()


# --- Channels -----------------------------------------------------------------------------------
# Test setup for tests about something other than listing a channel (matching, offers, escrow,
# the refusal matrix): the channel, its figures, prices and Telegram admins are written straight
# to the database so each test can pick exact subscribers and engagement. Listing a channel
# through the API and the Telegram emulator is what tests/channels and tests/deals/world.py do.


async def create_channel(
    runtime: Any,
    *,
    owner_id: int,
    channel_id: int = -1001000000001,
    prices: dict[str, str | tuple[str, bool]] | None = None,
    title: str = "Test channel",
    username: str | None = None,
    category: str | None = "crypto",
    subscribers: int | None = 10_000,
    engagement_rate: float | None = 12.5,
    is_active: bool = True,
    is_verified: bool = True,
    admins: dict[int, bool] | None = None,
) -> int:
    """A listed channel owned by `owner_id` (registered as a user if needed).

    `prices`: format → TON amount, or (amount, enabled); `admins`: user id → holds the post,
    edit and delete rights a manager needs (or none).
    """
    from chainfluence.kit.money import ton_to_nano
    from chainfluence.models import Channel, ChannelAdmin, ChannelPrice, User

    async with runtime.session() as session:
        for user_id in {owner_id, *(admins or {})}:
            if await session.get(User, user_id) is None:
                session.add(User(id=user_id, first_name=f"User {user_id}", member_since=utcnow()))
        await session.flush()
        session.add(
            Channel(
                id=channel_id,
                owner_id=owner_id,
                username=username or f"channel{abs(channel_id)}",
                title=title,
                category=category,
                subscribers=subscribers,
                engagement_rate=engagement_rate,
                is_active=is_active,
                is_verified=is_verified,
            )
        )
        await session.flush()
        for fmt, price in (prices if prices is not None else {"2/48": "10"}).items():
            amount, enabled = price if isinstance(price, tuple) else (price, True)
            session.add(
                ChannelPrice(
                    channel_id=channel_id,
                    format=fmt,
                    price_nano=ton_to_nano(amount),
                    enabled=enabled,
                )
            )
        for user_id, may_act in (admins or {}).items():
            session.add(
                ChannelAdmin(
                    channel_id=channel_id,
                    user_id=user_id,
                    can_post_messages=may_act,
                    can_edit_messages=may_act,
                    can_delete_messages=may_act,
                    synced_at=utcnow(),
                )
            )
    return channel_id


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 10.0
) -> T:
    """Poll `probe` until `done(value)`; for effects that arrive through the bot or a job."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if done(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached in {timeout} s; last value: {value!r}")
        await asyncio.sleep(0.02)


# --- Deals ---------------------------------------------------------------------------------------
# A deal made through the product: the advertiser books the channel (POST /v1/channels/{id}/offers)
# and the channel's side accepts (POST /v1/offers/{id}/accept). `status` other than pending is
# then written straight to the row: only the refusal matrix (tests/deals/test_state_machine.py)
# uses it, to stand a deal in every status; the flows that reach those statuses are tested end
# to end in tests/deals/test_end_to_end.py.


async def create_deal(
    client: httpx.AsyncClient,
    *,
    advertiser: dict[str, str],
    acceptor: dict[str, str],
    channel_id: int,
    format: str = "2/48",
    amount: str = "10",
    proposed_at: dt.datetime | None = None,
    status: str = "pending",
) -> int:
    """A deal on `channel_id` (made with `create_channel`, selling `format`) for `amount` TON,
    booked by `advertiser` and accepted by `acceptor` (its owner or a manager). Returns its id."""
    proposed_at = proposed_at or utcnow() + dt.timedelta(days=2)
    booked = await client.post(
        f"/v1/channels/{channel_id}/offers",
        json={"format": format, "amount": amount, "proposedDate": proposed_at.isoformat()},
        headers=advertiser,
    )
    assert booked.status_code == 201, booked.text
    accepted = await client.post(f"/v1/offers/{booked.json()['id']}/accept", headers=acceptor)
    assert accepted.status_code == 200, accepted.text
    deal_id: int = accepted.json()["dealId"]
    if status != "pending":
        from chainfluence.models import Deal, DealStatus

        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        async with runtime.session() as session:
            deal = await session.get(Deal, deal_id)
            deal.status = DealStatus(status)
    return deal_id


async def fund_deal(client: httpx.AsyncClient, deal_id: int, escrow_address: str) -> None:
    """Put the deal in escrow as if its deposit had been seen: the whole price held by
    `escrow_address` (for tests of what happens to money already held)."""
    from chainfluence.models import Deal, DealStatus

    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.session() as session:
        deal = await session.get(Deal, deal_id)
        assert deal is not None
        deal.status = DealStatus.in_escrow
        deal.escrow_address = escrow_address
        deal.deposited_nano = deal.price_nano
