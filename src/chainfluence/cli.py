"""The `chainfluence` command line: serve, api, worker, demo, db."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from chainfluence.config import get_settings

app = typer.Typer(help="Chainfluence: Telegram channel ads with TON escrow.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """Everything in one process: API, bot, jobs, chain watcher (the sandbox with no config)."""
    from chainfluence.runner import run_serve

    asyncio.run(run_serve(get_settings(), host=host, port=port))


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """The stateless HTTP API (and the bot's webhook); jobs go to the Redis queue."""
    from chainfluence.runner import run_api

    run_api(get_settings(), host=host, port=port, workers=workers)


@app.command()
def worker() -> None:
    """Job consumer: BullMQ jobs, periodic sweeps and the chain watcher."""
    from chainfluence.runner import run_worker

    asyncio.run(run_worker(get_settings()))


@app.command()
def demo(
    price: Annotated[str, typer.Option(help="The deal's price in TON")] = "10",
) -> None:
    """Play one whole deal on a throwaway sandbox and tell it step by step (exit 1 on failure)."""
    from chainfluence.kit.money import MoneyError, ton_to_nano
    from chainfluence.sandbox.demo import run_demo

    try:
        if ton_to_nano(price) <= 0:
            raise MoneyError("the price must be positive")
    except MoneyError as exc:
        raise typer.BadParameter(str(exc), param_hint="--price") from None
    raise typer.Exit(asyncio.run(run_demo(price=price, echo=typer.echo)))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from chainfluence.kit import migrate
    from chainfluence.kit.db import create_engine

    async def _run() -> None:
        engine = create_engine(get_settings().database.url)
        try:
            await migrate.upgrade(engine, revision)
            typer.echo(f"database at {await migrate.current_revision(engine)}")
        finally:
            await engine.dispose()

    asyncio.run(_run())


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision."""
    from chainfluence.kit import migrate
    from chainfluence.kit.db import create_engine

    async def _run() -> None:
        engine = create_engine(get_settings().database.url)
        try:
            typer.echo(await migrate.current_revision(engine) or "empty")
        finally:
            await engine.dispose()

    asyncio.run(_run())


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Argument(help="What the migration does")]) -> None:
    """Autogenerate a migration from the models (against a scratch SQLite database)."""
    from chainfluence.kit import migrate
    from chainfluence.kit.db import create_engine

    async def _run(path: Path) -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await migrate.upgrade(engine)
            async with engine.begin() as conn:
                path = await conn.run_sync(lambda sync: migrate.generate_revision(sync, message))
            typer.echo(f"wrote {path}; review it, then run `make fmt`")
        finally:
            await engine.dispose()

    with tempfile.TemporaryDirectory() as scratch:
        asyncio.run(_run(Path(scratch) / "scratch.sqlite3"))


if __name__ == "__main__":
    app()
