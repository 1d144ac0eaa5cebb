"""Extensions installed beside the product, found through the `chainfluence.plugins` entry points.

The product never imports an extension: a distribution that wants to plug in names an object in
its metadata (`[project.entry-points."chainfluence.plugins"]`), a `Plugin`, and the wiring asks
every installed one at three points:

- the command line (`add_commands`): extra `chainfluence` commands;
- `chainfluence serve` (`local_services`): services to start first, e.g. local stand-ins for
  Telegram and TON; they hand back the settings that point at them, lines for the banner, and
  routes to mount (sandbox mode only);
- the views providers (`views_providers`): where post views come from, when the extension serves
  the Telegram the settings point at.

The sandbox distribution (`packages/chainfluence-sandbox`, `chainfluence_sandbox.plugin`) is the
one extension; a production install has none, and then each point falls back to the product alone.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Protocol

from chainfluence.config import Settings

if TYPE_CHECKING:
    import typer
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

    from chainfluence.ports import StatsProvider

__all__ = ["GROUP", "LocalServices", "Plugin", "installed", "local_services", "views_providers"]

GROUP = "chainfluence.plugins"


class LocalServices(Protocol):
    """What a plugin started for `chainfluence serve`."""

    # The settings pointing at what was started.
    settings: Settings

    def describe(self, url: str) -> list[str]:
        """Lines for the start-up banner; `url` is where the API is served."""
        ...

    def install_routes(self, app: FastAPI) -> None:
        """Mount this extension's routes on the API (called in sandbox mode only)."""
        ...


@dataclass
class NoLocalServices:
    """`serve` with no plugin that starts anything: the settings as they are."""

    settings: Settings
    lines: list[str] = field(default_factory=list)

    def describe(self, url: str) -> list[str]:
        return list(self.lines)

    def install_routes(self, app: FastAPI) -> None:
        return None


class Plugin:
    """An extension: subclass it and override what the extension provides (the rest does
    nothing)."""

    name: str = "plugin"

    def add_commands(self, cli: typer.Typer) -> None:
        """Add commands to the `chainfluence` command line."""

    def local_services(
        self, settings: Settings
    ) -> AbstractAsyncContextManager[LocalServices] | None:
        """Services to run around `chainfluence serve`, or None when there are none to run."""
        return None

    def views_providers(
        self, settings: Settings, engine: AsyncEngine
    ) -> list[StatsProvider] | None:
        """The views providers for these settings, or None to leave the choice to the product."""
        return None


@functools.cache
def installed() -> tuple[Plugin, ...]:
    """Every installed plugin, by entry point name. A broken one raises: an extension the
    install names but cannot load is a broken install, not one to run without."""
    plugins = []
    for point in sorted(entry_points(group=GROUP), key=lambda point: point.name):
        plugin = point.load()
        if not isinstance(plugin, Plugin):
            raise TypeError(
                f"entry point {point.name} = {point.value} in {GROUP} is not a "
                "chainfluence.plugins.Plugin"
            )
        plugins.append(plugin)
    return tuple(plugins)


@contextlib.asynccontextmanager
async def local_services(settings: Settings) -> AsyncIterator[LocalServices]:
    """The first installed plugin's services for `serve`, started until the block exits."""
    for plugin in installed():
        started = plugin.local_services(settings)
        if started is not None:
            async with started as services:
                yield services
            return
    lines = []
    if settings.is_sandbox:
        lines.append(
            "  No emulators: the chainfluence-sandbox distribution is not installed "
            "(`make install` installs it)."
        )
    yield NoLocalServices(settings, lines)


def views_providers(settings: Settings, engine: AsyncEngine) -> list[StatsProvider]:
    """The views providers: a plugin's when one claims these settings, else the product's."""
    for plugin in installed():
        providers = plugin.views_providers(settings, engine)
        if providers is not None:
            return providers
    from chainfluence.telegram.stats_providers import configured_providers

    return configured_providers(settings, engine)
