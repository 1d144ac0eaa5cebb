"""The probe budget: Telegram calls of the live-ad checks, MTProto probe against forward probe.

A steady day of 10,000 live 1/24 ad posts (24 h hold; 20,000 posts published evenly over two days,
the second day measured), each checked 4 times per hold (3 random probes and the final check,
`deals.probes_per_hold` = 3), on a simulated clock. The probe moments come from the product's
`deals.schedule.probe_times`; which live ads of a channel one MTProto check takes along is the
product's `deals.verification.takes_along` (due now, or a random probe due within
`deals.probe_batch_ahead_seconds`); the calls are made by the product's own code against counting
doubles: `MTProtoViewsProvider.read_posts` (its 100-id chunks) on a Telethon client double
answering `channels.getMessages`, and `posting.probe_post` (forward, then delete the copy) on a
Bot double. Deterministic (seeded).

Telegram's limits assumed (core.telegram.org/bots/faq, "My bot is hitting limits"): a bot sends
about 30 messages per second overall, at most 1 per second into one chat and 20 per minute into
one group — a forward into the service chat is a message sent there. `channels.getMessages` takes
at most 100 ids (core.telegram.org/method/channels.getMessages); Telegram publishes no rate for it
and answers FLOOD_WAIT when a bot asks too often, so its calls (reads, not messages sent) are
compared with the same 30 per second overall as a cautious yardstick; the busiest second and
minute in one channel are shown, not judged.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiogram.types import Chat, Message
from sqlalchemy.ext.asyncio import create_async_engine
from telethon import functions, types

from benchmarks.harness import header
from chainfluence.deals.schedule import probe_times
from chainfluence.deals.verification import takes_along
from chainfluence.telegram import posting
from chainfluence.telegram.mtproto import MTProtoViewsProvider

LIVE_POSTS = 10_000
HOLD = dt.timedelta(hours=24)
PROBES_PER_HOLD = 3  # + the final check: 4 checks per hold
DAY = dt.timedelta(days=1)
START = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
SERVICE_CHAT = -100_999
# Telegram's limits (see the docstring).
OVERALL_PER_SECOND = 30
PER_CHAT_PER_SECOND = 1
GROUP_PER_MINUTE = 20


class SimClock:
    now: dt.datetime = START


@dataclass
class Counts:
    """Calls by simulated second, overall and per chat."""

    calls: list[tuple[float, int]] = field(default_factory=list)  # (second, chat)

    def add(self, chat: int) -> None:
        self.calls.append(((SimClock.now - START).total_seconds(), chat))

    def within(self, start: float, end: float) -> list[tuple[float, int]]:
        return [c for c in self.calls if start <= c[0] < end]


class CountingTelethon:
    """Answers `channels.getMessages` with every asked id present, counting each call."""

    def __init__(self, counts: Counts) -> None:
        self._counts = counts

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def is_user_authorized(self) -> bool:
        return True

    async def sign_in(self, *, bot_token: str) -> None: ...

    async def get_input_entity(self, peer: Any) -> Any:
        return types.InputPeerChannel(peer.channel_id, 0)

    async def __call__(self, request: Any) -> Any:
        assert isinstance(request, functions.channels.GetMessagesRequest)
        assert len(request.id) <= 100
        self._counts.add(request.channel.channel_id)
        peer = types.PeerChannel(request.channel.channel_id)
        messages = [
            types.Message(id=i.id, peer_id=peer, date=START, message="Ad text", views=1_000)
            for i in request.id
        ]
        return types.messages.ChannelMessages(
            pts=1, count=len(messages), messages=messages, topics=[], chats=[], users=[]
        )


class CountingBot:
    """`forward_message` and `delete_message`, counted per chat they send into or delete in."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.deletes = Counts()

    async def forward_message(
        self, chat_id: int, from_chat_id: int, message_id: int, **_: Any
    ) -> Message:
        self.counts.add(chat_id)
        return Message(
            message_id=message_id,
            date=SimClock.now,
            chat=Chat(id=chat_id, type="supergroup"),
            text="Ad text",
        )

    async def delete_message(self, chat_id: int, message_id: int) -> bool:
        self.deletes.add(chat_id)
        return True


@dataclass
class Post:
    channel: int
    message_id: int
    hold_until: dt.datetime
    schedule: list[dt.datetime]

    @property
    def due(self) -> dt.datetime:
        return self.schedule[0]


def _posts(channels: int, rng: random.Random) -> list[Post]:
    """Twice the live posts, published evenly over two days, in turn across `channels` channels."""
    posts = []
    count = 2 * LIVE_POSTS
    for index in range(count):
        posted = START + 2 * DAY * (index + rng.random()) / count
        channel = 1_000_000 + index % channels  # each channel publishes evenly
        hold_until = posted + HOLD
        schedule = probe_times(posted, hold_until, PROBES_PER_HOLD, rng)
        posts.append(Post(channel, index + 1, hold_until, schedule))
    return posts


