"""Production intake: the API sets its webhook at start-up and takes updates at
POST /telegram/webhook only with the right secret header."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.app import create_app
from chainfluence.bootstrap import build_runtime
from chainfluence.jobs.redis import BullMQQueue
from chainfluence.kit.serving import serve_in_background
from chainfluence.telegram.lifecycle import configure_webhook
from chainfluence_sandbox.telegram import RunningEmulator, TelegramEmulatorControl
from tests.conftest import make_settings, telegram_settings
from tests.factories import eventually


async def test_updates_arrive_through_the_webhook_with_its_secret(
    db: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    emulator: RunningEmulator,
    control: TelegramEmulatorControl,
) -> None:
    app = create_app(make_settings(database_url, tmp_path, telegram=telegram_settings(emulator)))
    async with serve_in_background(app) as url:
        # The port is known only now; start-up would have done this with the URL configured.
        telegram = app.state.runtime.settings.telegram
        telegram.webhook_url = f"{url}/telegram/webhook"
        telegram.webhook_secret = SecretStr("hook-secret-0123456789")
        assert await configure_webhook(app.state.runtime)
        person = await control.create_user("Dana", username="dana_new")

        await control.start_bot(person.id, "deal_42")

        [reply] = await eventually(
            lambda: control.messages(person.id, sent_by_bot=True), lambda found: len(found) == 1
        )
        assert "tgWebAppStartParam=deal_42" in reply.buttons()[0]["web_app"]["url"]
        assert (await control.bot()).webhook_url == f"{url}/telegram/webhook"
        async with httpx.AsyncClient(base_url=url) as raw:
            for header in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                refused = await raw.post("/telegram/webhook", json={"update_id": 1}, headers=header)
                assert refused.status_code == 401
        await app.state.runtime.bot.delete_webhook()


async def test_with_redis_the_api_queues_each_update_and_the_worker_handles_it(
    db: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    emulator: RunningEmulator,
    control: TelegramEmulatorControl,
    redis_url: str,
) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        telegram=telegram_settings(emulator),
        redis={"url": redis_url},
        jobs={"queue_name": f"webhook-{uuid.uuid4().hex[:10]}"},
    )
    app = create_app(settings)  # with Redis the API only enqueues
    worker = build_runtime(settings)
    queue = worker.queue
    assert isinstance(queue, BullMQQueue)
    try:
        async with serve_in_background(app) as url:
            telegram = settings.telegram
            telegram.webhook_url = f"{url}/telegram/webhook"
            telegram.webhook_secret = SecretStr("hook-secret-0123456789")
            assert await configure_webhook(app.state.runtime)
            await worker.start_consuming()
            person = await control.create_user("Dana", username="dana_new")

            await control.start_bot(person.id, "deal_42")

            [reply] = await eventually(
                lambda: control.messages(person.id, sent_by_bot=True),
                lambda found: len(found) == 1,
            )
            assert "tgWebAppStartParam=deal_42" in reply.buttons()[0]["web_app"]["url"]
            # The worker ran the handler; the API process never built aiogram's bot.
            assert worker.dispatcher is not None
            assert app.state.runtime._bot_parts is None
            await app.state.runtime.bot.delete_webhook()
    finally:
        await queue.obliterate()
        await worker.close()
