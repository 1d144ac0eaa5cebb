"""The deal report: what the advertiser bought, from our own readings and checks.

Views of the ad post at 1 h, 24 h and the end of the hold come from the post view series
(`deals.views`); a mark with no reading in its window is null with the reason, never estimated.
Forwards and reactions are the newest reading's. The effective CPM is the cost per 1,000 verified
views in nanotons, integer arithmetic rounded down: cost × 1000 ÷ views, where the views are the
end-of-hold reading (the post was checked up through the hold) and the cost is what the
advertiser paid in the end (`spent`: the price when released, the publisher's share of it when
split, nothing when refunded), or the agreed price while the deal is not settled. The checks are
the timeline's probe entries (time, result, method).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.deals import schemas, views
from chainfluence.kit.money import format_ton
from chainfluence.kit.time import utcnow
from chainfluence.models import Channel, Deal, DealEvent, DealStatus, PostViewSnapshot

# Timeline entries that are checks of the live post, and their result.
PROBE_RESULTS = {
    "post_check_passed": "passed",
    "violation": "failed",
    "edit_detected": "edited",
    "post_check_unavailable": "unavailable",
}
BPS = 10_000


def spent_nano(deal: Deal) -> int | None:
    """What the advertiser paid in the end; None while the deal is not settled."""
    if deal.status is DealStatus.released:
        return deal.price_nano
    if deal.status is DealStatus.split_paid:
        share = int((deal.dispute_outcome or {}).get("publisher_share_bps", 0))
        return deal.price_nano * share // BPS
    if deal.status in (DealStatus.refunded, DealStatus.cancelled):
        return 0
    return None


def _ended_at(deal: Deal) -> dt.datetime | None:
    if deal.status in views.NOT_READ:
        return deal.refunded_at or deal.cancelled_at or deal.updated_at
    return None


def _iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


def _reading(
    mark: str, due_at: dt.datetime | None, snapshot: PostViewSnapshot
) -> schemas.ViewsReading:
    return schemas.ViewsReading(
        mark=mark,
        due_at=due_at,
        views=snapshot.views,
        forwards=snapshot.forwards,
        reactions=snapshot.reactions,
        source=snapshot.source,
        taken_at=snapshot.taken_at,
        age_seconds=snapshot.age_seconds,
        missing=None,
    )


def _missing(mark: str, due_at: dt.datetime | None, why: str) -> schemas.ViewsReading:
    return schemas.ViewsReading(
        mark=mark,
        due_at=due_at,
        views=None,
        forwards=None,
        reactions=None,
        source=None,
        taken_at=None,
        age_seconds=None,
        missing=why,
    )


def _mark_reading(
    deal: Deal, name: str, readings: Sequence[PostViewSnapshot], now: dt.datetime
) -> schemas.ViewsReading:
    if deal.posted_at is None:
        return _missing(name, None, "the post was not published")
    mark = next((m for m in views.marks(deal) if m.name == name), None)
    if mark is None:
        return _missing(name, None, "the deal has no hold end")
    found = views.reading_for(mark, readings, deal.posted_at)
    if found is not None:
        return _reading(name, mark.due_at, found)
    ended = _ended_at(deal)
    if ended is not None and ended < mark.until:
        return _missing(
            name, mark.due_at, f"the deal ended ({deal.status.value}) and its post is not read"
        )
    if now < mark.due_at:
        return _missing(name, mark.due_at, f"not due yet: due at {_iso(mark.due_at)}")
    if now < mark.until:
        window = f"due at {_iso(mark.due_at)}, read until {_iso(mark.until)}"
        return _missing(name, mark.due_at, f"not read yet: {window}")
    return _missing(
        name,
        mark.due_at,
        f"no views provider read the post between {_iso(mark.due_at)} and {_iso(mark.until)}",
    )


def _probe(entry: DealEvent) -> schemas.ProbeCheck | None:
    result = PROBE_RESULTS.get(entry.event)
    details = entry.details or {}
    # A violation reported by Telegram's edit update (not a check) carries no check details.
    if result is None or (result == "failed" and "checked_at" not in details):
        return None
    checked = details.get("checked_at")
    return schemas.ProbeCheck(
        checked_at=dt.datetime.fromisoformat(checked) if checked else entry.created_at,
        result=result,
        # Checks that do not name their method were made through a forwarded copy.
        method=str(details.get("method") or "forward"),
        final=bool(details.get("final", False)),
        reason=details.get("violation") or details.get("reason"),
    )


async def build(session: AsyncSession, deal: Deal) -> schemas.DealReport:
    (report,) = await build_many(session, [deal])
    return report


async def build_many(session: AsyncSession, deals: Sequence[Deal]) -> list[schemas.DealReport]:
    """The deals' reports, in their order, from three queries whatever their number."""
    now = utcnow()
    held = await views.readings_of(session, deals)
    channel_ids = {deal.channel_id for deal in deals}
    usernames: dict[int, str | None] = {}
    checks: dict[int, list[schemas.ProbeCheck]] = {}
    if deals:
        statement = select(Channel.id, Channel.username).where(Channel.id.in_(channel_ids))
        usernames = {row.id: row.username for row in await session.execute(statement)}
        entries = (
            select(DealEvent)
            .where(
                DealEvent.deal_id.in_([deal.id for deal in deals]),
                DealEvent.event.in_(list(PROBE_RESULTS)),
            )
            .order_by(DealEvent.deal_id, DealEvent.id)
        )
        for entry in (await session.execute(entries)).scalars():
            if (probe := _probe(entry)) is not None:
                checks.setdefault(entry.deal_id, []).append(probe)
    return [
        _report(deal, held.get(deal.id, []), usernames.get(deal.channel_id), checks, now)
        for deal in deals
    ]


