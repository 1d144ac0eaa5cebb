"""The bot over real HTTP: the app's aiogram bot long-polls the emulator (as under `serve`)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from chainfluence_sandbox.telegram import TelegramEmulatorControl
from tests.channels.world import publisher
from tests.conftest import WEB_APP_URL
from tests.factories import eventually, login

pytestmark = pytest.mark.usefixtures("db", "bot_polling")


@pytest.mark.parametrize(
    ("payload", "start_param", "button"),
    [
        ("deal_42", "deal_42", "Open deal"),
        ("channel_add", "channel_add", "Open app"),
        ("campaign_7", "campaign_7", "Open app"),
        ("offer_3", "offer_3", "Open app"),
        (None, None, "Open app"),
        ("<script>", None, "Open app"),
    ],
)
async def test_start_answers_with_a_web_app_button_opening_the_mini_app_in_context(
    client: httpx.AsyncClient,
    control: TelegramEmulatorControl,
    payload: str | None,
    start_param: str | None,
    button: str,
) -> None:
    person = await control.create_user("Dana", username="dana_new")

    await control.start_bot(person.id, payload)

    [reply] = await eventually(
        lambda: control.messages(person.id, sent_by_bot=True), lambda found: len(found) == 1
    )
    [only] = reply.buttons()
    assert only["text"] == button
    url = only["web_app"]["url"]
    assert url.startswith(WEB_APP_URL)
    query = parse_qs(urlsplit(url).query)
    assert query.get("tgWebAppStartParam") == ([start_param] if start_param else None)
    if payload == "deal_42":
        assert reply.text == "Your deal #42 is waiting for you in Chainfluence."
    # Whoever pressed Start is one of our users now, before ever opening the Mini App.
    profile = await client.get(f"/v1/users/{person.id}")
    assert profile.status_code == 200
    assert profile.json()["firstName"] == "Dana"


async def test_without_a_web_app_url_the_button_is_a_direct_link_carrying_the_context(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    from chainfluence.telegram.links import open_app_button
    from tests.conftest import runtime_of

    settings = runtime_of(client).settings.telegram.model_copy(update={"web_app_url": None})
    assert open_app_button(settings, "Open", "deal_42").url == (
        "https://t.me/chainfluence_bot/app?startapp=deal_42"
    )


async def test_start_lifts_a_block_and_makes_pushes_possible_again(
    client: httpx.AsyncClient, control: TelegramEmulatorControl
) -> None:
    owner = await publisher(client, control)
    await control.start_bot(owner.user.id)
    await control.block_bot(owner.user.id)
    await control.unblock_bot(owner.user.id)
    await control.start_bot(owner.user.id, "channel_add")

    replies = await eventually(
        lambda: control.messages(owner.user.id, sent_by_bot=True), lambda found: len(found) == 2
    )
    # The bot handles updates concurrently, so the two replies may arrive in either order.
    texts = sorted(reply.text or "" for reply in replies)
    assert "add this bot to it as an administrator" in texts[0]
    assert texts[1].startswith("Welcome to Chainfluence")
    headers = await login(client, owner.user.id)
    assert (await client.get("/v1/users/me", headers=headers)).status_code == 200
