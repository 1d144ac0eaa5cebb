"""A small believable world for sandbox mode: people, two channels, a week of posts with views."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from chainfluence_sandbox.telegram import actions
from chainfluence_sandbox.telegram.state import BotAccount, ChatType, EmulatorState

DAY = 24 * 3600

_CRYPTO_POSTS = [
    ("<b>BTC</b> closes the week above its 50-day average. What it means for altcoins 👇", 14_900),
    ("TON ecosystem digest: 5 projects that shipped this week", 12_400),
    ("Why stablecoin volumes matter more than price. Thread.", 16_800),
    ("<i>Weekend read:</i> a beginner's guide to self-custody wallets", 11_200),
    ("Market open: funding rates are neutral, open interest is up 4%", 13_700),
    ("Q&amp;A with a DeFi auditor: the three bugs they see every month", 15_300),
]
_INSIDER_POSTS = [
    ("Founders' notes #41: hiring the first sales person", 2_150),
    ("Three pricing experiments that failed (and one that worked)", 2_480),
    ("Investor update template we actually use", 1_930),
    ("How we cut churn by talking to 30 customers in a week", 2_760),
]


@dataclass
class DemoWorld:
    bot_id: int
    publisher_id: int
    advertiser_id: int
    second_publisher_id: int
    newcomer_id: int
    public_channel_id: int
    private_channel_id: int


def _picture(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1280, 720), color).save(buffer, format="PNG")
    return buffer.getvalue()


def seed_demo(state: EmulatorState, *, bot: BotAccount | None = None) -> DemoWorld:
    """Populate `state` (creating a bot if it has none). Queues no updates: it is the past."""
    if bot is None:
        bot = next(iter(state.bots.values()), None) or state.add_bot(
            username="chainfluence_sandbox_bot", first_name="Chainfluence"
        )
    first_new_update = bot.updates.next_update_id
    alice = state.add_user(first_name="Alice", last_name="Moreau", username="alice_publishes")
    boris = state.add_user(
        first_name="Boris", last_name="Ivanov", username="boris_ads", language_code="ru"
    )
    chen = state.add_user(first_name="Chen", last_name="Wei", username="chen_insider")
    dana = state.add_user(first_name="Dana", username="dana_new", language_code="es")
    now = state.clock.now()

    crypto = state.add_chat(
        chat_type=ChatType.CHANNEL,
        title="Crypto Daily",
        owner_id=alice.id,
        username="crypto_daily_sandbox",
        description="Markets, on-chain data and the TON ecosystem. Ads: via Chainfluence.",
        hidden_subscribers=48_200,
    )
    insider = state.add_chat(
        chat_type=ChatType.CHANNEL,
        title="Founders Insider",
        owner_id=chen.id,
        description="Private notes for startup founders.",
        hidden_subscribers=3_150,
    )
    for chat, posts, author in (
        (crypto, _CRYPTO_POSTS, alice.id),
        (insider, _INSIDER_POSTS, chen.id),
    ):
        for index, (text, views) in enumerate(posts):
            message = actions.post(
                state, chat, by_user_id=author, text=text, parse_mode="HTML", views=views
            )
            message.date = now - (len(posts) - index) * DAY + 9 * 3600
    cover = actions.post(
        state,
        crypto,
        by_user_id=alice.id,
        photo=_picture((24, 92, 160)),
        caption="Chart of the week: exchange reserves keep falling",
        views=17_400,
    )
    cover.date = now - 6 * 3600

    actions.promote(state, crypto, bot.id, by_user_id=alice.id)
    actions.promote(state, insider, bot.id, by_user_id=chen.id)
    for person in (alice, boris, chen):
        private = state.private_chat(bot, person.id, create=True)
        assert private is not None
        private.started = True
    bot.updates.discard_from(first_new_update)
    return DemoWorld(
        bot_id=bot.id,
        publisher_id=alice.id,
        advertiser_id=boris.id,
        second_publisher_id=chen.id,
        newcomer_id=dana.id,
        public_channel_id=crypto.id,
        private_channel_id=insider.id,
    )