async def _mtproto(posts: list[Post], ahead: dt.timedelta) -> Counts:
    counts = Counts()
    engine = create_async_engine("sqlite+aiosqlite://")
    provider = MTProtoViewsProvider(
        client_factory=lambda: CountingTelethon(counts),
        bot_token="bench",  # noqa: S106 - a double's, not a secret
        engine=engine,
    )
    live: dict[int, list[Post]] = defaultdict(list)
    for post in posts:
        live[post.channel].append(post)
    queue = sorted(posts, key=lambda p: p.due)
    keys = [p.due for p in queue]
    index = 0
    while index < len(queue):
        post = queue[index]
        index += 1
        if not post.schedule or post.due != keys[index - 1]:
            continue  # covered by an earlier check of its channel
        SimClock.now = post.due
        batch = [
            other
            for other in live[post.channel]
            if other.schedule and takes_along(other.due, other.hold_until, SimClock.now, ahead)
        ]
        await provider.read_posts(
            channel_id=-1_000_000_000_000 - post.channel,
            message_ids=[p.message_id for p in batch],
        )
        for checked in batch:
            checked.schedule.pop(0)
            if checked.schedule:
                position = bisect.bisect_right(keys, checked.due, lo=index)
                keys.insert(position, checked.due)
                queue.insert(position, checked)
    await engine.dispose()
    return counts


async def _forward(posts: list[Post]) -> tuple[Counts, Counts]:
    counts = Counts()
    bot = CountingBot(counts)
    checks = sorted((moment, post) for post in posts for moment in post.schedule)
    for moment, post in checks:
        SimClock.now = moment
        await posting.probe_post(bot, SERVICE_CHAT, post.channel, [post.message_id])  # type: ignore[arg-type]
    return counts, bot.deletes


def _peaks(calls: list[tuple[float, int]]) -> tuple[int, int, int, int]:
    """Busiest second overall, busiest second in one chat, busiest minute in one chat, chats."""
    per_second = Counter(int(second) for second, _ in calls)
    per_chat_second = Counter((int(second), chat) for second, chat in calls)
    per_chat_minute: Counter[tuple[int, int]] = Counter()
    by_chat: dict[int, list[float]] = defaultdict(list)
    for second, chat in calls:
        by_chat[chat].append(second)
    busiest_minute = 0
    for seconds in by_chat.values():
        seconds.sort()
        start = 0
        for end, value in enumerate(seconds):  # sliding 60 s window
            while value - seconds[start] >= 60:
                start += 1
            busiest_minute = max(busiest_minute, end - start + 1)
    del per_chat_minute
    return (
        max(per_second.values(), default=0),
        max(per_chat_second.values(), default=0),
        busiest_minute,
        len(by_chat),
    )


def _row(name: str, calls: list[tuple[float, int]], note: str, *, sends: bool) -> None:
    """One line; `sends`: the calls send messages into the chat (judged on the send limits),
    otherwise only the overall rate is a yardstick (Telegram publishes none for reads)."""
    overall, chat_second, chat_minute, chats = _peaks(calls)
    over = []
    if overall > OVERALL_PER_SECOND:
        over.append(f"{overall}/s > {OVERALL_PER_SECOND}/s overall")
    if sends and chat_second > PER_CHAT_PER_SECOND:
        over.append(f"{chat_second}/s > {PER_CHAT_PER_SECOND}/s in one chat")
    if sends and chat_minute > GROUP_PER_MINUTE:
        over.append(f"{chat_minute}/min > {GROUP_PER_MINUTE}/min in one group")
    verdict = "OVER: " + ", ".join(over) if over else "within"
    print(
        f"{name:<40} {len(calls):>8,} {overall:>5} {chat_second:>6} {chat_minute:>8} "
        f"{chats:>7,}  {note}; {verdict}"
    )


async def run(*, duration: float, concurrency: int) -> None:
    del duration, concurrency  # a simulated day
    header(
        f"Probe budget: {LIVE_POSTS:,} live 1/24 posts, {PROBES_PER_HOLD + 1} checks per hold, "
        "one simulated steady day"
    )
    print(
        f"limits assumed: {OVERALL_PER_SECOND} calls/s overall, {PER_CHAT_PER_SECOND} call/s per "
        f"chat, {GROUP_PER_MINUTE} messages/min into one group (the service chat); "
        "getMessages <= 100 ids per call"
    )
    print(
        f"{'probe':<40} {'calls/d':>8} {'pk/s':>5} {'chat/s':>6} {'chat/min':>8} {'chats':>7}  "
        "note; limits"
    )
    second_day = (DAY.total_seconds(), 2 * DAY.total_seconds())
    forward_cap = GROUP_PER_MINUTE * 60 * 24
    forwards, deletes = await _forward(_posts(2_000, random.Random(15)))
    sent = forwards.within(*second_day)
    _row(
        "forward: forwards into the service chat",
        sent,
        f"{len(sent) / forward_cap:.1f}x the group cap of {forward_cap:,}/day "
        f"(= {forward_cap // (PROBES_PER_HOLD + 1):,} live posts)",
        sends=True,
    )
    _row(
        "forward: deletes of the copies",
        deletes.within(*second_day),
        "Bot API calls, not messages sent",
        sends=False,
    )
    for channels in (10_000, 2_000, 500, 100):
        for ahead in (0, 600):
            posts = _posts(channels, random.Random(15))
            counts = await _mtproto(posts, dt.timedelta(seconds=ahead))
            calls = counts.within(*second_day)
            _row(
                f"mtproto: {channels:,} channels, along {ahead} s",
                calls,
                f"{len(calls) / LIVE_POSTS:.2f} calls per live post a day",
                sends=False,
            )
