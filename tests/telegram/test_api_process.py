"""The API process loads no aiogram (about 130 MB of its memory), not just at start-up: an API
process with Redis, in a fresh interpreter, logs a person in, lists their channel (the bot's and
the person's rights asked of the Telegram emulator over HTTP) and takes a Telegram update at its
webhook (queued for the worker), and `aiogram` is still not among its modules."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from redis import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence_sandbox.telegram import RunningEmulator, TelegramEmulatorControl
from tests.channels.world import channel_with_bot
from tests.conftest import REDIS_URL
from tests.factories import TEST_BOT_TOKEN, init_data

SECRET = "api-process-secret-0123456789"

SCRIPT = """
import asyncio, json, sys

import httpx

from chainfluence.app import create_app
from chainfluence.config import Settings

given = json.loads(sys.argv[1])


async def main() -> dict:
    settings = Settings(_env_file=None, **given["settings"])
    app = create_app(settings)
    answers = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            login = await client.post("/v1/auth/login", json={"initData": given["initData"]})
            answers["login"] = login.status_code
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            listed = await client.post(
                "/v1/channels", json={"username": given["channel"]}, headers=headers
            )
            answers["channel"] = listed.status_code
            update = await client.post(
                "/telegram/webhook",
                json=given["update"],
                headers={"X-Telegram-Bot-Api-Secret-Token": given["secret"]},
            )
            answers["webhook"] = update.status_code
    answers["aiogram"] = sorted(m for m in sys.modules if m.split(".")[0] == "aiogram")
    return answers


print(json.dumps(asyncio.run(main())))
"""


async def test_an_api_process_serving_login_a_listing_and_a_webhook_update_loads_no_aiogram(
    db: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    emulator: RunningEmulator,
    control: TelegramEmulatorControl,
) -> None:
    owner = await control.create_user("Olga", username="olga_owner")
    chat = await channel_with_bot(control, owner)
    given = {
        "settings": {
            "database": {"url": database_url},
            "redis": {"url": REDIS_URL},
            "telegram": {
                "bot_token": TEST_BOT_TOKEN,
                "api_base_url": emulator.base_url,
                "webhook_secret": SECRET,
            },
            "auth": {"jwt_secret": "test-secret-" + "x" * 40},
            "uploads": {"dir": str(tmp_path / "uploads")},
            "rate_limit": {"enabled": False},
            "jobs": {"queue_name": f"api-process-{tmp_path.name}"},
            "public_url": "http://testserver",
        },
        "initData": init_data(owner.id, first_name="Olga", username="olga_owner"),
        "channel": chat.username,
        "secret": SECRET,
        "update": {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": owner.id, "type": "private", "first_name": "Olga"},
                "from": {"id": owner.id, "is_bot": False, "first_name": "Olga"},
                "text": "/start",
            },
        },
    }
    queue = given["settings"]["jobs"]["queue_name"]  # type: ignore[index]
    try:
        # Awaited, not run blocking: the emulator answers from this test's event loop.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            SCRIPT,
            json.dumps(given),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    finally:
        redis = Redis.from_url(REDIS_URL)
        for key in redis.scan_iter(match=f"bull:{queue}:*"):
            redis.delete(key)
        redis.close()
    assert process.returncode == 0, err.decode()
    answers = json.loads(out.decode().strip().splitlines()[-1])
    assert answers == {"login": 200, "channel": 201, "webhook": 200, "aiogram": []}
