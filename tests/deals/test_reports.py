"""Deal and campaign reports through the public interfaces: deals played to the end in the
marketplace world with the views read over the Telethon code path (the sandbox's MTProto
stand-in), channels whose emulated views follow different curves, the project clock moved to the
ad post's 1 h and 24 h marks."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.config import Settings
from chainfluence.kit.time import utcnow
from chainfluence_sandbox.telegram import RunningEmulator, TelegramEmulatorControl
from chainfluence_sandbox.telegram.schemas import ChatOut
from chainfluence_sandbox.ton import RunningTonEmulator, TonChain
from tests.deals.world import (
    ADVERTISER_ID,
    CHANNEL_USERNAME,
    OPERATOR_ID,
    PUBLISHER_ID,
    TON,
    World,
    build_world,
    onboard,
    running,
)
from tests.factories import eventually

HOLD = 300  # the test format's hold in the world (seconds)
OUTSIDER_ID = 5_000_099


def _with_mtproto(settings: Settings) -> Settings:
    telegram = settings.telegram
    mtproto = telegram.mtproto.model_copy(update={"enabled": True})
    telegram = telegram.model_copy(update={"mtproto": mtproto})
    return settings.model_copy(update={"telegram": telegram})


@pytest.fixture
async def stopped_world(
    db: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    emulator: RunningEmulator,
    control: TelegramEmulatorControl,
    chain: TonChain,
    ton_endpoint: RunningTonEmulator,
) -> World:
    """The onboarded marketplace world, its views read through the bot's MTProto session."""
    built = await build_world(
        database_url=database_url,
        tmp_path=tmp_path,
        emulator=emulator,
        control=control,
        chain=chain,
        ton=ton_endpoint,
    )
    built.settings = _with_mtproto(built.settings)
    async with running(built):
        await onboard(built)
    return built


_COUNTING: contextvars.ContextVar[bool] = contextvars.ContextVar("counting", default=False)


@contextlib.contextmanager
def _statements(world: World) -> Iterator[list[str]]:
    """The SQL statements the app runs meanwhile for this test's own calls.

    The world's background loops (view readings, stats, sweeps) share the engine and may
    run a statement at the same moment; they started before the mark was set, so their
    context never carries it and their statements are not counted.
    """
    seen: list[str] = []

    def record(*args: Any) -> None:
        if _COUNTING.get():
            seen.append(args[2])

    engine = world.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    mark = _COUNTING.set(True)
    try:
        yield seen
    finally:
        _COUNTING.reset(mark)
        event.remove(engine, "before_cursor_execute", record)


def _organic(reach: int, age_seconds: float, half_life_hours: float = 12.0) -> int:
    """The emulator's organic curve (chainfluence_sandbox.telegram.views), for bounds."""
    return int(reach * (1 - 2 ** (-(age_seconds / 3600) / half_life_hours)))


async def _report(world: World, deal_id: int, user_id: int = ADVERTISER_ID) -> dict[str, Any]:
    report: dict[str, Any] = await world.api("GET", f"/v1/deals/{deal_id}/report", user_id)
    return report


async def _deal_reports(world: World, user_id: int) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = await world.api("GET", "/v1/notifications", user_id)
    return [n for n in listed if n["type"] == "deal_report"]


async def _read_at(world: World, deal_id: int, mark: str) -> dict[str, Any]:
    """The report once the ad post's reading at `mark` is in."""
    return await eventually(
        lambda: _report(world, deal_id),
        lambda report: report[mark]["views"] is not None,
    )


