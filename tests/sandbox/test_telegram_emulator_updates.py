"""Updates from the emulator: getUpdates semantics, long polling, webhooks, and who sees what."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError
from aiogram.types import (
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chainfluence.kit.serving import serve_in_background
from chainfluence_sandbox.telegram import BotAccount, RunningEmulator, TelegramEmulatorControl
from chainfluence_sandbox.telegram.schemas import ChatOut, UserOut

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 5.0
) -> T:
    """Poll `probe` until `done` holds (background deliveries finish a moment later)."""
    for _ in range(int(timeout / 0.02)):
        value = await probe()
        if done(value):
            return value
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


# --- getUpdates ---------------------------------------------------------------------------------


async def test_offset_confirms_updates_and_negative_offset_keeps_the_last(
    bot: Bot, control: TelegramEmulatorControl, subscriber: UserOut
) -> None:
    for text in ("one", "two", "three"):
        await control.send_to_bot(subscriber.id, text)

    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["one", "two", "three"]
    assert [u.update_id for u in first] == list(range(first[0].update_id, first[0].update_id + 3))

    again = await bot.get_updates(offset=first[1].update_id)
    assert [u.update_id for u in again] == [first[1].update_id, first[2].update_id]

    assert await bot.get_updates(offset=first[2].update_id + 1) == []

    await control.send_to_bot(subscriber.id, "four")
    await control.send_to_bot(subscriber.id, "five")
    last = await bot.get_updates(offset=-1)
    assert [u.message.text for u in last if u.message] == ["five"]


async def test_limit_caps_the_batch(
    bot: Bot, control: TelegramEmulatorControl, subscriber: UserOut
) -> None:
    for text in ("a", "b", "c"):
        await control.send_to_bot(subscriber.id, text)

    batch = await bot.get_updates(limit=2)

    assert [u.message.text for u in batch if u.message] == ["a", "b"]


async def _held(bot_account: BotAccount) -> None:
    """Until the emulator holds a long poll: a pause of a fixed length may end, on a loaded
    machine, before the request has even reached it."""

    async def holding() -> bool:
        return bot_account.updates.polling

    await eventually(holding, bool, timeout=30)


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    bot: Bot, bot_account: BotAccount, control: TelegramEmulatorControl, subscriber: UserOut
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await _held(bot_account)
    assert not poll.done()

    await control.send_to_bot(subscriber.id, "ping")
    updates = await asyncio.wait_for(poll, timeout=5)

    assert [u.message.text for u in updates if u.message] == ["ping"]


async def test_long_poll_times_out_with_an_empty_list(bot: Bot) -> None:
    started = asyncio.get_running_loop().time()

    assert await bot.get_updates(timeout=1) == []
    assert asyncio.get_running_loop().time() - started >= 0.9


async def test_a_second_get_updates_ends_the_pending_one_with_conflict(
    bot: Bot, bot_account: BotAccount
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=20))
    await _held(bot_account)

    assert await bot.get_updates() == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, timeout=5)


async def test_allowed_updates_keeps_other_types_out_of_the_queue(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut, subscriber: UserOut
) -> None:
    await bot.get_updates(allowed_updates=["channel_post"])

    await control.send_to_bot(subscriber.id, "ignored")
    await control.post(channel.id, text="seen")

    updates = await bot.get_updates(allowed_updates=[])
    assert [u.channel_post.text for u in updates if u.channel_post] == ["seen"]
    assert all(u.message is None for u in updates)


async def test_a_fresh_world_forgets_the_allowed_updates_an_earlier_test_chose(
    bot: Bot, bot_account: BotAccount, control: TelegramEmulatorControl, emulator: RunningEmulator
) -> None:
    await bot.get_updates(allowed_updates=["channel_post"])

    emulator.state.reset()
    owner = await control.create_user("Olga")
    group = await control.create_group("Buyers club", owner_id=owner.id)
    await control.add_member(group.id, bot_account.id)

    updates = await bot.get_updates()
    assert [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member] == [
        "member"
    ]


# --- what the bot is told ---------------------------------------------------------------------


async def test_promotion_demotion_and_removal_reach_the_bot_as_my_chat_member(
    bot: Bot,
    bot_account: BotAccount,
    control: TelegramEmulatorControl,
    owner: UserOut,
) -> None:
    private = await control.create_channel("Members only", owner_id=owner.id)
    await control.add_bot_as_admin(private.id, rights={"can_post_messages": True})
    await control.demote_bot(private.id)
    await control.remove_bot(private.id)

    updates = [u.my_chat_member for u in await bot.get_updates() if u.my_chat_member]

    assert [type(u.old_chat_member) for u in updates] == [
        ChatMemberLeft,
        ChatMemberAdministrator,
        ChatMemberMember,
    ]
    assert [type(u.new_chat_member) for u in updates] == [
        ChatMemberAdministrator,
        ChatMemberMember,
        ChatMemberLeft,
    ]
    assert all(u.from_user.id == owner.id and u.chat.id == private.id for u in updates)
    promoted = updates[0].new_chat_member
    assert isinstance(promoted, ChatMemberAdministrator)
    assert promoted.can_post_messages
    assert not promoted.can_delete_messages


async def test_blocking_and_unblocking_reach_the_bot_as_my_chat_member(
    bot: Bot, control: TelegramEmulatorControl, subscriber: UserOut
) -> None:
    await control.block_bot(subscriber.id)
    await control.unblock_bot(subscriber.id)

    updates = [u.my_chat_member for u in await bot.get_updates() if u.my_chat_member]

    assert [type(u.new_chat_member) for u in updates] == [ChatMemberBanned, ChatMemberMember]
    assert all(u.chat.type == "private" and u.from_user.id == subscriber.id for u in updates)


async def test_people_posts_and_edits_reach_the_admin_bot(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    post = await control.post(channel.id, text="Weekly digest", views=1_500)
    await control.edit_post(channel.id, post.message_id, text="Weekly digest (updated)")

    updates = await bot.get_updates()

    assert updates[0].channel_post is not None
    assert updates[0].channel_post.text == "Weekly digest"
    assert updates[0].channel_post.sender_chat is not None
    edited = updates[1].edited_channel_post
    assert edited is not None
    assert edited.message_id == post.message_id
    assert edited.edit_date is not None


async def test_the_bot_hears_nothing_about_its_own_posts_even_when_a_person_edits_them(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    # Telegram's rule (tdlib/telegram-bot-api#121): outgoing messages never produce updates.
    sent = await bot.send_message(channel.id, "Approved creative")
    await control.edit_post(channel.id, sent.message_id, text="Tampered creative")
    await control.delete_post(channel.id, sent.message_id)

    assert await bot.get_updates() == []


async def test_start_with_payload_arrives_as_a_bot_command(
    bot: Bot, control: TelegramEmulatorControl
) -> None:
    user = await control.create_user("Ann", username="ann", language_code="de")

    await control.start_bot(user.id, "deal_42")

    [update] = await bot.get_updates()
    assert update.message is not None
    assert update.message.text == "/start deal_42"
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "de"
    assert [(e.type, e.offset, e.length) for e in update.message.entities or []] == [
        ("bot_command", 0, 6)
    ]


async def test_button_press_arrives_as_callback_query_and_can_be_answered_once(
    bot: Bot, control: TelegramEmulatorControl, subscriber: UserOut
) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Accept", callback_data="accept:42")]]
    )
    sent = await bot.send_message(subscriber.id, "Offer", reply_markup=markup)

    pressed = await control.press_button(subscriber.id, subscriber.id, sent.message_id, "accept:42")
    [update] = await bot.get_updates()

    assert update.callback_query is not None
    assert update.callback_query.data == "accept:42"
    assert update.callback_query.id == pressed.id
    assert await bot.answer_callback_query(pressed.id, text="Accepted")
    assert (await control.callback_query(pressed.id)).answer == {
        "text": "Accepted",
        "show_alert": False,
        "url": None,
        "cache_time": 0,
    }
    with pytest.raises(Exception, match="query is too old"):
        await bot.answer_callback_query(pressed.id)


# --- webhooks -----------------------------------------------------------------------------------


@dataclass
class Receiver:
    """A tiny webhook endpoint that fails the first `failures` deliveries."""

    failures: int = 0
    reply: dict[str, Any] | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str | None] = field(default_factory=list)
    attempts: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.attempts += 1
            if self.attempts <= self.failures:
                return Response(status_code=500)
            self.received.append(json.loads(await request.body()))
            self.secrets.append(request.headers.get("x-telegram-bot-api-secret-token"))
            self.arrived.set()
            return JSONResponse(self.reply or {})

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def receiver_url() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    async with serve_in_background(receiver.app()) as url:
        yield receiver, f"{url}/hook"


async def test_webhook_delivers_in_order_with_the_secret_and_retries_failures(
    bot: Bot,
    control: TelegramEmulatorControl,
    subscriber: UserOut,
    receiver_url: tuple[Receiver, str],
) -> None:
    receiver, url = receiver_url
    receiver.failures = 2
    assert await bot.set_webhook(url, secret_token="s3cr3t-Token_1", drop_pending_updates=True)

    for text in ("first", "second", "third"):
        await control.send_to_bot(subscriber.id, text)
    await receiver.wait_for(3)

    updates = [Update.model_validate(u) for u in receiver.received]
    assert [u.message.text for u in updates if u.message] == ["first", "second", "third"]
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)
    assert receiver.secrets == ["s3cr3t-Token_1"] * 3
    assert receiver.attempts == 5
    # the last delivery is confirmed once its response has been read
    await eventually(lambda: bot.get_webhook_info(), lambda info: info.pending_update_count == 0)
    info = await bot.get_webhook_info()
    assert info.url == url
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"


async def test_get_updates_is_a_conflict_while_a_webhook_is_set(
    bot: Bot, receiver_url: tuple[Receiver, str]
) -> None:
    _, url = receiver_url
    await bot.set_webhook(url)

    with pytest.raises(TelegramConflictError) as raised:
        await bot.get_updates()
    assert raised.value.message == (
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first"
    )

    assert await bot.delete_webhook()
    assert await bot.get_updates() == []


async def test_a_method_in_the_webhook_reply_is_executed(
    bot: Bot,
    control: TelegramEmulatorControl,
    subscriber: UserOut,
    receiver_url: tuple[Receiver, str],
) -> None:
    receiver, url = receiver_url
    receiver.reply = {"method": "sendMessage", "chat_id": subscriber.id, "text": "Welcome!"}
    await bot.set_webhook(url)

    await control.start_bot(subscriber.id)
    await receiver.wait_for(1)

    replies = await eventually(
        lambda: control.messages(subscriber.id, sent_by_bot=True), lambda found: bool(found)
    )
    [reply] = replies
    assert reply.text == "Welcome!"


async def test_delete_webhook_can_drop_pending_updates(
    bot: Bot, control: TelegramEmulatorControl, subscriber: UserOut
) -> None:
    await bot.set_webhook("http://127.0.0.1:9/unreachable")
    await control.send_to_bot(subscriber.id, "lost")
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1

    assert await bot.delete_webhook(drop_pending_updates=True)

    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == []


async def test_webhook_refuses_bad_urls_and_secrets(bot: Bot) -> None:
    with pytest.raises(Exception, match="invalid webhook URL specified"):
        await bot.set_webhook("ftp://example.org/hook")
    with pytest.raises(Exception, match="secret token contains unallowed characters"):
        await bot.set_webhook("https://example.org/hook", secret_token="no spaces allowed")


async def test_in_groups_a_member_bot_sees_commands_and_an_admin_bot_sees_everything(
    bot: Bot, bot_account: BotAccount, control: TelegramEmulatorControl, owner: UserOut
) -> None:
    group = await control.create_group("Buyers club", owner_id=owner.id)
    await control.add_member(group.id, bot_account.id)
    await control.post(group.id, text="/deals@chainfluence_test_bot")
    await control.post(group.id, text="just chatting")
    await control.promote(group.id, bot_account.id, rights={"can_delete_messages": True})
    await control.post(group.id, text="now the bot reads this")

    updates = await bot.get_updates()

    texts = [u.message.text for u in updates if u.message]
    assert texts == ["/deals@chainfluence_test_bot", "now the bot reads this"]
    assert [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member] == [
        "member",
        "administrator",
    ]


async def test_writing_to_a_group_the_bot_is_not_in_is_forbidden(
    bot: Bot, bot_account: BotAccount, control: TelegramEmulatorControl, owner: UserOut
) -> None:
    group = await control.create_group("Old group", owner_id=owner.id, supergroup=False)
    await control.add_member(group.id, bot_account.id)
    await control.remove_bot(group.id)

    with pytest.raises(Exception, match="Forbidden: bot is not a member of the group chat"):
        await bot.send_message(group.id, "hello")
