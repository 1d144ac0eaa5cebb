"""The wiring points down: the job registry and the chain layer load no domain, and a fresh
interpreter that builds a process through `chainfluence.bootstrap` knows every job.

Each check runs in its own interpreter, so what the test process already imported cannot hide
an import.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import chainfluence

DOMAINS = (
    "admin",
    "auth",
    "campaigns",
    "channels",
    "deals",
    "escrow",
    "notifications",
    "offers",
    "reviews",
    "uploads",
    "users",
    "wallets",
)


def _loaded_after(code: str) -> list[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def _domains_in(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[:2][-1] in DOMAINS and m.startswith("chainfluence.")]


def test_the_job_registry_loads_no_domain() -> None:
    loaded = _loaded_after("import chainfluence.jobs, chainfluence.jobs.registry")
    assert "chainfluence.jobs.registry" in loaded
    assert _domains_in(loaded) == []
    assert "chainfluence.runtime" not in loaded


def test_the_chain_layer_loads_no_domain() -> None:
    modules = [
        "actions",
        "client",
        "escrow",
        "events",
        "exceptions",
        "jobs",
        "leader",
        "orders",
        "recording",
        "repository",
        "services",
        "signing",
        "ton_proof",
        "transactions",
        "wallet",
        "watcher",
    ]
    loaded = _loaded_after("\n".join(f"import chainfluence.ton.{m}" for m in modules))
    assert "chainfluence.ton.watcher" in loaded
    assert _domains_in(loaded) == []


def test_registering_twice_is_harmless_and_names_every_job() -> None:
    script = (
        "import json\n"
        "from chainfluence.bootstrap import register_handlers\n"
        "from chainfluence.jobs import registry\n"
        "register_handlers(); register_handlers()\n"
        "print(json.dumps({'jobs': registry.job_names(), "
        "'sweeps': [p.name for p in registry.periodic_specs()]}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    names = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"deals.advance", "escrow.send_payouts", "notifications.push"} <= set(names["jobs"])
    assert {"deals.sweep_due", "offers.sweep_expired", "campaigns.sweep_ending"} <= set(
        names["sweeps"]
    )


def _imports_in(package: Path) -> dict[str, set[str]]:
    """Every module each file of `package` imports, anywhere in it (functions and type-only
    blocks included: a deferred import is still a dependency)."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(package.parent))] = names
    return found


def test_the_registry_and_the_chain_layer_name_no_domain_nor_the_wiring_anywhere() -> None:
    root = Path(chainfluence.__file__).parent
    upward = (
        *(f"chainfluence.{d}." for d in DOMAINS),
        "chainfluence.runtime.",
        "chainfluence.bootstrap.",
    )
    offending = {
        f"{file}: {name}"
        for package in ("jobs", "ton")
        for file, names in _imports_in(root / package).items()
        for name in names
        if f"{name}.".startswith(upward)
    }
    assert offending == set()


def test_the_api_process_loads_no_migration_tooling() -> None:
    # `chainfluence api` runs `runner.app_factory`; migrations are `chainfluence db`'s (and
    # `serve`'s) business, and Alembic would only weigh on every API process's memory.
    loaded = _loaded_after("import chainfluence.runner, chainfluence.app")
    assert "chainfluence.runner" in loaded
    assert "alembic" not in loaded