async def test_a_finished_deal_reports_views_at_its_marks_and_the_cpm_on_verified_views(
    world: World,
) -> None:
    await world.control.set_view_curve(
        world.channel.id, "organic", reach=4_000, forward_per_mille=10
    )
    deal_id = await world.make_deal(amount="10")
    await world.pay(deal_id)
    await world.until(deal_id, "in_escrow")
    await world.agree_creative(deal_id)
    await world.pass_time(dt.timedelta(hours=1, seconds=5))
    await world.until(deal_id, "live")

    # Live, before any mark: nothing is invented, each mark says when it is due.
    early = await _report(world, deal_id)
    assert early["status"] == "live"
    assert early["views1h"]["views"] is None
    assert early["views1h"]["missing"].startswith("not due yet: due at ")
    assert early["viewsEndOfHold"]["missing"].startswith("not due yet")
    assert early["effectiveCpmNano"] is None
    assert early["cpmMissing"].startswith("no end-of-hold reading: not due yet")
    assert early["spentNano"] is None

    # The hold passes: the post is checked, the publisher paid, the report sent once.
    await world.pass_time(dt.timedelta(seconds=HOLD + 5))
    await world.until(deal_id, "released", timeout=30)
    sent = await eventually(
        lambda: _deal_reports(world, ADVERTISER_ID), lambda found: len(found) == 1
    )
    report = await _report(world, deal_id)
    end = report["viewsEndOfHold"]
    assert end["source"] == "mtproto"
    assert end["ageSeconds"] >= HOLD
    assert _organic(4_000, end["ageSeconds"]) <= end["views"] <= _organic(4_000, HOLD + 60)
    assert end["views"] > 0
    assert end["forwards"] == end["views"] * 10 // 1000
    assert end["reactions"] == 0
    assert report["spentNano"] == str(10 * TON)
    assert report["verifiedViews"] == end["views"]
    assert report["effectiveCpmNano"] == str(10 * TON * 1000 // end["views"])
    assert report["cpmMissing"] is None
    assert [p["result"] for p in report["probes"]] == ["passed"] * len(report["probes"])
    assert report["probes"][-1]["final"] is True
    # The world reads views through the MTProto stand-in: the probes go through it too.
    assert {p["method"] for p in report["probes"]} == {"mtproto"}
    assert report["views1h"]["missing"].startswith("not due yet")
    (notice,) = sent
    assert notice["relatedId"] == deal_id
    assert f"End of hold: {end['views']:,} views (mtproto)" in notice["body"]
    assert "Effective CPM: " in notice["body"]
    # Only the advertiser is sent the report.
    assert await _deal_reports(world, PUBLISHER_ID) == []

    # Sending it again (a repeated job) sends nothing more.
    await world.runtime.queue.enqueue("deals.send_report", {"deal_id": deal_id})
    await world.runtime.queue.drain(timeout=30)
    assert len(await _deal_reports(world, ADVERTISER_ID)) == 1

    # The post stays up after the deal: it is read at 1 h and at 24 h of age.
    await world.pass_time(dt.timedelta(hours=1))
    at_1h = (await _read_at(world, deal_id, "views1h"))["views1h"]
    assert 3_600 <= at_1h["ageSeconds"] < 7_200
    assert at_1h["source"] == "mtproto"
    assert _organic(4_000, 3_600) <= at_1h["views"] <= _organic(4_000, 7_200)
    await world.pass_time(dt.timedelta(hours=23))
    final = await _read_at(world, deal_id, "views24h")
    at_24h = final["views24h"]
    assert 86_400 <= at_24h["ageSeconds"] < 2 * 86_400
    assert _organic(4_000, 86_400) <= at_24h["views"] <= _organic(4_000, 2 * 86_400)
    assert end["views"] < at_1h["views"] < at_24h["views"]
    assert final["latest"]["views"] == at_24h["views"]
    assert final["forwards"] == at_24h["views"] * 10 // 1000
    # The CPM stays on the views verified through the hold.
    assert final["effectiveCpmNano"] == report["effectiveCpmNano"]

    # The publisher sees the report too; nobody else does.
    assert (await _report(world, deal_id, PUBLISHER_ID))["dealId"] == deal_id
    await world.control.create_user("Olga", username="olga_outside", user_id=OUTSIDER_ID)
    await world.api("GET", f"/v1/deals/{deal_id}/report", OUTSIDER_ID, expect=404)


async def test_a_deleted_post_leaves_the_later_marks_empty_with_the_reason(world: World) -> None:
    await world.control.set_view_curve(world.channel.id, "organic", reach=4_000)
    live = await world.live_deal()
    deal_id = live["id"]
    await world.control.delete_post(world.channel.id, live["postId"], by_user_id=PUBLISHER_ID)
    await world.pass_time(dt.timedelta(seconds=HOLD + 5))
    await world.until(deal_id, "refunded", timeout=30)
    await eventually(lambda: _deal_reports(world, ADVERTISER_ID), lambda found: len(found) == 1)

    report = await _report(world, deal_id)
    assert report["spentNano"] == "0"
    assert report["verifiedViews"] is None
    assert report["effectiveCpmNano"] is None
    for mark in ("views1h", "views24h", "viewsEndOfHold"):
        assert report[mark]["views"] is None
        assert report[mark]["missing"] == "the deal ended (refunded) and its post is not read"
    assert "failed" in [p["result"] for p in report["probes"]]


async def _second_channel(world: World, name: str, price: int) -> ChatOut:
    channel = await world.control.create_channel(
        name.title(), owner_id=PUBLISHER_ID, username=name, subscribers=9_000
    )
    await world.control.add_bot_as_admin(channel.id, by_user_id=PUBLISHER_ID)
    listed = await world.api(
        "POST", "/v1/channels", PUBLISHER_ID, expect=201, json={"username": name}
    )
    await world.api(
        "PATCH",
        f"/v1/channels/{listed['id']}",
        PUBLISHER_ID,
        json={
            "category": "crypto",
            "pricing": [{"format": "test", "price": price, "enabled": True}],
        },
    )
    return channel


async def test_a_campaign_report_sums_its_deals_by_channel(world: World) -> None:
    organic = world.channel
    await world.control.set_view_curve(organic.id, "organic", reach=4_000, forward_per_mille=10)
    wall = await _second_channel(world, "wall_ads", 6)
    await world.control.set_view_curve(wall.id, "bot_wall", reach=5_000)
    spike = await _second_channel(world, "spike_ads", 8)
    await world.control.set_view_curve(
        spike.id, "spike", reach=1_200, spike_at_hours=0, spike_views=900
    )
    prices = {organic.id: 10, wall.id: 6, spike.id: 8}
    campaign = await world.api(
        "POST",
        "/v1/campaigns",
        ADVERTISER_ID,
        expect=201,
        json={
            "title": "Escrow ads launch",
            "description": "Tell crypto readers about safe ad deals.",
            "category": "crypto",
            "budget": "50",
            "creativeText": "Chainfluence: Telegram ads with escrow.",
            "preferredFormats": ["test"],
            "preferredCategories": ["crypto"],
        },
    )
    deals: dict[int, int] = {}
    for channel_id, price in prices.items():
        offer = await world.api(
            "POST",
            f"/v1/campaigns/{campaign['id']}/offers",
            PUBLISHER_ID,
            expect=201,
            json={
                "channelId": str(channel_id),
                "amount": str(price),
                "format": "test",
                "proposedDate": (utcnow() + dt.timedelta(hours=1)).isoformat(),
                "message": "Happy to run it.",
            },
        )
        accepted = await world.api("POST", f"/v1/offers/{offer['id']}/accept", ADVERTISER_ID)
        deals[channel_id] = accepted["dealId"]
    for deal_id in deals.values():
        await world.pay(deal_id)
        await world.until(deal_id, "in_escrow")
        await world.agree_creative(deal_id)
    await world.pass_time(dt.timedelta(hours=1, seconds=5))
    for deal_id in deals.values():
        await world.until(deal_id, "live")
    await world.pass_time(dt.timedelta(seconds=HOLD + 5))
    for deal_id in deals.values():
        await world.until(deal_id, "released", timeout=30)
    reports = {
        channel_id: await eventually(
            lambda deal_id=deal_id: _report(world, deal_id),  # type: ignore[misc]
            lambda report: report["verifiedViews"] is not None,
        )
        for channel_id, deal_id in deals.items()
    }

    views = {channel_id: r["verifiedViews"] for channel_id, r in reports.items()}
    assert views[wall.id] == 5_000  # a bot wall shows its views at once
    assert views[spike.id] >= 900
    assert 0 < views[organic.id] < 100
    with _statements(world) as statements:
        summed = await world.api("GET", f"/v1/campaigns/{campaign['id']}/report", ADVERTISER_ID)
    # The deals' readings and checks are read once for the whole campaign, not per deal.
    assert sum("FROM post_view_snapshots" in s for s in statements) == 1
    assert sum("FROM deal_timeline" in s for s in statements) == 1
    assert summed["deals"] == 3
    assert summed["settledDeals"] == 3
    total_spent = sum(prices.values()) * TON
    assert summed["spentNano"] == str(total_spent)
    assert summed["verifiedViews"] == sum(views.values())
    assert summed["effectiveCpmNano"] == str(total_spent * 1000 // sum(views.values()))
    by_channel = {c["channelId"]: c for c in summed["byChannel"]}
    assert set(by_channel) == {str(c) for c in prices}
    for channel_id, price in prices.items():
        row = by_channel[str(channel_id)]
        assert row["deals"] == 1
        assert row["spentNano"] == str(price * TON)
        assert row["verifiedViews"] == views[channel_id]
        assert row["effectiveCpmNano"] == str(price * TON * 1000 // views[channel_id])
        assert row["effectiveCpmNano"] == reports[channel_id]["effectiveCpmNano"]
    assert by_channel[str(organic.id)]["channelUsername"] == CHANNEL_USERNAME
    # Ordered by spend: the 10 TON channel first.
    assert [c["channelId"] for c in summed["byChannel"]] == [
        str(organic.id),
        str(spike.id),
        str(wall.id),
    ]
    assert {d["dealId"] for d in summed["dealReports"]} == set(deals.values())

    # Only the campaign's owner reads it.
    refused = await world.client.get(
        f"/v1/campaigns/{campaign['id']}/report", headers=await world.headers(PUBLISHER_ID)
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_campaign_owner"
    missing = await world.client.get(
        "/v1/campaigns/999999/report", headers=await world.headers(ADVERTISER_ID)
    )
    assert missing.status_code == 404


async def test_a_split_deal_reports_the_share_paid_and_a_missed_mark_says_so(
    world: World,
) -> None:
    await world.control.set_view_curve(world.channel.id, "bot_wall", reach=2_000)
    live = await world.live_deal()
    deal_id = live["id"]
    await world.api(
        "POST",
        f"/v1/deals/{deal_id}/dispute",
        ADVERTISER_ID,
        json={"reason": "The post went out at the wrong hour."},
    )
    await world.api(
        "POST",
        f"/v1/admin/disputes/{deal_id}/resolve",
        OPERATOR_ID,
        json={"outcome": "split", "publisherShareBps": 6000, "note": "Half right."},
    )
    await world.until(deal_id, "split", timeout=30)
    (notice,) = await eventually(
        lambda: _deal_reports(world, ADVERTISER_ID), lambda found: len(found) == 1
    )
    assert "End of hold: — (not due yet" in notice["body"]

    # The post stays up: its end of hold is still read, and the CPM is on what was paid.
    await world.pass_time(dt.timedelta(seconds=HOLD + 5))
    report = await _read_at(world, deal_id, "viewsEndOfHold")
    assert report["spentNano"] == str(10 * TON * 6000 // 10_000)
    assert report["verifiedViews"] == 2_000
    assert report["effectiveCpmNano"] == str(6 * TON * 1000 // 2_000)

    # Nothing read the post between 1 h and 2 h of age (the clock jumps past it): no number.
    await world.pass_time(dt.timedelta(hours=3))
    later = await _report(world, deal_id)
    assert later["views1h"]["views"] is None
    assert later["views1h"]["missing"].startswith("no views provider read the post between ")
    assert later["views24h"]["missing"].startswith("not due yet")
    assert len(await _deal_reports(world, ADVERTISER_ID)) == 1
