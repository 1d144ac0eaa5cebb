"""The `chainfluence` command line: serve, api, worker, demo, db, sandbox."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer

from chainfluence.config import get_settings

app = typer.Typer(help="Chainfluence: Telegram channel ads with TON escrow.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
sandbox_app = typer.Typer(
    help="The local emulators as their own processes (sandbox mode; no network needed).",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")

HostOption = Annotated[str, typer.Option(help="Bind address")]
PublicUrlOption = Annotated[
    str | None,
    typer.Option(help="The URL other processes reach it at (default: http://HOST:PORT)"),
]
EnvFileOption = Annotated[
    Path | None,
    typer.Option(help="Also write the settings for api/worker to this file (once serving)"),
]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """Everything in one process: API, bot, jobs, chain watcher (the sandbox with no config)."""
    from chainfluence.kit import faults
    from chainfluence.runner import run_serve

    settings = get_settings()
    faults.arm(settings.fault_point)
    asyncio.run(run_serve(settings, host=host, port=port))


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
    from chainfluence.kit import faults
    from chainfluence.runner import run_worker

    settings = get_settings()
    faults.arm(settings.fault_point)
    asyncio.run(run_worker(settings))


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


def _run_sandbox(coroutine: Coroutine[Any, Any, None]) -> None:
    from chainfluence.sandbox.processes import SandboxRefused

    try:
        asyncio.run(coroutine)
    except SandboxRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@sandbox_app.command("telegram")
def sandbox_telegram(
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8081,
    public_url: PublicUrlOption = None,
    env_file: EnvFileOption = None,
) -> None:
    """The Telegram Bot API emulator, with the sandbox bot and the demo world."""
    from chainfluence.sandbox.processes import run_telegram_service

    _run_sandbox(
        run_telegram_service(
            get_settings(), host=host, port=port, public_url=public_url, env_file=env_file
        )
    )


@sandbox_app.command("ton")
def sandbox_ton(
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8082,
    public_url: PublicUrlOption = None,
    env_file: EnvFileOption = None,
    state: Annotated[Path | None, typer.Option(help="Keep the chain in this file")] = None,
) -> None:
    """The local TON chain (a toncenter v2 endpoint), with the platform wallet funded."""
    from chainfluence.sandbox.processes import run_ton_service

    _run_sandbox(
        run_ton_service(
            get_settings(),
            host=host,
            port=port,
            public_url=public_url,
            env_file=env_file,
            state=state,
        )
    )


@sandbox_app.command("up")
def sandbox_up(
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8090,
    public_url: PublicUrlOption = None,
    api_url: Annotated[
        str, typer.Option(help="The API the helpers act through (a replica or a balancer)")
    ] = "http://127.0.0.1:8000",
    env_file: EnvFileOption = None,
) -> None:
    """Both emulators, the sandbox helper routes and the sandbox clock, on one port."""
    from chainfluence.sandbox.processes import run_sandbox_up

    _run_sandbox(
        run_sandbox_up(
            get_settings(),
            host=host,
            port=port,
            public_url=public_url,
            api_url=api_url,
            env_file=env_file,
        )
    )


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
