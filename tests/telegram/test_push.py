"""Bot status changes and pushes, end to end over the emulator: a demoted bot deactivates the
listing and tells the owner in-app and by push; blocked users keep in-app notifications only;
Telegram's 429 and send limits are honoured."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from chainfluence.models import User
from chainfluence.telegram.lifecycle import polling
from chainfluence_sandbox.telegram import BotAccount, TelegramEmulatorControl
from chainfluence_sandbox.telegram.schemas import MessageOut
from tests.channels.world import Publisher, channel_with_bot, list_channel, publisher
from tests.conftest import runtime_of
from tests.factories import create_deal, eventually

pytestmark = pytest.mark.usefixtures("db")


async def _notifications(client: httpx.AsyncClient, owner: Publisher) -> list[dict[str, Any]]:
    response = await client.get("/v1/notifications", headers=owner.headers)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()
    return items


async def _listed_owner(
    client: httpx.AsyncClient, control: TelegramEmulatorControl, *, started: bool = True
) -> tuple[Publisher, dict[str, Any]]:
    owner = await publisher(client, control)
    if started:
        await control.start_bot(owner.user.id)
        await eventually(
            lambda: control.messages(owner.user.id, sent_by_bot=True), lambda found: bool(found)
        )
    chat = await channel_with_bot(control, owner.user)
    return owner, await list_channel(client, owner, chat)


async def _bot_blocked(client: httpx.AsyncClient, owner: Publisher) -> bool:
    async with runtime_of(client).session(write=False) as session:
        user = await session.get(User, owner.user.id)
        assert user is not None
        return user.bot_blocked_at is not None


def _push_texts(messages: list[MessageOut]) -> list[str]:
    return [m.text or "" for m in messages if (m.text or "").endswith("in the app.")]


@pytest.mark.usefixtures("bot_polling")
@pytest.mark.parametrize(
    ("change", "reason"),
    [("demote", "bot_removed"), ("remove", "bot_removed"), ("cut_rights", "bot_rights_lost")],
)
async def test_bot_demoted_deactivates_the_channel_and_tells_the_owner_in_app_and_by_push(
    client: httpx.AsyncClient, control: TelegramEmulatorControl, change: str, reason: str
) -> None:
    owner, channel = await _listed_owner(client, control)
    chat_id = int(channel["id"])

    if change == "demote":
        await control.demote_bot(chat_id, by_user_id=owner.user.id)
    elif change == "remove":
        await control.remove_bot(chat_id, by_user_id=owner.user.id)
    else:
        await control.add_bot_as_admin(
            chat_id, rights={"can_post_messages": True}, by_user_id=owner.user.id
        )

    listing = await eventually(
        lambda: client.get(f"/v1/channels/{chat_id}"),
        lambda response: response.json()["isActive"] is False,
    )
    assert listing.json()["inactiveReason"] == reason
    assert (await client.get("/v1/channels")).json() == []
    [notification] = await _notifications(client, owner)
    assert notification["type"] == "channel_deactivated"
    assert notification["title"] == "Ad Friendly is no longer listed"
    assert notification["relatedId"] == str(chat_id)
    pushes = await eventually(
        lambda: control.messages(owner.user.id, sent_by_bot=True),
        lambda found: len(_push_texts(found)) == 1,
    )
    [push] = [m for m in pushes if (m.text or "").endswith("in the app.")]
    assert (push.text or "").startswith("Ad Friendly is no longer listed\nWe took Ad Friendly out")
    assert push.entities[0]["type"] == "bold"
    [button] = push.buttons()
    assert f"tgWebAppStartParam=channel_{chat_id}" in button["web_app"]["url"]


@pytest.mark.usefixtures("bot_polling")
async def test_a_user_who_blocked_the_bot_gets_in_app_notifications_but_no_pushes(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner, channel = await _listed_owner(client, control)
    await control.block_bot(owner.user.id)
    # The bot learns of the block from a my_chat_member update; pushes stop once it is handled.
    await eventually(lambda: _bot_blocked(client, owner), lambda blocked: blocked)
    await control.clear_calls()

    await control.demote_bot(int(channel["id"]), by_user_id=owner.user.id)

    await eventually(lambda: _notifications(client, owner), lambda items: len(items) == 1)
    await _drain(client)
    sends = await control.calls("sendMessage")
    assert [c for c in sends if c.params["chat_id"] == str(owner.user.id)] == []


async def test_a_403_from_telegram_marks_the_user_blocked_and_stops_later_pushes(
    client: httpx.AsyncClient, control: TelegramEmulatorControl, bot_account: BotAccount
) -> None:
    runtime = runtime_of(client)
    async with polling(runtime, timeout=1):
        owner, first = await _listed_owner(client, control)
        chat = await channel_with_bot(control, owner.user, title="Second", username="second_ch")
        second = await list_channel(client, owner, chat)
    # The person blocks the bot and that update never reaches us (lost in transit).
    await control.block_bot(owner.user.id)
    bot_account.updates.clear()
    await control.clear_calls()

    async with polling(runtime, timeout=1):
        await control.demote_bot(int(first["id"]), by_user_id=owner.user.id)
        await eventually(
            lambda: control.calls("sendMessage"),
            lambda calls: any(c.error_code == 403 for c in calls),
        )
        await control.demote_bot(int(second["id"]), by_user_id=owner.user.id)
        await eventually(lambda: _notifications(client, owner), lambda items: len(items) == 2)
        await eventually(
            lambda: client.get(f"/v1/channels/{second['id']}"),
            lambda r: r.json()["isActive"] is False,
        )
        await _drain(client)

    sends = await control.calls("sendMessage")
    assert [(c.ok, c.error_code) for c in sends] == [(False, 403)]
    assert sends[0].description == "Forbidden: bot was blocked by the user"


@pytest.mark.usefixtures("bot_polling")
async def test_a_forced_429_is_retried_after_retry_after_and_the_message_arrives_once(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner, channel = await _listed_owner(client, control)
    await control.clear_calls()
    floods_before = await _flood_count(client)
    await control.fail_next(1, method="sendMessage", retry_after=1)

    await control.demote_bot(int(channel["id"]), by_user_id=owner.user.id)

    messages = await eventually(
        lambda: control.messages(owner.user.id, sent_by_bot=True),
        lambda found: len(_push_texts(found)) >= 1,
    )
    assert len(_push_texts(messages)) == 1
    sends = await control.calls("sendMessage")
    assert [(c.ok, c.error_code) for c in sends] == [(False, 429), (True, None)]
    assert sends[1].at - sends[0].at >= 1.0
    assert await _flood_count(client) == floods_before + 1  # seen on /metrics


async def _flood_count(client: httpx.AsyncClient) -> float:
    metrics = (await client.get("/metrics")).text
    series = 'chainfluence_bot_api_429_total{method="SendMessage"} '
    lines = [line for line in metrics.splitlines() if line.startswith(series)]
    return float(lines[0].removeprefix(series)) if lines else 0.0


@pytest.mark.usefixtures("bot_polling")
async def test_pushes_to_one_person_keep_to_one_per_second(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    await control.start_bot(owner.user.id)
    channels = []
    for index in range(3):
        chat = await channel_with_bot(
            control, owner.user, title=f"Channel {index}", username=f"channel_{index}_x"
        )
        channels.append(await list_channel(client, owner, chat))
    await control.set_rate_limits(enabled=True, per_chat_per_second=1, global_per_second=30)
    await control.clear_calls()

    for channel in channels:
        await control.demote_bot(int(channel["id"]), by_user_id=owner.user.id)

    await eventually(
        lambda: control.messages(owner.user.id, sent_by_bot=True),
        lambda found: len(_push_texts(found)) == 3,
        timeout=20,
    )
    sends = [
        c for c in await control.calls("sendMessage") if c.params["chat_id"] == str(owner.user.id)
    ]
    # Our limiter spaced them: Telegram (the emulator) never had to refuse one.
    assert all(c.ok for c in sends), [(c.error_code, c.description) for c in sends]
    times = sorted(c.at for c in sends)
    assert all(later - earlier >= 0.9 for earlier, later in itertools.pairwise(times))


async def _drain(client: httpx.AsyncClient) -> None:
    """Wait for the queued jobs (the pushes) to finish."""
    queue: Any = runtime_of(client).queue
    await queue.drain()


@pytest.mark.usefixtures("bot_polling")
async def test_the_advertiser_told_their_deal_awaits_the_deposit_gets_a_pay_button(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner, channel = await _listed_owner(client, control)
    priced = await client.patch(
        f"/v1/channels/{channel['id']}",
        json={"pricing": [{"format": "2/48", "price": 10}]},
        headers=owner.headers,
    )
    assert priced.status_code == 200, priced.text
    buyer = await publisher(client, control, first_name="Ada", username="ada_ads")
    await control.start_bot(buyer.user.id)
    await eventually(
        lambda: control.messages(buyer.user.id, sent_by_bot=True), lambda found: bool(found)
    )

    deal_id = await create_deal(
        client, advertiser=buyer.headers, acceptor=owner.headers, channel_id=int(channel["id"])
    )

    pushes = await eventually(
        lambda: control.messages(buyer.user.id, sent_by_bot=True),
        lambda found: any((m.text or "").startswith("Your offer was accepted") for m in found),
    )
    [push] = [m for m in pushes if (m.text or "").startswith("Your offer was accepted")]
    opened, pay = push.buttons()
    assert f"tgWebAppStartParam=deal_{deal_id}" in opened["web_app"]["url"]
    public_url = runtime_of(client).settings.public_url.rstrip("/")
    # The test deployment is on http: a link (Telegram opens only https pages as a web_app).
    assert pay == {"text": "Pay", "url": f"{public_url}/app/pay/{deal_id}"}
    # The channel's owner is told nothing to pay.
    for message in await control.messages(owner.user.id, sent_by_bot=True):
        assert all(button.get("text") != "Pay" for button in message.buttons())
