"""Channel stats: gathered from Telegram and the providers, computed, stored with their sources.

A refresh asks Telegram (subscribers, administrators) and the providers (posts with views)
outside any transaction, then stores in one short transaction: provider posts merged into
`channel_posts`, the figures recomputed from that table. Each figure keeps its own source and
fetch time in `channels.stats_sources`; a figure that cannot be computed this time keeps its last
value (with its older time) rather than being invented or dropped. `GET .../stats` only reads.

Definitions (last 30 days; an album counts as one post):
* avg views: mean views of posts at least 24 h old (younger ones are still gathering views);
* ER: avg views / subscribers, a fraction; posts per week: posts over the observed span, where
  the span starts when the bot became an administrator unless a provider saw further back;
* language mix: share of posts per detected language; top posts: the 5 highest view counts.

From the view series (`post_view_snapshots`: per post, the first reading in each age bucket
starting at 0, 1 h, 6 h, 24 h, 48 h, 72 h, 7 d, 14 d and 30 d):
* avg views at 24 h: mean over the last 20 posts of each post's first reading at 24 to 48 h of
  age; ERR24: that / subscribers, percent;
* ER: (forwards + reactions) / views over each post's latest reading at 24 h or older, percent;
  only providers that see forwards and reactions (MTProto) feed it.
A figure with no value yet says in `sources` what is missing.

Trust score (0-100, `channels.trust`, formula there and in docs/API): from the series and the
subscriber history (`channel_subscriber_readings`, one reading a day or on change); stored in
`channels.trust_score` for the catalogue, its reasons in `sources["trust"]`.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.channels import repository, schemas, service, trust
from chainfluence.kit.time import utcnow
from chainfluence.models import Channel, ChannelPost, ChannelSubscriberReading, PostViewSnapshot
from chainfluence.ports import Messenger, ProviderReport, Sessions, ViewsSources
from chainfluence.telegram import chats, language
from chainfluence.telegram.chats import Administrator, ChatUnreachable, TelegramDown


class _Ports(Sessions, Messenger, ViewsSources, Protocol):
    """What this module needs of the process."""


log = logging.getLogger(__name__)

WINDOW = dt.timedelta(days=30)
MATURE = dt.timedelta(hours=24)
MIN_SPAN = dt.timedelta(days=1)
TOP_POSTS = 5
# Views at 24 h: a post's first reading between these ages (seconds); over the last N posts.
AT_24H = 24 * 3600
AT_24H_UNTIL = 48 * 3600
SERIES_POSTS = 20
# Ages (seconds) that start a bucket of the view series: a post keeps at most one reading per
# bucket, so about ten rows over its 30 days however often stats are refreshed.
SERIES_AGES = [h * 3600 for h in (1, 6, 24, 48, 72, 7 * 24, 14 * 24, 30 * 24)]


@dataclass(frozen=True, slots=True)
class TelegramFacts:
    subscribers: int
    admins: list[Administrator]


async def refresh(runtime: _Ports, channel_id: int) -> None:
    """Refresh one channel's stats and managers (the `channels.refresh_stats` job)."""
    async with runtime.session(write=False) as session:
        channel = await repository.get(session, channel_id)
        if channel is None:
            return
        username = channel.username
        since = utcnow() - WINDOW
        known_ids = [p.message_id for p in await repository.posts_since(session, channel_id, since)]
    facts = await _ask_telegram(runtime, channel_id)
    reports: list[ProviderReport] = []
    for provider in runtime.stats_providers:
        try:
            report = await provider.fetch(
                channel_id=channel_id, username=username, since=since, known_ids=known_ids
            )
        except Exception:
            log.exception("stats provider %s failed for channel %s", provider.name, channel_id)
            continue
        if report is not None:
            reports.append(report)
    languages = await asyncio.to_thread(
        lambda: {
            (r.source, p.message_id): language.detect(p.text) for r in reports for p in r.posts
        }
    )
    async with runtime.session() as session:
        channel = await repository.get_for_update(session, channel_id)
        if channel is None:
            return
        held = await repository.snapshots_since(session, channel_id, since)
        taken = {(s.message_id, _bucket(s.age_seconds)) for s in held}
        for report in reports:
            await _merge_posts(session, channel_id, report, languages)
            rows = [
                row
                for row in repository.snapshot_rows(channel_id, report)
                if (row["message_id"], _bucket(row["age_seconds"])) not in taken
            ]
            taken.update((row["message_id"], _bucket(row["age_seconds"])) for row in rows)
            await repository.add_snapshots(session, rows)
        if facts is not None:
            await repository.replace_admins(session, channel_id, service.admin_rows(facts.admins))
            await repository.record_subscribers(session, channel_id, utcnow(), facts.subscribers)
        bot_chat = await repository.bot_chat(session, channel_id)
        observed_since = (bot_chat.admin_since if bot_chat else None) or channel.created_at
        posts = await repository.posts_since(session, channel_id, since)
        snapshots = await repository.snapshots_since(session, channel_id, since)
        history = await repository.subscriber_history(session, channel_id, since)
        compute(
            channel,
            posts,
            subscribers=facts.subscribers if facts else None,
            observed_since=observed_since,
            reports=reports,
            snapshots=snapshots,
            subscriber_history=history,
        )
        await service.refresh_price_summary(session, channel)


