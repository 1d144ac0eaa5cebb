"""The `chainfluence` command line: serve, api, worker, db, evidence, openapi, and what installed
plugins add (`chainfluence.plugins`: the sandbox distribution adds demo and sandbox)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from chainfluence import plugins
from chainfluence.config import Settings, describe_problems, get_settings

app = typer.Typer(help="Chainfluence: Telegram channel ads with TON escrow.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
evidence_app = typer.Typer(help="Deal evidence packs.", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")


def load_settings() -> Settings:
    """The settings, or one message listing every problem (no traceback) and exit code 2."""
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        problems = describe_problems(exc)
        typer.echo(
            f"Chainfluence cannot start: the configuration has {len(problems)} problem(s) "
            "(environment variables, or .env in the working directory):",
            err=True,
        )
        for problem in problems:
            typer.echo(f"  - {problem}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """Everything in one process: API, bot, jobs, chain watcher (the sandbox with no config)."""
    settings = load_settings()
    from chainfluence.kit import faults
    from chainfluence.operations import ensure_port_free
    from chainfluence.runner import run_serve

    faults.arm(settings.fault_point)
    ensure_port_free(
        host or settings.http.host,
        settings.http.port if port is None else port,
        setting="--port or CHAINFLUENCE_HTTP__PORT",
    )
    asyncio.run(run_serve(settings, host=host, port=port))


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, help="uvicorn worker processes, about one per core (needs Redis)"),
    ] = 1,
) -> None:
    """The stateless HTTP API (and the bot's webhook); jobs go to the Redis queue."""
    # Settings and the port are checked before the application is imported (seconds).
    settings = load_settings()
    if workers > 1 and not settings.redis.url:
        raise SystemExit(
            "`chainfluence api --workers N` needs Redis (CHAINFLUENCE_REDIS__URL): without it "
            "each API process would run the jobs, sweeps and chain watcher itself."
        )
    from chainfluence.operations import banner, ensure_port_free

    host = host or settings.http.host
    port = settings.http.port if port is None else port
    typer.echo(banner("api", settings, listening=f"http://{host}:{port}"))
    ensure_port_free(host, port, setting="--port or CHAINFLUENCE_HTTP__PORT")
    from chainfluence.runner import run_api

    run_api(settings, host=host, port=port, workers=workers)


@app.command()
def worker() -> None:
    """Job consumer: BullMQ jobs, periodic sweeps and the chain watcher; /healthz, /readyz and
    /metrics on CHAINFLUENCE_WORKER__PORT."""
    settings = load_settings()
    if not settings.redis.url:
        raise SystemExit(
            "`chainfluence worker` consumes the Redis queue: set CHAINFLUENCE_REDIS__URL."
        )
    from chainfluence.kit import faults
    from chainfluence.operations import ensure_port_free

    ensure_port_free(
        settings.worker.host, settings.worker.port, setting="CHAINFLUENCE_WORKER__PORT"
    )
    from chainfluence.runner import run_worker

    faults.arm(settings.fault_point)
    asyncio.run(run_worker(settings))


@evidence_app.command("verify")
def evidence_verify(
    file: Annotated[Path, typer.Argument(help="The pack (GET /v1/deals/{id}/evidence)")],
    key: Annotated[
        str | None, typer.Option(help="The platform's public key: 64 hex digits or base64")
    ] = None,
    key_url: Annotated[
        str | None,
        typer.Option(help="The published keys: <api>/.well-known/chainfluence-evidence-key"),
    ] = None,
) -> None:
    """Check a pack offline: its signature, the escrow address recomputed from its terms and
    code, and each creative's content hash. Exit 0 when all match, 1 naming what does not, 2
    when the file or the key cannot be read."""
    import json

    from chainfluence.evidence import verify

    try:
        pack = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        typer.echo(f"Cannot read {file}: {exc}", err=True)
        raise typer.Exit(2) from None
    if (key is None) == (key_url is None):
        typer.echo("Give the platform's public key: --key KEY or --key-url URL.", err=True)
        raise typer.Exit(2)
    try:
        if key is not None:
            public_key = verify.public_key_from(key)
        else:
            assert key_url is not None
            signature = pack.get("signature") if isinstance(pack, dict) else None
            named = signature.get("keyId") if isinstance(signature, dict) else None
            public_key = verify.fetch_public_key(key_url, str(named))
    except verify.KeyUnavailable as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    report = verify.check(pack, public_key)
    deal = pack.get("deal") if isinstance(pack, dict) else None
    if isinstance(deal, dict):
        typer.echo(f"Evidence pack of deal #{deal.get('id')} ({deal.get('status')}), {file}")
    for note in report.notes:
        typer.echo(f"  ok  {note}")
    for problem in report.problems:
        typer.echo(f"  MISMATCH  {problem}")
    if not report.ok:
        typer.echo(f"FAILED: {len(report.problems)} check(s) do not match.")
        raise typer.Exit(1)
    typer.echo("VERIFIED: the pack is as the platform signed it.")


@app.command()
def openapi(
    output: Annotated[
        Path | None, typer.Option(help="Write the document here instead of standard output")
    ] = None,
) -> None:
    """Print the API's OpenAPI document (JSON) without starting a server: the TypeScript
    client in clients/typescript is generated from it (`make clients`)."""
    import json

    from chainfluence.app import create_app

    document = create_app(settings=load_settings()).openapi()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from chainfluence.kit.db import create_engine
    from chainfluence.migrations import migrate

    async def _run() -> None:
        engine = create_engine(load_settings().database.url)
        try:
            await migrate.upgrade(engine, revision)
            typer.echo(f"database at {await migrate.current_revision(engine)}")
        finally:
            await engine.dispose()

    asyncio.run(_run())


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision."""
    from chainfluence.kit.db import create_engine
    from chainfluence.migrations import migrate

    async def _run() -> None:
        engine = create_engine(load_settings().database.url)
        try:
            typer.echo(await migrate.current_revision(engine) or "empty")
        finally:
            await engine.dispose()

    asyncio.run(_run())


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Argument(help="What the migration does")]) -> None:
    """Autogenerate a migration from the models (against a scratch SQLite database)."""
    from chainfluence.kit.db import create_engine
    from chainfluence.migrations import migrate

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


# Installed extensions add theirs (the sandbox distribution: `demo`, `sandbox telegram|ton|up`).
for _plugin in plugins.installed():
    _plugin.add_commands(app)

if __name__ == "__main__":
    app()
