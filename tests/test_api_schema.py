"""Property-based API tests: schemathesis generates requests from /openapi.json — valid and
invalid ones — against a live server, as an anonymous caller and as a logged-in advertiser and
publisher who own real resources (a listed channel, a campaign, an offer, a deal), on SQLite and
PostgreSQL. Checks: no 5xx, only documented status codes, the documented content type, and
bodies matching the documented schemas. The sandbox helpers are left out (absent in production).

CI's budget: a fixed seed, a few examples per operation, no coverage phase (about a minute per
database). A longer run locally, with the coverage phase and 100 examples per operation:

    CHAINFLUENCE_SCHEMATHESIS_EXAMPLES=100 \
    CHAINFLUENCE_SCHEMATHESIS_PHASES=examples,coverage,fuzzing \
        pytest -p no:randomly -n 0 -s tests/test_api_schema.py
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import httpx

from chainfluence.app import create_app
from chainfluence.config import Settings
from chainfluence.kit.serving import serve_in_background
from tests.offers.world import in_days, make_world

EXAMPLES = int(os.environ.get("CHAINFLUENCE_SCHEMATHESIS_EXAMPLES", "5"))
# The coverage phase (boundary values of every field: thousands of requests) is for long runs.
PHASES = os.environ.get("CHAINFLUENCE_SCHEMATHESIS_PHASES", "examples,fuzzing")
SEED = int(os.environ.get("CHAINFLUENCE_SCHEMATHESIS_SEED", "20261206"))
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
ST = Path(sys.executable).with_name("st")


async def _schemathesis(
    url: str, schema: Path, authorization: str | None, report: Path
) -> tuple[int, str]:
    args = [
        str(ST),
        "run",
        str(schema),
        "--url",
        url,
        "--checks",
        CHECKS,
        "--exclude-path-regex",
        # The event stream never ends by itself (tests/events cover it).
        "^/v1/sandbox|^/v1/events$",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--phases",
        PHASES,
        "--mode",
        "all",
        "--generation-database",
        "none",
        "--generation-with-security-parameters",
        "false",
        # Generous: a loaded CI machine may be slow; a hang still fails.
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--no-color",
    ]
    if authorization:
        args += ["--header", f"Authorization: {authorization}"]
    process = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        cwd=report.parent,  # where it keeps its own files
    )
    output, _ = await process.communicate()
    text = output.decode()
    await asyncio.to_thread(report.write_text, text)
    assert process.returncode is not None
    return process.returncode, text


def _summary(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "SUMMARY" in line), len(lines) - 30)
    return "\n".join(lines[max(0, start) :])


async def test_generated_requests_get_documented_answers_and_no_server_error(
    settings: Settings, tmp_path: Path
) -> None:
    app = create_app(settings)
    async with serve_in_background(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            client.app = app  # type: ignore[attr-defined]
            world = await make_world(client)
            offer = (await world.apply(proposedDate=in_days(2))).json()
            accepted = await client.post(
                f"/v1/offers/{offer['id']}/accept", headers=world.advertiser
            )
            assert accepted.status_code == 200, accepted.text
            # The document schemathesis reads, fetched once here: its first rendering is the
            # slowest request the server answers, and st would give it its request timeout.
            document = await client.get("/openapi.json")
            assert document.status_code == 200, document.text
            schema = tmp_path / "openapi.json"
            await asyncio.to_thread(schema.write_bytes, document.content)
        callers = {
            "anonymous": None,
            "advertiser": world.advertiser["Authorization"],
            "publisher": world.publisher["Authorization"],
        }
        results = {}
        for name, authorization in callers.items():
            results[name] = await _schemathesis(
                url, schema, authorization, tmp_path / f"{name}.txt"
            )

    for name, (code, text) in results.items():
        summary = _summary(text)
        print(f"--- schemathesis as {name} ---\n{summary}")
        assert code == 0, f"schemathesis as {name} failed:\n{text[-20000:]}"
        assert re.search(r"\b[1-9]\d* passed\b", summary), summary