async def _ask_telegram(runtime: _Ports, channel_id: int) -> TelegramFacts | None:
    bot = runtime.bot
    if bot is None:
        return None
    try:
        subscribers = await chats.member_count(bot, channel_id)
        admins = await chats.administrators(bot, channel_id)
    except (ChatUnreachable, TelegramDown) as exc:
        # Losing the channel is reported by my_chat_member; here the figures just stay as they are.
        log.warning("stats refresh: Telegram did not answer for %s: %s", channel_id, exc)
        return None
    return TelegramFacts(subscribers, admins)


async def _merge_posts(
    session: AsyncSession,
    channel_id: int,
    report: ProviderReport,
    languages: dict[tuple[str, int], str | None],
) -> None:
    for post in report.posts:
        text = post.text or ""
        values: dict[str, Any] = {
            "channel_id": channel_id,
            "message_id": post.message_id,
            "posted_at": post.posted_at,
            "edited_at": post.edited_at,
            "text_length": len(text),
            "text_hash": hashlib.sha256(text.encode()).hexdigest() if text else None,
            "has_media": post.has_media,
            "media_group_id": post.media_group_id,
            "language": languages.get((report.source, post.message_id)),
            "views": post.views,
            "views_source": report.source if post.views is not None else None,
            "views_updated_at": report.fetched_at if post.views is not None else None,
            "source": report.source,
            "observed_at": report.fetched_at,
        }
        # What the bot saw itself stays; the provider adds views (and fills posts we missed).
        update = ["views", "views_source", "views_updated_at"] if post.views is not None else []
        await repository.save_post(session, values, update=update)


def _bucket(age_seconds: int) -> int:
    """The series keeps one reading per post and age bucket (the first one in it)."""
    return bisect.bisect_right(SERIES_AGES, age_seconds)


def _one_per_album(posts: list[ChannelPost]) -> list[ChannelPost]:
    seen: set[str] = set()
    result = []
    for post in posts:
        if post.media_group_id:
            if post.media_group_id in seen:
                continue
            seen.add(post.media_group_id)
        result.append(post)
    return result


def compute(
    channel: Channel,
    posts: list[ChannelPost] | Any,
    *,
    subscribers: int | None,
    observed_since: dt.datetime,
    reports: list[ProviderReport],
    snapshots: Sequence[PostViewSnapshot] = (),
    subscriber_history: Sequence[ChannelSubscriberReading] = (),
) -> None:
    """Recompute the figures on `channel` from its posts; unknown figures keep their last value."""
    now = utcnow()
    stamp = now.isoformat()
    sources: dict[str, Any] = dict(channel.stats_sources or {})
    posts = _one_per_album(list(posts))
    if subscribers is not None:
        channel.subscribers = subscribers
        sources["subscribers"] = {"source": "bot_api", "fetchedAt": stamp}

    with_views = [p for p in posts if p.views is not None]
    views_source = ",".join(sorted({p.views_source for p in with_views if p.views_source}))
    mature = [p for p in with_views if now - p.posted_at >= MATURE]
    if mature:
        channel.avg_views = round(sum(p.views or 0 for p in mature) / len(mature))
        sources["avgViews"] = {"source": views_source, "fetchedAt": stamp, "posts": len(mature)}
    if with_views:
        top = sorted((p.views or 0 for p in with_views), reverse=True)[:TOP_POSTS]
        channel.top_posts_views = top
        sources["topPostsViews"] = {"source": views_source, "fetchedAt": stamp}
    if channel.avg_views is not None and channel.subscribers:
        channel.engagement_rate = round(channel.avg_views / channel.subscribers * 100, 2)
        sources["engagementRate"] = {
            "source": "avgViews/subscribers",
            "fetchedAt": stamp,
        }

    window_start = now - WINDOW
    # Telegram dates posts in whole seconds.
    span_start = max(window_start, observed_since.replace(microsecond=0))
    if any(r.complete_history for r in reports):
        # A provider lists the channel's recent history, not only what the bot saw.
        span_start = window_start
    span = now - span_start
    if span >= MIN_SPAN:
        counted = [p for p in posts if p.posted_at >= span_start]
        channel.posts_per_week = round(len(counted) / (span.total_seconds() / 86400) * 7, 1)
        origins = sorted({p.source for p in counted}) or ["bot_updates"]
        sources["postsPerWeek"] = {
            "source": ",".join(origins),
            "fetchedAt": stamp,
            "posts": len(counted),
            "days": round(span.total_seconds() / 86400, 1),
        }

    languages = Counter(p.language for p in posts if p.language)
    total = sum(languages.values())
    if total:
        channel.language_distribution = {
            code: round(count / total * 100, 1) for code, count in languages.most_common()
        }
        sources["languageDistribution"] = {
            "source": "detected from post texts",
            "fetchedAt": stamp,
            "posts": total,
        }
    _series_figures(channel, snapshots, sources, stamp)
    _trust(channel, snapshots, subscriber_history, sources, stamp)
    channel.stats_sources = sources
    channel.stats_updated_at = now


