"""The emulators as their own process (`chainfluence sandbox up`) and an `api` pointed at them.

Real OS processes, as an operator starts them: the sandbox prints (and writes) the settings, the
api runs with exactly those, and the sandbox helpers act through that api over HTTP. The clock the
sandbox moves is the api's clock too.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from chainfluence.cli import app as cli
from chainfluence.config import SANDBOX_BOT_TOKEN, Settings, get_settings
from tests.conftest import app_client, make_settings
from tests.factories import encode, init_data_fields, sign_hmac
from tests.processes import CHAINFLUENCE, Process, clean_env, free_port, read_env_file
from tests.test_config import PRODUCTION

PUBLISHER = 7000000002  # owns @crypto_daily_sandbox in the seeded world
ADVERTISER = 7000000003
TON = 10**9


@pytest.fixture
def shape(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """`sandbox up` and one `api` (SQLite, no Redis: the api runs the jobs) as processes."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'shape.sqlite3'}"
    base = {
        "CHAINFLUENCE_DATABASE__URL": database,
        "CHAINFLUENCE_RATE_LIMIT__ENABLED": "false",
        "CHAINFLUENCE_UPLOADS__DIR": str(tmp_path / "uploads"),
    }
    migrated = subprocess.run(
        [CHAINFLUENCE, "db", "upgrade"], env=clean_env(base), cwd=tmp_path, capture_output=True
    )
    assert migrated.returncode == 0, migrated.stderr.decode()
    api_url = f"http://127.0.0.1:{free_port()}"
    env_file = tmp_path / "sandbox.env"
    sandbox = Process(
        "sandbox",
        [CHAINFLUENCE, "sandbox", "up", "--port", "0", "--api-url", api_url,
         "--env-file", str(env_file)],
        clean_env(base), tmp_path, tmp_path,
    )  # fmt: skip
    api: Process | None = None
    try:
        sandbox.start()
        sandbox.wait_until(env_file.exists, "writing its settings")
        printed = read_env_file(env_file)
        api = Process(
            "api",
            [CHAINFLUENCE, "api", "--port", api_url.rsplit(":", 1)[1]],
            clean_env({**base, **printed}), tmp_path, tmp_path,
        )  # fmt: skip
        api.start()
        api.wait_http(f"{api_url}/healthz")
        yield printed["CHAINFLUENCE_SANDBOX__URL"], api_url, env_file
    finally:
        for process in (api, sandbox):
            if process is not None:
                process.stop()


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


def test_sandbox_up_serves_emulators_helpers_and_clock_to_an_api_process(
    shape: tuple[str, str, Path],
) -> None:
    sandbox_url, api_url, env_file = shape
    printed = read_env_file(env_file)
    assert printed["CHAINFLUENCE_TON__API_URL"] == f"{sandbox_url}/ton/api/v2"
    assert printed["CHAINFLUENCE_TELEGRAM__API_BASE_URL"] == f"{sandbox_url}/telegram"
    assert int(printed["CHAINFLUENCE_TELEGRAM__SERVICE_CHAT_ID"]) < 0
    sandbox = httpx.Client(base_url=sandbox_url, timeout=60)
    api = httpx.Client(base_url=api_url, timeout=60)

    # The helper logs in through the api process: the token is the api's own.
    login_answer = _ok(sandbox.post(f"/v1/sandbox/login/{PUBLISHER}"))
    publisher = {"Authorization": login_answer["authorization"]}
    assert _ok(api.get("/v1/users/me", headers=publisher))["id"] == str(PUBLISHER)
    # The api's bot is the sandbox's Telegram emulator: the demo channel can be listed.
    _ok(api.patch("/v1/users/me", json={"isPublisher": True}, headers=publisher))
    channel = _ok(api.post("/v1/channels", json={"username": "crypto_daily_sandbox"},
                           headers=publisher), 201)  # fmt: skip
    assert channel["id"] == "-1001000000001"
    # A wallet on the sandbox's chain, proven to the api with a ton_proof.
    wallet = _ok(sandbox.post(f"/v1/sandbox/users/{ADVERTISER}/wallet", json={"amount": 5}))
    assert wallet["balanceNano"] == str(5 * TON)
    advertiser = {
        "Authorization": _ok(sandbox.post(f"/v1/sandbox/login/{ADVERTISER}"))["authorization"]
    }
    me = _ok(api.get("/v1/users/me", headers=advertiser))
    assert me["walletAddress"] == wallet["address"]

    # Moving the sandbox's clock moves the api's: what it writes now is dated 3 hours ahead
    # (and the tokens it issued age with it).
    moved = _ok(sandbox.post("/v1/sandbox/clock/advance", json={"seconds": 3 * 3600}))
    assert moved["offsetSeconds"] >= 3 * 3600
    _ok(api.patch("/v1/users/me", json={"isAdvertiser": True}, headers=advertiser))
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3) - dt.timedelta(minutes=5)
    for _ in range(50):
        campaign = _ok(api.post("/v1/campaigns", headers=advertiser,
                                json={"title": "Later", "category": "crypto"}), 201)  # fmt: skip
        if dt.datetime.fromisoformat(campaign["createdAt"]) >= ahead:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the api's clock did not follow the sandbox: {campaign}")


