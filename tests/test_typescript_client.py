"""The TypeScript client (clients/typescript) against a live sandbox: its example, compiled with
tsc and run with node, logs in with initData the sandbox signs and lists the catalogue.

`make clients-check` (run by `make test`) checks that the committed client matches the API's
OpenAPI document and type-checks it; this runs the client over real HTTP.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import CHAINFLUENCE, Process, clean_env, free_port

CLIENT = Path(__file__).resolve().parents[1] / "clients" / "typescript"

pytestmark = pytest.mark.slow


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    """`chainfluence serve` (`make serve`): the embedded sandbox with its seeded world."""
    port = free_port()
    serve = Process(
        "serve",
        [CHAINFLUENCE, "serve", "--port", str(port)],
        clean_env({"CHAINFLUENCE_RATE_LIMIT__ENABLED": "false"}),
        tmp_path,
        tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        serve.start()
        serve.wait_http(f"{url}/healthz")
        yield url
    finally:
        serve.stop()


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


def test_example_logs_in_with_initdata_and_lists_the_catalogue(sandbox_url: str) -> None:
    npm = shutil.which("npm")
    assert npm is not None, "node and npm are needed (make install brings the client's tools)"
    api = httpx.Client(base_url=sandbox_url, timeout=60)
    people = _ok(api.get("/v1/sandbox"))["telegram"]["people"]
    advertiser = next(p["id"] for p in people if p["role"] == "advertiser")
    publisher = next(p["id"] for p in people if "@crypto_daily_sandbox" in p["role"])
    headers = {"Authorization": _ok(api.post(f"/v1/sandbox/login/{publisher}"))["authorization"]}
    # Listed as the Mini App spells the category.
    _ok(
        api.post(
            "/v1/channels",
            json={"username": "crypto_daily_sandbox", "category": "Crypto"},
            headers=headers,
        ),
        201,
    )
    # Listing queues a stats refresh: wait for its figures, so the list cannot change under us.
    deadline = time.monotonic() + 120
    while _ok(api.get("/v1/channels/-1001000000001/stats"))["engagementRate"] is None:
        assert time.monotonic() < deadline, "the listed channel's stats were never refreshed"
        time.sleep(0.5)
    catalogue = api.get("/v1/channels", params={"limit": 10, "sort": "-subscribers"})

    run = subprocess.run(
        [npm, "run", "--silent", "example"],
        cwd=CLIENT,
        env=clean_env({"CHAINFLUENCE_API_URL": sandbox_url}),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    printed = json.loads(run.stdout.strip().splitlines()[-1])
    assert printed["user"] == advertiser
    assert printed["total"] == int(catalogue.headers["X-Total-Count"]) == 1
    assert printed["channels"] == [
        {
            "id": channel["id"],
            "username": channel["username"],
            "category": "crypto",
            "engagementRate": channel["engagementRate"],
            "cheapest": None if channel["minPrice"] is None else f"{channel['minPrice']} TON",
        }
        for channel in catalogue.json()
    ]
    # Percent, as the Mini App compares it with minEngagement (a fraction would be below 1).
    assert 1 < printed["channels"][0]["engagementRate"] <= 100
    assert printed["missingDeal"] == {"status": 404, "code": "deal_not_found"}
    assert printed["oneAndAHalfTon"] == "1.5"
