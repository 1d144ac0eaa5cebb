"""The sandbox as a `chainfluence` plugin (entry point `sandbox` in `chainfluence.plugins`).

What it adds to the product, which never imports this distribution:

- the commands `chainfluence demo` and `chainfluence sandbox telegram | ton | up`;
- under `chainfluence serve` in sandbox mode, the emulators for each service the settings leave
  unconfigured, and the sandbox helper routes (`/v1/sandbox/...`);
- the views providers for a Telegram that is the emulator (`telegram.emulator_url`).

Everything is imported when first used, so `chainfluence --help` loads none of the emulators.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from chainfluence.config import Settings
from chainfluence.plugins import LocalServices, Plugin

if TYPE_CHECKING:
    import typer
    from sqlalchemy.ext.asyncio import AsyncEngine

    from chainfluence.ports import StatsProvider

__all__ = ["SandboxPlugin", "plugin"]


class SandboxPlugin(Plugin):
    name = "sandbox"

    def add_commands(self, cli: typer.Typer) -> None:
        from chainfluence_sandbox.commands import add_commands

        add_commands(cli)

    def local_services(
        self, settings: Settings
    ) -> AbstractAsyncContextManager[LocalServices] | None:
        from chainfluence_sandbox.services import sandbox_services

        return sandbox_services(settings)

    def views_providers(
        self, settings: Settings, engine: AsyncEngine
    ) -> list[StatsProvider] | None:
        if not settings.telegram.emulator_url:
            return None
        from chainfluence_sandbox.views import emulator_views_providers

        return emulator_views_providers(settings, engine)


plugin = SandboxPlugin()
