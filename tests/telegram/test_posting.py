"""Deal primitives against the emulator: publish a creative, probe it (edited, deleted), find a
post whose publish timed out, read the bot's rights."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from aiogram import Bot

from chainfluence.telegram import posting
from chainfluence.telegram.mtproto import MTProtoViewsProvider
from chainfluence.telegram.posting import Button, Creative
from chainfluence_sandbox.telegram import TelegramEmulatorControl
from chainfluence_sandbox.telegram.mtproto import EmulatedMTProto
from chainfluence_sandbox.telegram.schemas import ChatOut, UserOut
from tests.conftest import runtime_of
from tests.factories import image_bytes

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
async def world(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> tuple[Bot, UserOut, ChatOut, int]:
    """The app's bot, a channel it administers, and a private service chat it belongs to."""
    owner = await control.create_user("Olga", username="olga_owner")
    chat = await control.create_channel("Ad Friendly", owner_id=owner.id, username="ad_friendly")
    await control.add_bot_as_admin(chat.id, by_user_id=owner.id)
    service = await control.create_group("Post checks", owner_id=owner.id)
    await control.add_member(service.id, (await control.bot()).id, by_user_id=owner.id)
    bot = runtime_of(client).bot
    assert bot is not None
    return bot, owner, chat, service.id


def _upload(client: httpx.AsyncClient, file_id: str) -> None:
    settings = runtime_of(client).settings.uploads
    path: Path = settings.dir / file_id[:2] / file_id
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_bytes(size=(64, 48)))


CREATIVE = Creative(
    text="Try Chainfluence: ads with escrow",
    entities=[{"type": "bold", "offset": 0, "length": 15}],
    buttons=[[Button("Open", "https://t.me/chainfluence_bot/app?startapp=deal_42")]],
)


async def test_publish_then_probe_sees_it_unchanged_then_edited_then_deleted(
    client: httpx.AsyncClient,
    control: TelegramEmulatorControl,
    world: tuple[Bot, UserOut, ChatOut, int],
) -> None:
    bot, owner, chat, service_chat = world

    published = await posting.publish(bot, runtime_of(client).settings.uploads, chat.id, CREATIVE)

    [post] = await control.messages(chat.id, sent_by_bot=True)
    assert published.message_ids == [post.message_id]
    assert post.entities[0]["type"] == "bold"
    assert post.buttons()[0]["url"].endswith("startapp=deal_42")
    assert published.fingerprint.startswith("0x")
    assert len(published.fingerprint) == 66
    probe = await posting.probe_post(bot, service_chat, chat.id, published.message_ids)
    assert probe.matches(published)
    # The forwarded copy was removed from the service chat.
    assert await control.messages(service_chat, sent_by_bot=True) == []

    await control.edit_post(
        chat.id, post.message_id, text="Changed by the owner", by_user_id=owner.id
    )
    edited = await posting.probe_post(bot, service_chat, chat.id, published.message_ids)
    assert not edited.deleted
    assert not edited.matches(published)

    await control.delete_post(chat.id, post.message_id, by_user_id=owner.id)
    gone = await posting.probe_post(bot, service_chat, chat.id, published.message_ids)
    assert gone.deleted
    assert not gone.matches(published)


@pytest.mark.parametrize("images", [1, 3])
async def test_publish_images_as_a_photo_or_an_album(
    client: httpx.AsyncClient,
    control: TelegramEmulatorControl,
    world: tuple[Bot, UserOut, ChatOut, int],
    images: int,
) -> None:
    bot, _, chat, service_chat = world
    file_ids = [f"upload{index:02d}abcdef" for index in range(images)]
    for file_id in file_ids:
        _upload(client, file_id)
    creative = Creative(
        text="Caption", images=file_ids, buttons=CREATIVE.buttons if images == 1 else ()
    )

    published = await posting.publish(bot, runtime_of(client).settings.uploads, chat.id, creative)

    posts = await control.messages(chat.id, sent_by_bot=True)
    assert [p.message_id for p in posts] == published.message_ids
    assert len(posts) == images
    assert posts[0].caption == "Caption"
    probe = await posting.probe_post(bot, service_chat, chat.id, published.message_ids)
    assert probe.matches(published)


@pytest.mark.parametrize(
    ("creative", "words"),
    [
        (Creative(text=""), "needs text"),
        (Creative(text="x" * 4097), "at most 4096"),
        (Creative(text="x" * 1025, images=["a"]), "at most 1024"),
        (Creative(text="x", images=["a"] * 11), "at most 10 images"),
        (Creative(text="x", images=["a", "b"], buttons=CREATIVE.buttons), "album"),
        (Creative(text="x", buttons=[[Button("Open", "javascript:alert(1)")]]), "https://"),
    ],
)
def test_creatives_telegram_would_refuse_are_caught_before_sending(
    creative: Creative, words: str
) -> None:
    with pytest.raises(posting.CreativeNotPublishable, match=words):
        posting.check_publishable(creative)