async def test_an_api_without_a_bot_says_which_setting_is_missing(
    db: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    # `chainfluence api` in sandbox mode with no emulator settings: no bot at all.
    settings = make_settings(database_url, tmp_path, telegram={"bot_token": None})
    async with app_client(settings) as client:
        signed = encode(sign_hmac(init_data_fields(1001), bot_token=SANDBOX_BOT_TOKEN))
        answer = await client.post("/v1/auth/login", json={"initData": signed})
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        await client.patch("/v1/users/me", json={"isPublisher": True}, headers=headers)

        response = await client.post("/v1/channels", json={"username": "some_channel"},
                                     headers=headers)  # fmt: skip

    assert response.status_code == 503
    assert response.json()["code"] == "telegram_bot_not_configured"
    assert "CHAINFLUENCE_TELEGRAM__BOT_TOKEN" in response.json()["message"]
    assert "chainfluence sandbox up" in response.json()["message"]


def test_production_refuses_following_a_sandbox_clock() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, **{**PRODUCTION, "sandbox": {"url": "http://sandbox:8090"}})  # type: ignore[arg-type]

    assert "CHAINFLUENCE_SANDBOX__URL" in str(refused.value)


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for key in [key for key in os.environ if key.startswith("CHAINFLUENCE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CHAINFLUENCE_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("command", ["telegram", "ton", "up"])
def test_a_taken_port_is_one_sentence(sandbox_env: None, command: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = CliRunner().invoke(cli, ["sandbox", command, "--port", str(port)])

    assert result.exit_code == 2, result.output
    assert (
        result.output.strip() == f"Port {port} on 127.0.0.1 is taken: choose another with --port."
    )


async def test_a_helper_whose_api_does_not_answer_says_so(tmp_path: Path) -> None:
    # `sandbox up` acting through an API that is down (a killed replica, not started yet).
    from fastapi import FastAPI

    from chainfluence_sandbox.processes import create_sandbox_app
    from chainfluence_sandbox.services import SandboxServices, populate_telegram
    from chainfluence_sandbox.telegram import RunningEmulator, create_telegram_emulator

    down = f"http://127.0.0.1:{free_port()}"
    services = SandboxServices(settings=Settings(_env_file=None), api_url=down)  # type: ignore[call-arg]
    telegram, state = create_telegram_emulator()
    populate_telegram(services, state, "http://sandbox.test/telegram")
    services.telegram = RunningEmulator(base_url="http://sandbox.test/telegram", state=state)
    app = create_sandbox_app(services, telegram, FastAPI())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as client:
        response = await client.post(f"/v1/sandbox/login/{PUBLISHER}")
    await state.close()

    assert response.status_code == 503
    assert response.json()["code"] == "sandbox_api_not_answering"
    assert down in response.json()["message"]
