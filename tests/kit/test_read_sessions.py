"""A read request runs its SELECTs without a transaction on PostgreSQL, as does a login (its
upsert stands on its own); a write keeps one."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from chainfluence.models import User
from tests.conftest import runtime_of
from tests.factories import init_data, login


def _record_transactions(client: httpx.AsyncClient) -> list[tuple[str, bool]]:
    """(statement, whether it runs inside a transaction) for each statement sent: on PostgreSQL
    whether asyncpg wraps it in BEGIN ... COMMIT (the driver connection is not in autocommit)."""
    seen: list[tuple[str, bool]] = []
    engine = runtime_of(client).engine

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn.dialect.name == "postgresql":
            in_transaction = not conn.connection.dbapi_connection.autocommit
        else:
            in_transaction = conn.in_transaction()
        seen.append((statement, in_transaction))

    return seen


async def test_get_runs_without_a_transaction_on_postgresql(client: httpx.AsyncClient) -> None:
    headers = await login(client)
    seen = _record_transactions(client)

    response = await client.get("/v1/users/me", headers=headers)

    assert response.status_code == 200
    selects = [
        in_tx for statement, in_tx in seen if statement.lstrip().upper().startswith("SELECT")
    ]
    assert selects, seen
    if runtime_of(client).engine.dialect.name == "postgresql":
        assert not any(selects), seen  # no BEGIN ... COMMIT round trips around them
    else:
        assert all(selects), seen  # SQLite keeps its (local, free) transaction


async def test_a_write_still_runs_in_one_transaction(client: httpx.AsyncClient) -> None:
    headers = await login(client)
    seen = _record_transactions(client)

    response = await client.patch("/v1/users/me", headers=headers, json={"isPublisher": True})

    assert response.status_code == 200, response.text
    statements = [(sql, in_tx) for sql, in_tx in seen if not sql.startswith("BEGIN")]
    assert statements
    assert all(in_tx for _sql, in_tx in statements), statements


async def test_a_read_with_init_data_still_registers_the_user(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/users/me", headers={"Authorization": f"tma {init_data(4242)}"})

    assert response.status_code == 200, response.text
    assert response.json()["id"] == "4242"
    again = await client.get("/v1/users/me", headers=await login(client, 4242))
    assert again.json()["memberSince"] == response.json()["memberSince"]


async def test_login_is_one_upsert_and_one_select_without_a_transaction_on_postgresql(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    seen = _record_transactions(client)

    response = await client.post("/v1/auth/login", json={"initData": init_data(4343)})

    assert response.status_code == 200, response.text
    statements = [sql.lstrip().split()[0].upper() for sql, _in_tx in seen]
    assert [s for s in statements if s != "BEGIN"] == ["INSERT", "SELECT"], seen
    if runtime_of(client).engine.dialect.name == "postgresql":
        assert not any(in_tx for _sql, in_tx in seen), seen
    async with db.connect() as conn:  # stored for everyone, not only this answer
        stored = await conn.scalar(select(User.first_name).where(User.id == 4343))
    assert stored == response.json()["user"]["firstName"]
