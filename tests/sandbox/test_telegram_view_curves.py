"""View curves: a channel's posts gather views with age on the emulator's clock, and the MTProto
stand-in answers the same series with Telethon's objects."""

from __future__ import annotations

import httpx
import pytest
from telethon import functions, types

from chainfluence_sandbox.telegram import BotAccount, RunningEmulator, TelegramEmulatorControl
from chainfluence_sandbox.telegram.client import EmulatorControlError
from chainfluence_sandbox.telegram.mtproto import EmulatedMTProto
from chainfluence_sandbox.telegram.schemas import ChatOut, UserOut

HOUR = 3600


async def _views_over(
    control: TelegramEmulatorControl, channel: ChatOut, ages_h: list[int]
) -> list[int]:
    """Views of one post read at each age (hours after posting)."""
    sent = await control.post(channel.id, text="Market summary", views=0)
    seen: list[int] = []
    age = 0
    for wanted in ages_h:
        await control.advance_clock((wanted - age) * HOUR)
        age = wanted
        seen.append((await control.message(channel.id, sent.message_id)).views)
    return seen


async def test_organic_views_saturate_with_half_the_reach_after_the_half_life(
    control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    await control.set_view_curve(channel.id, "organic", reach=8_000, half_life_hours=12)

    assert await _views_over(control, channel, [0, 1, 12, 24, 72]) == [
        0,
        int(8_000 * (1 - 2 ** (-1 / 12))),  # 442
        4_000,
        6_000,
        (8_000 * (1 - 2 ** (-6))),  # 7,875
    ]


async def test_a_bot_wall_shows_the_same_views_at_every_age(
    control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    await control.set_view_curve(channel.id, "bot_wall", reach=5_000)

    assert await _views_over(control, channel, [0, 1, 24, 72]) == [5_000] * 4


async def test_a_bought_spike_jumps_by_its_views_at_its_hour(
    control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    await control.set_view_curve(
        channel.id, "spike", reach=1_200, half_life_hours=12, spike_at_hours=6, spike_views=9_000
    )

    before, at_spike = await _views_over(control, channel, [5, 6])

    assert before == int(1_200 * (1 - 2 ** (-5 / 12)))
    assert at_spike == int(1_200 * (1 - 2 ** (-6 / 12))) + 9_000


async def test_curve_views_add_to_the_posts_own_and_forwards_follow_views(
    control: TelegramEmulatorControl, channel: ChatOut
) -> None:
    sent = await control.post(channel.id, text="Older post", views=100)
    shown = await control.set_view_curve(channel.id, "bot_wall", reach=2_000, forward_per_mille=15)

    message = await control.message(channel.id, sent.message_id)

    assert (message.views, message.forwards) == (2_100, 31)  # 2,100 * 15 // 1000
    assert shown.view_curve is not None
    assert shown.view_curve.kind == "bot_wall"
    cleared = await control.clear_view_curve(channel.id)
    assert cleared.view_curve is None
    assert (await control.message(channel.id, sent.message_id)).views == 100


async def test_the_mtproto_stand_in_answers_the_curve(
    control: TelegramEmulatorControl,
    channel: ChatOut,
    emulator: RunningEmulator,
    bot_account: BotAccount,
) -> None:
    await control.set_view_curve(
        channel.id, "organic", reach=4_000, half_life_hours=24, forward_per_mille=10
    )
    sent = await control.post(channel.id, text="Weekly digest")
    await control.advance_clock(24 * HOUR)
    client = EmulatedMTProto(emulator.base_url, bot_account.token).client()
    await client.connect()
    await client.sign_in(bot_token=bot_account.token)
    peer = await client.get_input_entity(types.PeerChannel(-channel.id - 1_000_000_000_000))

    answer = await client(
        functions.channels.GetMessagesRequest(peer, [types.InputMessageID(sent.message_id)])
    )

    (message,) = answer.messages
    assert (message.views, message.forwards) == (2_000, 20)
    await client.disconnect()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"kind": "organic", "reach": -1}, 422),
        ({"kind": "organic", "reach": 10, "half_life_hours": 0}, 422),
        ({"kind": "wavy", "reach": 10}, 422),
    ],
)
async def test_a_curve_out_of_range_is_refused(
    emulator: RunningEmulator, channel: ChatOut, body: dict[str, object], status: int
) -> None:
    async with httpx.AsyncClient(base_url=emulator.base_url) as http:
        answer = await http.put(f"/control/chats/{channel.id}/view-curve", json=body)

    assert answer.status_code == status


async def test_only_channels_take_a_curve(control: TelegramEmulatorControl, owner: UserOut) -> None:
    group = await control.create_group("Chatter", owner_id=owner.id)

    with pytest.raises(EmulatorControlError) as refused:
        await control.set_view_curve(group.id, "organic", reach=100)

    assert refused.value.status_code == 400
    assert "channels" in str(refused.value)