async def test_a_publish_whose_outcome_is_unknown_can_be_found(
    client: httpx.AsyncClient,
    control: TelegramEmulatorControl,
    world: tuple[Bot, UserOut, ChatOut, int],
) -> None:
    bot, owner, chat, service_chat = world
    before = await control.post(chat.id, text="An earlier post", by_user_id=owner.id)
    published = await posting.publish(bot, runtime_of(client).settings.uploads, chat.id, CREATIVE)

    found = await posting.find_published(
        bot, service_chat, chat.id, CREATIVE, after_message_id=before.message_id
    )
    missing = await posting.find_published(
        bot, service_chat, chat.id, CREATIVE, after_message_id=published.message_ids[-1]
    )

    assert found is not None
    assert found.message_ids == published.message_ids
    assert found.content_fingerprint == published.content_fingerprint
    assert missing is None


async def test_bot_rights_report_what_the_bot_may_do_now(
    control: TelegramEmulatorControl, world: tuple[Bot, UserOut, ChatOut, int]
) -> None:
    bot, owner, chat, _ = world
    assert (await posting.bot_rights(bot, chat.id)).missing == []

    await control.add_bot_as_admin(chat.id, rights={"can_post_messages": True}, by_user_id=owner.id)

    rights = await posting.bot_rights(bot, chat.id)
    assert rights.is_admin
    assert rights.missing == ["can_edit_messages", "can_delete_messages"]


RICH_TEXT = (
    "Try Chainfluence: ads with escrow. Docs: https://chainfluence.example @chainfluence #ads "
    "print(1) block"
)


def _entity(kind: str, part: str, **extra: str) -> dict[str, object]:
    return {"type": kind, "offset": RICH_TEXT.index(part), "length": len(part), **extra}


RICH = Creative(
    text=RICH_TEXT,
    entities=[
        _entity("bold", "Try Chainfluence"),
        _entity("italic", "ads"),
        _entity("underline", "with"),
        _entity("strikethrough", "escrow"),
        _entity("text_link", "Docs", url="https://chainfluence.example/docs"),
        _entity("spoiler", "#ads"),
        _entity("code", "print(1)"),
        _entity("pre", "block", language="python"),
    ],
)


@pytest.mark.parametrize("creative", [CREATIVE, RICH], ids=["bold", "many-entities"])
async def test_the_mtproto_reading_of_a_post_has_the_text_fingerprint_of_its_publishing(
    client: httpx.AsyncClient,
    control: TelegramEmulatorControl,
    world: tuple[Bot, UserOut, ChatOut, int],
    creative: Creative,
) -> None:
    """What the publish and the forward probe fingerprint (Bot API entities) and what MTProto
    shows (its entity objects, turned back into the Bot API's spelling) agree."""
    bot, owner, chat, service_chat = world
    runtime = runtime_of(client)
    token = runtime.settings.telegram.bot_token
    assert token is not None
    server = EmulatedMTProto(str(runtime.settings.telegram.emulator_url), token.get_secret_value())
    reader = MTProtoViewsProvider(
        client_factory=server.client, bot_token=token.get_secret_value(), engine=runtime.engine
    )

    published = await posting.publish(bot, runtime.settings.uploads, chat.id, creative)
    probe = await posting.probe_post(bot, service_chat, chat.id, published.message_ids)
    read = await reader.read_posts(channel_id=chat.id, message_ids=published.message_ids)
    await control.edit_post(chat.id, published.message_ids[0], text="Changed", by_user_id=owner.id)
    edited = await reader.read_posts(channel_id=chat.id, message_ids=published.message_ids)

    [reading] = [read.messages[i] for i in published.message_ids]
    assert reading is not None
    seen = posting.text_fingerprint_of([(reading.text, reading.entities)])
    assert published.text_fingerprint is not None
    assert seen == published.text_fingerprint == probe.text_fingerprint
    # Every entity of the creative came through MTProto (Telegram may add its own: urls...).
    shown = {(e["type"], e["offset"], e["length"]) for e in reading.entities}
    assert {(e["type"], e["offset"], e["length"]) for e in creative.entities} <= shown
    assert reading.edited_at is None
    [changed] = [edited.messages[i] for i in published.message_ids]
    assert changed is not None
    assert changed.edited_at is not None
    assert posting.text_fingerprint_of([(changed.text, changed.entities)]) != seen
