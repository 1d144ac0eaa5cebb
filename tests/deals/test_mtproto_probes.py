"""Probes of live ads through the bot's MTProto session (`channels.getMessages`).

The world's runtime reads posts through the production MTProto provider on the sandbox's
Telethon client double, which answers from the Telegram emulator's state. People act through
the emulator (deleting, editing the post) and the HTTP API; the app's own loops run the checks.
The test format's 300 s hold has a random probe in each half, then the final check at 300 s.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest
from telethon import functions

from chainfluence.channels import repository as channels
from chainfluence.deals import verification
from chainfluence.telegram.mtproto import MTProtoViewsProvider
from chainfluence_sandbox.telegram.mtproto import EmulatedMTProto
from tests.deals.world import ADVERTISER_ID, PUBLISHER_ID, World
from tests.factories import eventually

EDITED = "Chainfluence: Telegram ads with escrow. Now on v2!"


def _mtproto(world: World) -> tuple[EmulatedMTProto, list[float]]:
    """The runtime's views providers become the MTProto one, on the emulated MTProto server."""
    runtime = world.runtime
    telegram = runtime.settings.telegram
    assert telegram.emulator_url is not None
    assert telegram.bot_token is not None
    token = telegram.bot_token.get_secret_value()
    server = EmulatedMTProto(telegram.emulator_url, token)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    provider = MTProtoViewsProvider(
        client_factory=server.client, bot_token=token, engine=runtime.engine, sleep=sleep
    )
    runtime.stats_providers[:] = [provider]
    return server, slept


def _reads(server: EmulatedMTProto) -> list[Any]:
    """The probes' `channels.getMessages` calls: the exact ids of a post (the views provider's
    own reads ask for a range of ids beyond the newest known one)."""
    return [
        r
        for r in server.requests
        if isinstance(r, functions.channels.GetMessagesRequest) and len(r.id) == 1
    ]


async def _checks(world: World, deal_id: int) -> list[dict[str, Any]]:
    names = {"post_check_passed", "post_check_unavailable", "violation", "edit_detected"}
    return [e for e in await world.events(deal_id) if e["event"] in names]


async def _each_check(world: World, deal_id: int) -> None:
    """Move the clock to each probe, then to the final check, letting each check happen."""
    for done, seconds in enumerate((143, 150, 10), start=1):
        await world.pass_time(dt.timedelta(seconds=seconds))
        reached = functools.partial(_at_least, done)
        await eventually(lambda: _checks(world, deal_id), reached)


def _at_least(count: int, checks: list[dict[str, Any]]) -> bool:
    return len(checks) >= count


async def _forwards(world: World) -> int:
    return len(await world.control.calls("forwardMessage"))


async def test_a_deleted_post_is_refunded_on_the_mtproto_probe(world: World) -> None:
    server, _ = _mtproto(world)
    deal = await world.live_deal()
    await world.control.clear_calls()

    await world.control.delete_post(world.channel.id, deal["postId"], by_user_id=PUBLISHER_ID)
    await world.pass_time(dt.timedelta(seconds=143))  # the first probe
    await world.until(deal["id"], "refunded", timeout=30)

    (violation,) = [e for e in await _checks(world, deal["id"]) if e["event"] == "violation"]
    assert violation["details"]["reason"] == "The post was deleted before its hold ended."
    assert violation["details"]["method"] == "mtproto"
    assert violation["details"]["mtproto_readings"] == [
        {"message_id": deal["postId"], "empty": True}
    ]
    assert [[i.id for i in r.id] for r in _reads(server)] == [[deal["postId"]]]
    assert await _forwards(world) == 0
    # The signed evidence pack says how the post was checked.
    pack = await world.api("GET", f"/v1/deals/{deal['id']}/evidence", ADVERTISER_ID)
    (probe,) = pack["probes"]
    assert (probe["result"], probe["method"], probe["compared"]) == ("failed", "mtproto", "text")
    assert probe["mtprotoReadings"] == [{"message_id": deal["postId"], "empty": True}]
    assert pack["deal"]["postTextFingerprint"] == probe["expectedTextFingerprint"]
    assert probe["expectedTextFingerprint"].startswith("0x")


