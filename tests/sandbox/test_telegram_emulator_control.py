"""The control API: people acting, Mini App initData, injected failures, limits, the demo world."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter, TelegramServerError
from aiogram.utils.web_app import safe_parse_webapp_init_data
from aiogram.utils.web_app_signature import safe_check_webapp_init_data_from_signature
from PIL import Image

from chainfluence_sandbox.telegram import (
    BotAccount,
    EmulatorControlError,
    RunningEmulator,
    TelegramEmulatorControl,
    seed_demo,
)
from chainfluence_sandbox.telegram.schemas import ChatOut, UserOut

# --- Mini App initData ----------------------------------------------------------------------


async def test_init_data_validates_with_the_bot_token(
    control: TelegramEmulatorControl, bot_account: BotAccount
) -> None:
    user = await control.create_user("Ivan", last_name="Kuz", username="ivan_k", is_premium=True)

    before = await control.now()
    init_data = await control.web_app_init_data(user.id, start_param="deal_42")
    after = await control.now()

    parsed = safe_parse_webapp_init_data(bot_account.token, init_data)
    assert parsed.user is not None
    assert (parsed.user.id, parsed.user.username, parsed.user.is_premium) == (
        user.id,
        "ivan_k",
        True,
    )
    assert parsed.start_param == "deal_42"
    assert parsed.query_id
    # Signed at the emulator's time: between its clock's readings around the request.
    assert before <= parsed.auth_date.timestamp() <= after


async def test_init_data_fails_validation_with_another_token_or_when_tampered(
    control: TelegramEmulatorControl, bot_account: BotAccount
) -> None:
    user = await control.create_user("Mallory")
    init_data = await control.web_app_init_data(user.id)

    with pytest.raises(ValueError, match="Invalid init data signature"):
        safe_parse_webapp_init_data("1:another-token", init_data)
    tampered = init_data.replace(str(user.id), str(user.id + 1))
    with pytest.raises(ValueError, match="Invalid init data signature"):
        safe_parse_webapp_init_data(bot_account.token, tampered)


async def test_init_data_signature_validates_for_third_parties_with_the_emulator_key(
    control: TelegramEmulatorControl, bot_account: BotAccount
) -> None:
    user = await control.create_user("Third")
    init_data = await control.web_app_init_data(user.id, auth_date=1_700_000_000)

    parsed = safe_check_webapp_init_data_from_signature(
        bot_account.id, init_data, await control.web_app_public_key()
    )

    assert parsed.user is not None
    assert parsed.user.id == user.id
    assert dict(parse_qsl(init_data))["auth_date"] == "1700000000"


# --- failures on demand and flood limits -------------------------------------------------------


async def test_injected_429_carries_retry_after_and_then_the_call_succeeds(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    await control.fail_next(1, method="sendMessage", retry_after=3)

    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(channel.id, "Ad")
    assert raised.value.retry_after == 3
    assert "Original description: Too Many Requests: retry after 3" in raised.value.message
    await bot.get_me()  # other methods are unaffected
    await bot.send_message(channel.id, "Ad")

    assert [m.text for m in await control.messages(channel.id, sent_by_bot=True)] == ["Ad"]


async def test_injected_failures_can_target_any_method_and_other_codes(
    bot: Bot, control: TelegramEmulatorControl
) -> None:
    await control.fail_next(2, error_code=502, description="Bad Gateway")

    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.get_me()
    assert (await bot.get_me()).is_bot


@pytest.fixture
def limiter_clock(emulator: RunningEmulator) -> Iterator[list[float]]:
    """The emulator's flood limits on a clock the test moves (`clock[0] += seconds`): calls
    land exactly where the test says, however long a loaded machine takes between them."""
    limiter = emulator.state.rate_limiter
    clock = [1_000.0]
    limiter.clock = lambda: clock[0]
    try:
        yield clock
    finally:
        limiter.clock = time.monotonic


async def test_flood_limits_allow_one_message_per_chat_per_second_when_enabled(
    bot: Bot,
    bot_account: BotAccount,
    control: TelegramEmulatorControl,
    channel: ChatOut,
    subscriber: UserOut,
    limiter_clock: list[float],
) -> None:
    await control.set_rate_limits(enabled=True, per_chat_per_second=1, global_per_second=30)
    try:
        await bot.send_message(channel.id, "first")
        limiter_clock[0] += 0.95
        with pytest.raises(TelegramRetryAfter) as raised:
            await bot.send_message(channel.id, "too soon")
        assert raised.value.retry_after == 1
        await bot.send_message(subscriber.id, "another chat is fine")
        limiter_clock[0] += 0.1  # a second and a little after the first
        await bot.send_message(channel.id, "second")
    finally:
        await control.set_rate_limits(enabled=False)

    sent = [m.text for m in await control.messages(channel.id, sent_by_bot=True)]
    assert sent == ["first", "second"]


async def test_flood_limits_cap_sends_across_all_chats(
    bot: Bot,
    control: TelegramEmulatorControl,
    channel: ChatOut,
    subscriber: UserOut,
    limiter_clock: list[float],
) -> None:
    await control.set_rate_limits(enabled=True, per_chat_per_second=5, global_per_second=2)
    try:
        await bot.send_message(channel.id, "one")
        await bot.send_message(subscriber.id, "two")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(channel.id, "three")
        await bot.get_me()  # only sending counts
    finally:
        await control.set_rate_limits(enabled=False)


async def test_every_call_is_logged_with_its_outcome(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    await control.clear_calls()
    await bot.send_message(channel.id, "logged")
    with pytest.raises(Exception, match="message text is empty"):
        await bot.send_message(channel.id, " ")

    calls = await control.calls("sendMessage")

    assert [(c.ok, c.error_code) for c in calls] == [(True, None), (False, 400)]
    assert calls[0].params["text"] == "logged"
    assert await control.calls("getChatMemberCount") == []


# --- people acting ----------------------------------------------------------------------------


async def test_views_live_in_emulator_state_not_in_bot_api_messages(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    sent = await bot.send_message(channel.id, "Counted")

    await control.set_views(channel.id, sent.message_id, 12_345)

    [stored] = await control.messages(channel.id)
    assert stored.views == 12_345
    assert await bot.get_updates() == []


async def test_a_member_without_the_post_right_cannot_post(
    control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    reader = await control.create_user("Reader")
    await control.add_member(channel.id, reader.id)

    with pytest.raises(EmulatorControlError) as raised:
        await control.post(channel.id, text="spam", by_user_id=reader.id)
    assert raised.value.status_code == 400
    assert "can_post_messages" in raised.value.detail


async def test_unknown_ids_are_404(control: TelegramEmulatorControl) -> None:
    with pytest.raises(EmulatorControlError) as raised:
        await control.chat(-1001234)
    assert raised.value.status_code == 404


async def test_chat_and_user_state_are_readable(
    control: TelegramEmulatorControl,
    bot_account: BotAccount,
    channel: ChatOut,
    owner: UserOut,
    subscriber: UserOut,
) -> None:
    read = await control.chat("@ad_friendly")
    statuses = {m.user_id: m.status for m in read.members}
    assert statuses == {owner.id: "creator", bot_account.id: "administrator"}
    assert read.member_count == 1_002

    await control.block_bot(subscriber.id)
    person = await control.user(subscriber.id)
    assert [(c.bot_id, c.started, c.blocked) for c in person.bot_chats] == [
        (bot_account.id, True, True)
    ]


async def test_photo_posts_by_people_reach_the_bot_with_sizes(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (0, 128, 255)).save(buffer, format="PNG")

    await control.post(channel.id, photo=buffer.getvalue(), caption="Look")

    [update] = await bot.get_updates()
    assert update.channel_post is not None
    assert update.channel_post.photo is not None
    assert update.channel_post.caption == "Look"


async def test_clock_moves_forward_only(control: TelegramEmulatorControl) -> None:
    before = await control.now()

    after = await control.advance_clock(3600)

    assert after - before >= 3600
    with pytest.raises(EmulatorControlError):
        await control.advance_clock(-1)


# --- the demo world ---------------------------------------------------------------------------


async def test_seeded_demo_world_works_through_the_bot_api(
    emulator: RunningEmulator, bot: Bot, bot_account: BotAccount, control: TelegramEmulatorControl
) -> None:
    world = seed_demo(emulator.state, bot=bot_account)

    public = await bot.get_chat("@crypto_daily_sandbox")
    private = await bot.get_chat(world.private_channel_id)
    assert public.id == world.public_channel_id
    assert private.title == "Founders Insider"
    assert await bot.get_chat_member_count(world.public_channel_id) == 48_202
    me = await bot.get_chat_member(world.private_channel_id, bot_account.id)
    assert me.status == "administrator"
    posts = await control.messages(world.public_channel_id)
    assert len(posts) == 7
    assert all(p.views > 10_000 for p in posts)
    assert len({p.date // 86_400 for p in posts}) >= 6
    assert await bot.get_updates() == []
    await bot.send_message(world.advertiser_id, "Welcome back")