def _report(
    deal: Deal,
    held: Sequence[PostViewSnapshot],
    username: str | None,
    checks: dict[int, list[schemas.ProbeCheck]],
    now: dt.datetime,
) -> schemas.DealReport:
    at_1h = _mark_reading(deal, "1h", held, now)
    at_24h = _mark_reading(deal, "24h", held, now)
    end = _mark_reading(deal, "endOfHold", held, now)
    latest = _reading("latest", None, held[-1]) if held else None
    spent = spent_nano(deal)
    cost = deal.price_nano if spent is None else spent
    cpm: int | None = None
    cpm_missing: str | None = None
    if end.views is None:
        cpm_missing = f"no end-of-hold reading: {end.missing}"
    elif end.views == 0:
        cpm_missing = "the post had no views at the end of the hold"
    elif cost == 0:
        cpm_missing = f"nothing was paid: the deal was {deal.status.value}"
    else:
        cpm = cost * 1000 // end.views
    return schemas.DealReport(
        deal_id=deal.id,
        campaign_id=deal.campaign_id,
        channel_id=deal.channel_id,
        channel_username=username,
        format=deal.format,
        status=deal.status,
        price_nano=deal.price_nano,
        spent_nano=spent,
        message_id=views.ad_message_id(deal),
        posted_at=deal.posted_at,
        hold_until=deal.hold_until,
        views_1h=at_1h,
        views_24h=at_24h,
        views_end_of_hold=end,
        latest=latest,
        forwards=latest.forwards if latest else None,
        reactions=latest.reactions if latest else None,
        verified_views=end.views,
        effective_cpm_nano=cpm,
        cpm_missing=cpm_missing,
        probes=checks.get(deal.id, []),
        generated_at=now,
    )


def _views_line(reading: schemas.ViewsReading, label: str) -> str:
    if reading.views is None:
        return f"{label}: — ({reading.missing})"
    return f"{label}: {reading.views:,} views ({reading.source})"


def summary(report: schemas.DealReport) -> str:
    """The report as the advertiser's notification reads it."""
    lines = [
        _views_line(report.views_1h, "1 h"),
        _views_line(report.views_24h, "24 h"),
        _views_line(report.views_end_of_hold, "End of hold"),
    ]
    if report.forwards is not None or report.reactions is not None:
        lines.append(f"Forwards: {report.forwards}, reactions: {report.reactions}")
    if report.effective_cpm_nano is not None:
        lines.append(f"Effective CPM: {format_ton(report.effective_cpm_nano)} TON per 1,000 views")
    else:
        lines.append(f"Effective CPM: — ({report.cpm_missing})")
    passed = sum(1 for p in report.probes if p.result == "passed")
    lines.append(f"Checks of the post: {passed} of {len(report.probes)} passed")
    lines.append(f"The full report: /v1/deals/{report.deal_id}/report")
    return "\n".join(lines)
