"""The Telegram emulator through the production aiogram client: every method and its errors."""

from __future__ import annotations

import io

import httpx
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LinkPreviewOptions,
    MenuButtonWebApp,
    Message,
    MessageId,
    MessageOriginChannel,
    WebAppInfo,
)
from aiogram.utils.formatting import Bold, Text, TextLink
from PIL import Image

from chainfluence_sandbox.telegram import BotAccount, RunningEmulator, TelegramEmulatorControl
from chainfluence_sandbox.telegram.schemas import ChatOut, UserOut


def png(width: int = 640, height: int = 480, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


OPEN_DEAL = InlineKeyboardButton(text="Open deal", url="https://t.me/chainfluence_test_bot/app")


# --- the bot and authentication -----------------------------------------------------------------


async def test_get_me_returns_the_bot_as_a_typed_user(bot: Bot, bot_account: BotAccount) -> None:
    me = await bot.get_me()

    assert me.id == bot_account.id
    assert me.is_bot
    assert me.username == "chainfluence_test_bot"


async def test_unknown_token_is_unauthorized_with_telegrams_body(emulator: RunningEmulator) -> None:
    stranger = Bot("123456:not-a-real-token", session=AiohttpSession(api=emulator.api_server))
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{emulator.base_url}/bot123456:nope/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_unknown_method_is_not_found(
    emulator: RunningEmulator, bot_account: BotAccount
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{emulator.base_url}/bot{bot_account.token}/sendTelepathy")
    assert response.status_code == 404
    assert response.json()["description"] == "Not Found: method not found"


async def test_get_and_json_requests_are_understood_like_forms(
    emulator: RunningEmulator, bot_account: BotAccount, channel: ChatOut
) -> None:
    base = f"{emulator.base_url}/bot{bot_account.token}"
    async with httpx.AsyncClient() as client:
        by_query = await client.get(f"{base}/getChat", params={"chat_id": "@ad_friendly"})
        by_json = await client.post(
            f"{base}/sendMessage",
            json={
                "chat_id": channel.id,
                "text": "json body",
                "reply_markup": {
                    "inline_keyboard": [[{"text": "Go", "url": "https://example.org"}]]
                },
            },
        )
    assert by_query.json()["result"]["id"] == channel.id
    sent = by_json.json()["result"]
    assert sent["text"] == "json body"
    assert sent["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://example.org"


async def test_method_names_are_case_insensitive(
    emulator: RunningEmulator, bot_account: BotAccount
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{emulator.base_url}/bot{bot_account.token}/GETME")
    assert response.json()["result"]["id"] == bot_account.id


async def test_commands_and_menu_button_are_stored_and_read_back(
    bot: Bot, subscriber: UserOut
) -> None:
    assert await bot.set_my_commands([BotCommand(command="start", description="Open Chainfluence")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []

    button = MenuButtonWebApp(text="Open", web_app=WebAppInfo(url="https://app.example/"))
    assert await bot.set_chat_menu_button(chat_id=subscriber.id, menu_button=button)

    read = await bot.get_chat_menu_button(chat_id=subscriber.id)
    assert isinstance(read, MenuButtonWebApp)
    assert read.web_app.url == "https://app.example/"


# --- chats and members --------------------------------------------------------------------------


async def test_get_chat_of_public_channel_by_username(bot: Bot, channel: ChatOut) -> None:
    info = await bot.get_chat("@ad_friendly")

    assert isinstance(info, ChatFullInfo)
    assert info.id == channel.id
    assert info.type == "channel"
    assert info.username == "ad_friendly"
    assert str(info.id).startswith("-100")


async def test_private_channel_is_found_by_id_only_once_the_bot_is_in_it(
    bot: Bot, control: TelegramEmulatorControl, owner: UserOut
) -> None:
    private = await control.create_channel("Insiders", owner_id=owner.id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.get_chat(private.id)

    await control.add_bot_as_admin(private.id)

    info = await bot.get_chat(private.id)
    assert info.title == "Insiders"
    assert info.username is None


async def test_unknown_chats_are_chat_not_found(bot: Bot) -> None:
    for chat_id in ("@nobody_here", -1009999999999, 424242):
        with pytest.raises(
            TelegramBadRequest, match=r"^Telegram server says - Bad Request: chat not found$"
        ):
            await bot.get_chat(chat_id)


async def test_get_chat_member_reports_owner_and_bot_rights(
    bot: Bot, bot_account: BotAccount, channel: ChatOut, owner: UserOut
) -> None:
    creator = await bot.get_chat_member(channel.id, owner.id)
    me = await bot.get_chat_member(channel.id, bot_account.id)

    assert isinstance(creator, ChatMemberOwner)
    assert isinstance(me, ChatMemberAdministrator)
    assert me.can_post_messages
    assert me.can_edit_messages
    assert me.can_delete_messages
    assert not me.can_promote_members


async def test_get_chat_member_of_a_person_outside_the_channel_is_left(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    outsider = await control.create_user("Nina")

    member = await bot.get_chat_member(channel.id, outsider.id)

    assert isinstance(member, ChatMemberLeft)


async def test_get_chat_member_of_unknown_user_is_user_not_found(
    bot: Bot, channel: ChatOut
) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: user not found"):
        await bot.get_chat_member(channel.id, 99_999_999)


async def test_member_list_is_inaccessible_in_a_channel_the_bot_does_not_administer(
    bot: Bot, bot_account: BotAccount, control: TelegramEmulatorControl, owner: UserOut
) -> None:
    public = await control.create_channel("Open", owner_id=owner.id, username="open_channel")

    me = await bot.get_chat_member("@open_channel", bot_account.id)
    assert isinstance(me, ChatMemberLeft)
    with pytest.raises(TelegramBadRequest, match="member list is inaccessible"):
        await bot.get_chat_member(public.id, owner.id)
    with pytest.raises(TelegramBadRequest, match="member list is inaccessible"):
        await bot.get_chat_administrators(public.id)


async def test_get_chat_member_count_counts_people_and_subscribers(
    bot: Bot, channel: ChatOut
) -> None:
    # owner + bot + 1,000 subscribers not modelled as users
    assert await bot.get_chat_member_count(channel.id) == 1_002


async def test_get_chat_administrators_lists_creator_first(
    bot: Bot, bot_account: BotAccount, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    editor = await control.create_user("Eve")
    await control.add_member(channel.id, editor.id)
    await control.promote(channel.id, editor.id, rights={"can_post_messages": True})

    admins = await bot.get_chat_administrators(channel.id)

    assert isinstance(admins[0], ChatMemberOwner)
    assert {a.user.id for a in admins[1:]} == {bot_account.id, editor.id}


async def test_leave_chat_removes_the_bot(
    bot: Bot, bot_account: BotAccount, channel: ChatOut
) -> None:
    assert await bot.leave_chat(channel.id)

    assert isinstance(await bot.get_chat_member(channel.id, bot_account.id), ChatMemberLeft)
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the channel chat"):
        await bot.send_message(channel.id, "still here?")


# --- sending --------------------------------------------------------------------------------------


async def test_send_message_with_html_keyboard_and_link_preview(
    bot: Bot, channel: ChatOut, control: TelegramEmulatorControl
) -> None:
    sent = await bot.send_message(
        channel.id,
        "🚀 <b>Launch</b> <a href='https://example.org/x'>today</a> #ton",
        parse_mode="HTML",
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_markup=keyboard(OPEN_DEAL),
    )

    assert isinstance(sent, Message)
    assert sent.sender_chat is not None
    assert sent.sender_chat.id == channel.id
    assert sent.from_user is None
    assert sent.text == "🚀 Launch today #ton"
    entities = [(e.type, e.offset, e.length) for e in sent.entities or []]
    # offsets count UTF-16 code units: the rocket is two
    assert entities == [("bold", 3, 6), ("text_link", 10, 5), ("hashtag", 16, 4)]
    assert sent.link_preview_options is not None
    assert sent.link_preview_options.is_disabled
    assert sent.reply_markup is not None
    [stored] = await control.messages(channel.id, sent_by_bot=True)
    assert stored.message_id == sent.message_id
    assert stored.buttons() == [{"text": "Open deal", "url": OPEN_DEAL.url}]


async def test_send_message_with_explicit_entities_from_aiogram_formatting(
    bot: Bot, channel: ChatOut
) -> None:
    content = Text("Buy ", Bold("now"), " at ", TextLink("shop", url="https://shop.example"))

    sent = await bot.send_message(channel.id, **content.as_kwargs())

    assert sent.text == "Buy now at shop"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("bold", 4, 3),
        ("text_link", 11, 4),
    ]


async def test_web_app_button_works_in_private_chats_and_is_refused_in_channels(
    bot: Bot, channel: ChatOut, subscriber: UserOut
) -> None:
    app_button = InlineKeyboardButton(
        text="Open app", web_app=WebAppInfo(url="https://app.example/deal/42")
    )

    sent = await bot.send_message(subscriber.id, "Your deal", reply_markup=keyboard(app_button))
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].web_app is not None

    with pytest.raises(TelegramBadRequest, match="BUTTON_TYPE_INVALID"):
        await bot.send_message(channel.id, "Ad", reply_markup=keyboard(app_button))


async def test_button_without_action_and_bad_url_are_refused(bot: Bot, channel: ChatOut) -> None:
    base = "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
    with pytest.raises(TelegramBadRequest, match=base):
        await bot.send_message(
            channel.id, "x", reply_markup=keyboard(InlineKeyboardButton(text="?"))
        )
    bad = InlineKeyboardButton(text="x", url="javascript:alert(1)")
    with pytest.raises(TelegramBadRequest, match="BUTTON_URL_INVALID"):
        await bot.send_message(channel.id, "x", reply_markup=keyboard(bad))


async def test_posting_without_the_post_right_needs_administrator_rights(
    bot: Bot, bot_account: BotAccount, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    await control.promote(channel.id, bot_account.id, rights={"can_edit_messages": True})

    with pytest.raises(
        TelegramBadRequest, match="Bad Request: need administrator rights in the channel chat"
    ):
        await bot.send_message(channel.id, "Ad")


async def test_posting_after_removal_is_forbidden_not_a_member(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    await control.remove_bot(channel.id)

    with pytest.raises(
        TelegramForbiddenError, match="Forbidden: bot is not a member of the channel chat"
    ):
        await bot.send_message(channel.id, "Ad")


async def test_writing_to_a_person_who_never_started_the_bot_is_forbidden(
    bot: Bot, control: TelegramEmulatorControl
) -> None:
    stranger = await control.create_user("Quiet")

    with pytest.raises(
        TelegramForbiddenError, match="Forbidden: bot can't initiate conversation with a user"
    ):
        await bot.send_message(stranger.id, "Hello")


async def test_writing_to_a_person_who_blocked_the_bot_is_forbidden_until_unblocked(
    bot: Bot, control: TelegramEmulatorControl, subscriber: UserOut
) -> None:
    await control.block_bot(subscriber.id)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(subscriber.id, "Deal update")

    await control.unblock_bot(subscriber.id)
    await bot.send_message(subscriber.id, "Deal update")

    pushed = await control.messages(subscriber.id, sent_by_bot=True)
    assert [m.text for m in pushed] == ["Deal update"]


async def test_empty_text_and_empty_chat_id_are_refused(bot: Bot, channel: ChatOut) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(channel.id, "   ")
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat_id is empty"):
        await bot.send_message("", "Hello")


async def test_too_long_text_and_broken_html_are_refused(bot: Bot, channel: ChatOut) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(channel.id, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await bot.send_message(channel.id, "<blink>x</blink>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Can't find end tag corresponding to start tag"):
        await bot.send_message(channel.id, "<b>x", parse_mode="HTML")


async def test_photo_upload_and_download_round_trip(bot: Bot, channel: ChatOut) -> None:
    original = png(1600, 900)

    sent = await bot.send_photo(
        channel.id,
        BufferedInputFile(original, "cover.png"),
        caption="<i>Spring</i> sale",
        parse_mode="HTML",
    )

    assert sent.photo is not None
    assert [(p.width, p.height) for p in sent.photo] == [
        (90, 51),
        (320, 180),
        (800, 450),
        (1280, 720),
        (1600, 900),
    ]
    assert sent.caption == "Spring sale"
    assert sent.caption_entities is not None
    assert sent.caption_entities[0].type == "italic"
    largest = sent.photo[-1]
    file = await bot.get_file(largest.file_id)
    assert file.file_path is not None
    assert file.file_size == largest.file_size
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None
    with Image.open(downloaded) as image:
        assert image.size == (1600, 900)
        assert image.format == "JPEG"


async def test_document_upload_keeps_its_name_and_bytes(
    bot: Bot, channel: ChatOut, control: TelegramEmulatorControl
) -> None:
    content = b'{"deal": {"id": 7}}'

    sent = await bot.send_document(
        channel.id,
        BufferedInputFile(content, "deal-7.json"),
        caption="<b>Deal #7</b> finished",
        parse_mode="HTML",
    )
    again = await bot.send_document(channel.id, sent.document.file_id if sent.document else "")
    seen = await control.message(channel.id, sent.message_id)

    assert sent.document is not None
    assert sent.document.file_name == "deal-7.json"
    assert sent.document.file_size == len(content)
    assert sent.caption == "Deal #7 finished"
    assert sent.caption_entities is not None
    assert sent.caption_entities[0].type == "bold"
    downloaded = await bot.download(sent.document.file_id)
    assert downloaded is not None
    assert downloaded.read() == content
    assert again.document == sent.document
    assert seen.document is not None
    assert seen.document["file_name"] == "deal-7.json"
    with pytest.raises(TelegramBadRequest, match="there is no document in the request"):
        await bot.send_document(channel.id, "AgACAgIAAxkBAAnope")


async def test_photo_by_file_id_reuses_every_size(bot: Bot, channel: ChatOut) -> None:
    first = await bot.send_photo(channel.id, BufferedInputFile(png(), "a.png"))
    assert first.photo is not None

    again = await bot.send_photo(channel.id, first.photo[0].file_id)

    assert again.photo == first.photo


async def test_unknown_file_ids_are_refused(bot: Bot, channel: ChatOut) -> None:
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_photo(channel.id, "AgACAgIAAxkBAAnope")
    with pytest.raises(TelegramBadRequest, match="Bad Request: invalid file_id"):
        await bot.get_file("AgACAgIAAxkBAAnope")


async def test_file_download_of_unknown_path_is_not_found(
    emulator: RunningEmulator, bot_account: BotAccount
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{emulator.base_url}/file/bot{bot_account.token}/photos/missing.jpg"
        )
    assert response.status_code == 404


async def test_media_group_shares_one_media_group_id(bot: Bot, channel: ChatOut) -> None:
    album = await bot.send_media_group(
        channel.id,
        [
            InputMediaPhoto(media=BufferedInputFile(png(color=(1, 1, 1)), "1.png"), caption="One"),
            InputMediaPhoto(media=BufferedInputFile(png(color=(2, 2, 2)), "2.png")),
        ],
    )

    assert len(album) == 2
    assert album[0].media_group_id
    assert album[0].media_group_id == album[1].media_group_id
    assert album[0].caption == "One"
    assert album[1].caption is None
    assert album[1].message_id == album[0].message_id + 1


async def test_copy_message_returns_the_new_id_and_copies_the_content(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut, subscriber: UserOut
) -> None:
    original = await bot.send_message(channel.id, "<b>Ad</b> text", parse_mode="HTML")

    copied = await bot.copy_message(subscriber.id, channel.id, original.message_id)

    assert isinstance(copied, MessageId)
    stored = await control.message(subscriber.id, copied.message_id)
    assert stored.text == "Ad text"
    assert stored.entities == [{"type": "bold", "offset": 0, "length": 2}]
    assert stored.forward_origin is None


async def test_forward_message_carries_the_channel_origin(
    bot: Bot, channel: ChatOut, subscriber: UserOut
) -> None:
    original = await bot.send_message(channel.id, "Probe me")

    forwarded = await bot.forward_message(subscriber.id, channel.id, original.message_id)

    assert forwarded.text == "Probe me"
    assert isinstance(forwarded.forward_origin, MessageOriginChannel)
    assert forwarded.forward_origin.message_id == original.message_id
    assert forwarded.forward_origin.chat.id == channel.id


async def test_probing_a_deleted_post_fails_with_message_to_forward_not_found(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut, subscriber: UserOut
) -> None:
    original = await bot.send_message(channel.id, "Ad that will vanish")
    await control.delete_post(channel.id, original.message_id)

    with pytest.raises(TelegramBadRequest, match="Bad Request: message to forward not found"):
        await bot.forward_message(subscriber.id, channel.id, original.message_id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to copy not found"):
        await bot.copy_message(subscriber.id, channel.id, original.message_id)


async def test_forward_reveals_an_edit_made_by_a_person(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut, subscriber: UserOut
) -> None:
    original = await bot.send_message(channel.id, "Approved ad")
    await control.edit_post(channel.id, original.message_id, text="Changed ad")

    forwarded = await bot.forward_message(subscriber.id, channel.id, original.message_id)

    assert forwarded.text == "Changed ad"


# --- editing and deleting -----------------------------------------------------------------------


async def test_edit_message_text_sets_edit_date_and_replaces_the_keyboard(
    bot: Bot, channel: ChatOut
) -> None:
    sent = await bot.send_message(channel.id, "Draft", reply_markup=keyboard(OPEN_DEAL))

    edited = await bot.edit_message_text(
        text="Final", chat_id=channel.id, message_id=sent.message_id
    )

    assert isinstance(edited, Message)
    assert edited.text == "Final"
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard


async def test_editing_to_the_same_content_is_message_not_modified(
    bot: Bot, channel: ChatOut
) -> None:
    sent = await bot.send_message(channel.id, "Same", reply_markup=keyboard(OPEN_DEAL))

    with pytest.raises(TelegramBadRequest) as raised:
        await bot.edit_message_text(
            text="Same",
            chat_id=channel.id,
            message_id=sent.message_id,
            reply_markup=keyboard(OPEN_DEAL),
        )
    assert raised.value.message == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )


async def test_editing_a_missing_message_is_message_to_edit_not_found(
    bot: Bot, channel: ChatOut
) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=channel.id, message_id=9999)


async def test_edit_caption_and_reply_markup(bot: Bot, channel: ChatOut) -> None:
    sent = await bot.send_photo(channel.id, BufferedInputFile(png(), "p.png"), caption="Old")

    captioned = await bot.edit_message_caption(
        chat_id=channel.id, message_id=sent.message_id, caption="New"
    )
    marked = await bot.edit_message_reply_markup(
        chat_id=channel.id, message_id=sent.message_id, reply_markup=keyboard(OPEN_DEAL)
    )

    assert isinstance(captioned, Message)
    assert captioned.caption == "New"
    assert isinstance(marked, Message)
    assert marked.reply_markup is not None
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text(text="x", chat_id=channel.id, message_id=sent.message_id)


async def test_editing_a_persons_post_needs_can_edit_messages(
    bot: Bot, bot_account: BotAccount, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    post = await control.post(channel.id, text="Owner's post")
    await control.promote(channel.id, bot_account.id, rights={"can_post_messages": True})

    with pytest.raises(TelegramBadRequest, match="Bad Request: message can't be edited"):
        await bot.edit_message_text(text="Hijacked", chat_id=channel.id, message_id=post.message_id)


async def test_delete_own_post_then_again_is_message_to_delete_not_found(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    sent = await bot.send_message(channel.id, "Short-lived")

    assert await bot.delete_message(channel.id, sent.message_id)

    [stored] = await control.messages(channel.id, include_deleted=True)
    assert stored.deleted_at is not None
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(channel.id, sent.message_id)


async def test_delete_is_refused_after_48_hours(
    bot: Bot, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    sent = await bot.send_message(channel.id, "Eternal ad")
    await control.advance_clock(48 * 3600)

    with pytest.raises(TelegramBadRequest, match="Bad Request: message can't be deleted"):
        await bot.delete_message(channel.id, sent.message_id)


async def test_deleting_a_persons_post_needs_can_delete_messages(
    bot: Bot, bot_account: BotAccount, control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    post = await control.post(channel.id, text="Owner's post")
    await control.promote(channel.id, bot_account.id, rights={"can_post_messages": True})
    own = await bot.send_message(channel.id, "Bot's post")

    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(channel.id, post.message_id)
    assert await bot.delete_message(channel.id, own.message_id)
