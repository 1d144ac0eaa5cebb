"""Login and profile throughput: POST /v1/auth/login and GET /v1/users/me on PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import aiohttp

from benchmarks.harness import BENCH_BOT_TOKEN, api_server, header, postgres_database, run_load

USERS = 2000


def _init_data(user_id: int) -> str:
    fields = {
        "auth_date": str(int(time.time())),
        "query_id": f"bench{user_id}",
        "user": json.dumps({"id": user_id, "first_name": f"User {user_id}"}, separators=(",", ":")),
    }
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    secret = hmac.new(b"WebAppData", BENCH_BOT_TOKEN.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


async def run(*, duration: float, concurrency: int) -> None:
    header(f"auth and users (PostgreSQL, {concurrency} concurrent, {duration:.0f} s each)")
    async with postgres_database() as database_url:
        with api_server(database_url) as url:
            # initData is signed ahead of time so the load loop measures the server only.
            signed = [_init_data(1_000_000 + i) for i in range(USERS)]

            async def login(session: aiohttp.ClientSession, n: int) -> int:
                payload = {"initData": signed[n % USERS]}
                async with session.post(f"{url}/v1/auth/login", json=payload) as response:
                    await response.read()
                    return response.status

            result = await run_load(
                "POST /v1/auth/login (2,000 users, upsert each time)",
                login,
                duration=duration,
                concurrency=concurrency,
            )
            print(result.line())

            tokens: list[str] = []
            async with aiohttp.ClientSession() as session:
                for raw in signed[:200]:
                    async with session.post(
                        f"{url}/v1/auth/login", json={"initData": raw}
                    ) as response:
                        tokens.append((await response.json())["access_token"])

            async def me(session: aiohttp.ClientSession, n: int) -> int:
                headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
                async with session.get(f"{url}/v1/users/me", headers=headers) as response:
                    await response.read()
                    return response.status

            result = await run_load(
                "GET /v1/users/me (Bearer JWT, 200 users)",
                me,
                duration=duration,
                concurrency=concurrency,
            )
            print(result.line())
