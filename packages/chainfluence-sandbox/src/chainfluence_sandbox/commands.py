"""The sandbox's commands on the `chainfluence` command line: `demo` and
`sandbox telegram | ton | up`, added through `chainfluence.plugins` (see
`chainfluence_sandbox.plugin`)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer

from chainfluence.config import Settings

__all__ = ["add_commands"]

sandbox_app = typer.Typer(
    help="The local emulators as their own processes (sandbox mode; no network needed).",
    no_args_is_help=True,
)

HostOption = Annotated[str, typer.Option(help="Bind address")]
PublicUrlOption = Annotated[
    str | None,
    typer.Option(help="The URL other processes reach it at (default: http://HOST:PORT)"),
]
EnvFileOption = Annotated[
    Path | None,
    typer.Option(help="Also write the settings for api/worker to this file (once serving)"),
]


def add_commands(cli: typer.Typer) -> None:
    cli.command()(demo)
    cli.add_typer(sandbox_app, name="sandbox")


def _settings() -> Settings:
    # The command line's own loading (one message listing every problem, exit code 2); imported
    # here because `chainfluence.cli` adds these commands as it is imported.
    from chainfluence.cli import load_settings

    return load_settings()


def demo(
    price: Annotated[str, typer.Option(help="The deal's price in TON")] = "10",
    evidence: Annotated[
        Path | None,
        typer.Option(help="Keep the deal's evidence pack here (default: a new temporary file)"),
    ] = None,
) -> None:
    """Play one whole deal on a throwaway sandbox and tell it step by step (exit 1 on failure)."""
    from chainfluence.kit.money import MoneyError, ton_to_nano
    from chainfluence_sandbox.demo import run_demo

    try:
        if ton_to_nano(price) <= 0:
            raise MoneyError("the price must be positive")
    except MoneyError as exc:
        raise typer.BadParameter(str(exc), param_hint="--price") from None
    raise typer.Exit(asyncio.run(run_demo(price=price, echo=typer.echo, evidence=evidence)))


def _run_sandbox(coroutine: Coroutine[Any, Any, None]) -> None:
    from chainfluence_sandbox.processes import SandboxRefused

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
    from chainfluence_sandbox.processes import run_telegram_service

    _run_sandbox(
        run_telegram_service(
            _settings(), host=host, port=port, public_url=public_url, env_file=env_file
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
    from chainfluence_sandbox.processes import run_ton_service

    _run_sandbox(
        run_ton_service(
            _settings(),
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
    from chainfluence_sandbox.processes import run_sandbox_up

    _run_sandbox(
        run_sandbox_up(
            _settings(),
            host=host,
            port=port,
            public_url=public_url,
            api_url=api_url,
            env_file=env_file,
        )
    )