async def test_an_edited_post_waits_for_the_advertiser_then_later_probes_pass(
    world: World,
) -> None:
    server, _ = _mtproto(world)
    deal = await world.live_deal()
    await world.control.clear_calls()

    await world.control.edit_post(
        world.channel.id, deal["postId"], text=EDITED, by_user_id=PUBLISHER_ID
    )
    await world.pass_time(dt.timedelta(seconds=143))
    paused = await world.until(deal["id"], "edit_pending")
    await world.api("POST", f"/v1/deals/{deal['id']}/edit/accept", ADVERTISER_ID)
    # The second probe and the final check see the accepted edit: no new edit, the text agrees.
    await world.pass_time(dt.timedelta(seconds=150))
    await eventually(lambda: _checks(world, deal["id"]), lambda checks: len(checks) == 2)
    await world.pass_time(dt.timedelta(seconds=10))
    await world.until(deal["id"], "released", timeout=30)

    assert paused["pendingEdit"]["newText"] == EDITED
    assert paused["pendingEdit"]["oldText"] == "Chainfluence: Telegram ads with escrow."
    assert paused["pendingEdit"]["oldHash"] != paused["pendingEdit"]["newHash"]
    checks = await _checks(world, deal["id"])
    assert [e["event"] for e in checks] == ["edit_detected"] + ["post_check_passed"] * 2
    detected = checks[0]["details"]
    assert (detected["method"], detected["compared"]) == ("mtproto", "text")
    assert detected["edited_at"] is not None
    assert all(e["details"]["method"] == "mtproto" for e in checks[1:])
    assert len(_reads(server)) == 3
    assert await _forwards(world) == 0


async def test_an_unchanged_post_is_released_and_its_views_join_the_series(
    world: World,
) -> None:
    server, _ = _mtproto(world)
    deal = await world.live_deal()
    await world.control.clear_calls()
    await world.control.set_views(world.channel.id, deal["postId"], 1_234)

    await _each_check(world, deal["id"])
    await world.until(deal["id"], "released", timeout=30)

    checks = await _checks(world, deal["id"])
    assert [e["event"] for e in checks] == ["post_check_passed"] * 3
    assert {e["details"]["method"] for e in checks} == {"mtproto"}
    assert {e["details"]["compared"] for e in checks} == {"text"}
    assert checks[-1]["details"]["final"] is True
    assert checks[-1]["details"]["mtproto_readings"][0]["views"] == 1_234
    async with world.runtime.session(write=False) as session:
        first = dt.datetime.fromisoformat(checks[0]["details"]["read_at"])
        series = {
            s.taken_at: (s.views, s.source)
            for s in await channels.snapshots_since(session, world.channel.id, first)
            if s.message_id == deal["postId"]
        }
    # Each probe's reading is in the post's view series (the deal's own view marks add theirs).
    for check in checks:
        read_at = dt.datetime.fromisoformat(check["details"]["read_at"])
        assert series[read_at] == (1_234, "mtproto")
    assert len(_reads(server)) == 3
    assert await _forwards(world) == 0


async def test_a_flood_wait_delays_the_probe_and_refunds_nothing(world: World) -> None:
    server, slept = _mtproto(world)
    deal = await world.live_deal()
    await world.control.clear_calls()
    # Telegram asks for two minutes (over the 60 s the provider sleeps through), and the forward
    # probe cannot run either (the channel restricts forwarding).
    server.flood_waits.append(120)
    await world.control.fail_next(
        3,
        method="forwardMessage",
        error_code=400,
        description="Bad Request: message can't be forwarded",
    )

    await world.pass_time(dt.timedelta(seconds=143))
    waited = await eventually(lambda: _checks(world, deal["id"]), bool)
    still = await world.deal(deal["id"])
    await world.control.clear_faults()
    await world.pass_time(dt.timedelta(seconds=160))  # past the wait: MTProto answers again
    await world.until(deal["id"], "released", timeout=30)

    assert still["status"] == "live"
    assert [e["event"] for e in waited] == ["post_check_unavailable"]
    assert "FLOOD_WAIT" in waited[0]["details"]["reason"]
    assert slept == []  # too long to sleep through
    checks = await _checks(world, deal["id"])
    assert "violation" not in [e["event"] for e in checks]
    assert checks[-1]["details"]["method"] == "mtproto"
    assert checks[-1]["details"]["final"] is True