def views_at_24h(snapshots: Sequence[PostViewSnapshot]) -> dict[int, PostViewSnapshot]:
    """Per post, its first reading taken between 24 and 48 hours of age."""
    first: dict[int, PostViewSnapshot] = {}
    for snapshot in snapshots:
        if not AT_24H <= snapshot.age_seconds < AT_24H_UNTIL:
            continue
        held = first.get(snapshot.message_id)
        if held is None or snapshot.age_seconds < held.age_seconds:
            first[snapshot.message_id] = snapshot
    return first


def _series_figures(
    channel: Channel,
    snapshots: Sequence[PostViewSnapshot],
    sources: dict[str, Any],
    stamp: str,
) -> None:
    """avg views at 24 h, ERR24 and ER from the view series; a figure that cannot be computed
    keeps its last value, or says why it is missing when there is none."""
    at_24h = sorted(views_at_24h(snapshots).values(), key=lambda s: s.message_id)[-SERIES_POSTS:]
    if at_24h:
        channel.avg_views_24h = round(sum(s.views for s in at_24h) / len(at_24h))
        sources["avgViews24h"] = {
            "source": ",".join(sorted({s.source for s in at_24h})),
            "fetchedAt": stamp,
            "posts": len(at_24h),
        }
    elif channel.avg_views_24h is None:
        sources["avgViews24h"] = {"missing": "no post has been read at 24 to 48 hours of age yet"}
    if channel.avg_views_24h is not None and channel.subscribers:
        channel.err24_percent = round(channel.avg_views_24h / channel.subscribers * 100, 2)
        sources["err24"] = {"source": "avgViews24h/subscribers", "fetchedAt": stamp}
    elif channel.err24_percent is None:
        missing = "subscribers unknown" if channel.avg_views_24h is not None else "avgViews24h"
        sources["err24"] = {"missing": f"{missing} is not known yet"}

    latest: dict[int, PostViewSnapshot] = {}
    for snapshot in snapshots:  # oldest first: the last one per post wins
        if snapshot.age_seconds >= AT_24H:
            latest[snapshot.message_id] = snapshot
    engaged = [
        s for s in latest.values() if s.forwards is not None and s.reactions is not None and s.views
    ]
    if engaged:
        views = sum(s.views for s in engaged)
        actions = sum((s.forwards or 0) + (s.reactions or 0) for s in engaged)
        channel.er_percent = round(actions / views * 100, 2)
        sources["er"] = {
            "source": ",".join(sorted({s.source for s in engaged})),
            "fetchedAt": stamp,
            "posts": len(engaged),
        }
    elif channel.er_percent is None:
        sources["er"] = {
            "missing": "no provider reported forwards and reactions of a post 24 hours old"
        }


def _trust(
    channel: Channel,
    snapshots: Sequence[PostViewSnapshot],
    history: Sequence[ChannelSubscriberReading],
    sources: dict[str, Any],
    stamp: str,
) -> None:
    """The trust score (`channels.trust`) from the series we hold; null with the reason when it
    is too short (a score once given is replaced only by a newer one)."""
    result = trust.score(
        snapshots,
        [trust.SubscriberReading(r.taken_at, r.subscribers) for r in history],
        channel.err24_percent,
    )
    if result.score is None:
        if channel.trust_score is None:
            sources["trust"] = {"missing": result.missing}
        return
    channel.trust_score = result.score
    sources["trust"] = {
        "source": ",".join(sorted({s.source for s in snapshots})),
        "fetchedAt": stamp,
        "reasons": result.reasons,
        "checked": result.checked,
        "skipped": result.skipped,
    }


def to_schema(channel: Channel) -> schemas.Stats:
    sources: dict[str, Any] = channel.stats_sources or {}
    views = sources.get("avgViews") or sources.get("topPostsViews")
    return schemas.Stats(
        channel_id=channel.id,
        username=channel.username,
        subscriber_count=channel.subscribers,
        avg_views=channel.avg_views,
        engagement_rate=channel.engagement_rate,
        posts_per_week=channel.posts_per_week,
        language_distribution=channel.language_distribution,
        top_posts_views=channel.top_posts_views,
        avg_views_24h=channel.avg_views_24h,
        err24_percent=channel.err24_percent,
        er_percent=channel.er_percent,
        trust_score=channel.trust_score,
        trust_reasons=(sources.get("trust") or {}).get("reasons"),
        source=(views or {}).get("source") or ("bot_api" if "subscribers" in sources else None),
        updated_at=channel.stats_updated_at,
        sources=sources,
    )