async def test_mtproto_down_falls_back_to_the_forward_probe(world: World) -> None:
    server, _ = _mtproto(world)
    server.down = True
    deal = await world.live_deal()
    await world.control.clear_calls()

    await _each_check(world, deal["id"])
    await world.until(deal["id"], "released", timeout=30)

    checks = await _checks(world, deal["id"])
    assert [e["event"] for e in checks] == ["post_check_passed"] * 3
    assert {e["details"]["method"] for e in checks} == {"forward"}
    assert all("ConnectionError" in e["details"]["mtproto"]["unavailable"] for e in checks)
    assert await _forwards(world) == 3
    assert _reads(server) == []


async def test_a_deleted_post_with_mtproto_down_is_refunded_by_the_forward_probe(
    world: World,
) -> None:
    server, _ = _mtproto(world)
    server.down = True
    deal = await world.live_deal()

    await world.control.delete_post(world.channel.id, deal["postId"], by_user_id=PUBLISHER_ID)
    await world.pass_time(dt.timedelta(seconds=143))
    await world.until(deal["id"], "refunded", timeout=30)

    (violation,) = [e for e in await _checks(world, deal["id"]) if e["event"] == "violation"]
    assert violation["details"]["method"] == "forward"


async def test_one_call_checks_the_live_ads_of_a_channel_together(world: World) -> None:
    server, _ = _mtproto(world)
    first, second = await world.funded_deal(), await world.funded_deal()
    for deal_id in (first, second):
        await world.agree_creative(deal_id)
    await world.pass_time(dt.timedelta(hours=1, seconds=5))
    posts = [(await world.until(deal_id, "live"))["postId"] for deal_id in (first, second)]
    server.requests.clear()

    # Both first probes are due: one call reads both posts (the lower deal id's check leads).
    await world.pass_time(dt.timedelta(seconds=143))
    both = await eventually(
        lambda: _checks(world, second), lambda checks: len(checks) >= 1, timeout=20
    )
    reads = _reads_of(server, posts)
    mine = await _checks(world, first)

    assert sorted(posts) == sorted(set(posts))
    assert [sorted(i.id for i in r.id) for r in reads] == [sorted(posts)]
    assert [e["event"] for e in mine] == ["post_check_passed"]
    assert mine[0]["details"]["read_at"] == both[0]["details"]["read_at"]
    assert {mine[0]["details"]["method"], both[0]["details"]["method"]} == {"mtproto"}


async def test_a_check_of_the_batch_made_meanwhile_does_not_read_the_channel_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks of one channel's ads run as concurrent jobs: the second ad's own job looking
    while the leader is judging the batch leaves the reading to the leader."""
    server, _ = _mtproto(world)
    first, second = await world.funded_deal(), await world.funded_deal()
    for deal_id in (first, second):
        await world.agree_creative(deal_id)
    await world.pass_time(dt.timedelta(hours=1, seconds=5))
    posts = [(await world.until(deal_id, "live"))["postId"] for deal_id in (first, second)]
    server.requests.clear()
    judge = verification._judge
    looked: list[int] = []

    async def judge_then_look(runtime: Any, check: Any, *args: Any, **kwargs: Any) -> None:
        await judge(runtime, check, *args, **kwargs)
        if not looked:  # between the leader's first judgement and its last
            looked.append(check.deal_id)
            await verification.check_live_deal(runtime, second)

    monkeypatch.setattr(verification, "_judge", judge_then_look)
    await world.pass_time(dt.timedelta(seconds=143))
    await eventually(lambda: _checks(world, first), lambda checks: len(checks) >= 1, timeout=20)
    await eventually(lambda: _checks(world, second), lambda checks: len(checks) >= 1, timeout=20)

    assert looked
    assert [sorted(i.id for i in r.id) for r in _reads_of(server, posts)] == [sorted(posts)]
    assert [e["event"] for e in await _checks(world, first)] == ["post_check_passed"]
    assert [e["event"] for e in await _checks(world, second)] == ["post_check_passed"]


def _reads_of(server: EmulatedMTProto, posts: list[int]) -> list[Any]:
    """The probes' calls that asked for any of `posts` (not the views provider's id ranges)."""
    return [
        r
        for r in server.requests
        if isinstance(r, functions.channels.GetMessagesRequest)
        and len(r.id) <= len(posts)
        and {i.id for i in r.id} & set(posts)
    ]
