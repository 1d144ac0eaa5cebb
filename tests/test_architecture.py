"""The architecture's rules, checked on the code's own imports (ARCHITECTURE.md).

- the import contracts (`make imports`) fail on an import that breaks them, and they ignore no
  import;
- no import cycle: none between modules, none between top-level packages;
- the product installs, imports and builds its app without the sandbox distribution.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import grimp
import pytest

import chainfluence

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# The largest group of modules of src/chainfluence that import each other in a loop, and of
# top-level packages, counting imports made for type checking only: measured when the contracts
# were introduced, 41 and 17 (42 and 18 once the live events landed); since the wiring moved to
# the top (bootstrap, ports, chain events through a sink) 2 and 16; since the bot's application
# left telegram/ (chainfluence.bot) and no module below the wiring takes the Runtime, 0 and 5;
# now 0 and 0 (payout orders in deals, a campaign's end and a push's attachment handed down by
# the wiring, users below auth, the migration runner beside the migrations).


def _largest_cycle(graph: dict[str, set[str]]) -> set[str]:
    """The largest strongly connected component of `graph` (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    largest: set[str] = set()
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph[root])))]
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > len(largest):
                        largest = component
    return largest if len(largest) > 1 else set()


@pytest.fixture(scope="module")
def imports() -> dict[str, set[str]]:
    graph = grimp.build_graph("chainfluence", cache_dir=None)
    return {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}


def _top_level(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_import_cycle_between_modules(imports: dict[str, set[str]]) -> None:
    cycle = _largest_cycle(imports)

    assert cycle == set(), sorted(cycle)


def test_no_import_cycle_between_top_level_packages(imports: dict[str, set[str]]) -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in imports.items():
        package = _top_level(module)
        packages.setdefault(package, set())
        packages[package] |= {_top_level(t) for t in targets} - {package}
    for targets in list(packages.values()):
        for target in targets:
            packages.setdefault(target, set())
    cycle = _largest_cycle(packages)

    assert cycle == set(), sorted(cycle)
    # Every top-level package is in the layers contract, so the layers decide who imports whom.
    layered = {
        name.strip()
        for layer in _contract("layers")["layers"]
        for name in layer.replace("|", ":").split(":")
    }
    assert set(packages) - {"chainfluence"} <= layered, sorted(set(packages) - layered)


def _contract(contract_id: str) -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == contract_id]
    return contract


def test_the_contracts_ignore_no_import() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]

    assert len(contracts) == 3
    assert [c["id"] for c in contracts if c.get("ignore_imports")] == []


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _lint_imports(source: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the contracts in pyproject.toml over the chainfluence package at
    `source` (a copy of src/ to change)."""
    return _run([str(LINT_IMPORTS), "--no-cache"], {**os.environ, "PYTHONPATH": str(source)})


def test_an_import_that_breaks_a_contract_fails_the_check(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(
        Path(chainfluence.__file__).parent,
        source / "chainfluence",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    as_is = _lint_imports(source)
    # The product importing the emulators; the chain layer reading deals; the kit importing a
    # domain (a layer reaching up).
    for file, line in [
        ("kit/time.py", "import chainfluence_sandbox.clock"),
        ("ton/client.py", "import chainfluence.deals.state_machine"),
        ("kit/money.py", "import chainfluence.offers.service"),
    ]:
        path = source / "chainfluence" / file
        path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    broken = _lint_imports(source)

    assert as_is.returncode == 0, as_is.stdout
    assert broken.returncode == 1
    assert "Contracts: 0 kept, 3 broken." in broken.stdout
    assert "chainfluence.kit.time -> chainfluence_sandbox.clock" in broken.stdout
    assert "chainfluence.ton.client -> chainfluence.deals.state_machine" in broken.stdout
    assert "chainfluence.kit.money -> chainfluence.offers.service" in broken.stdout


# Run in a fresh interpreter: hides the sandbox distribution (its modules and its metadata, so
# no entry point names it), as in an install of the product alone (the production image).
WITHOUT_SANDBOX = """
import importlib.machinery
import sys


class HideSandbox(importlib.machinery.PathFinder):
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.partition(".")[0] == "chainfluence_sandbox":
            return None
        return super().find_spec(name, path, target)

    @staticmethod
    def find_distributions(*args, **kwargs):
        for dist in importlib.machinery.PathFinder.find_distributions(*args, **kwargs):
            if dist.metadata["Name"].replace("_", "-").lower() != "chainfluence-sandbox":
                yield dist


sys.meta_path[:] = [
    HideSandbox if finder is importlib.machinery.PathFinder else finder
    for finder in sys.meta_path
    if "chainfluence_sandbox" not in repr(finder)
]
try:
    import chainfluence_sandbox
except ModuleNotFoundError:
    pass
else:
    raise SystemExit("the sandbox is still importable")

from importlib.metadata import entry_points

from typer.testing import CliRunner

import chainfluence
import chainfluence.app
import chainfluence.cli
from chainfluence import plugins
from chainfluence.config import Settings

assert entry_points(group=plugins.GROUP).names == set(), entry_points(group=plugins.GROUP)
assert plugins.installed() == ()
settings = Settings(
    _env_file=None,
    mode="production",
    database={"url": "postgresql+asyncpg://app@127.0.0.1:9/chainfluence"},
    redis={"url": "redis://127.0.0.1:9/0"},
    auth={"jwt_secret": "a-real-secret-that-is-long-enough-0123456789", "operators": [42]},
    telegram={"bot_token": "123:real", "service_chat_id": -1002000000001},
    ton={
        "network": "testnet",
        "api_url": "http://127.0.0.1:9/api/v2",
        "fee_recipient": "0:" + "ab" * 32,
        "wallet_mnemonic": " ".join(["abandon"] * 23 + ["art"]),
    },
    evidence={"signing_key": "5e" * 32},
)
app = chainfluence.app.create_app(settings)
paths = set(app.openapi()["paths"])
assert "/v1/deals" in paths, sorted(paths)
assert not any(path.startswith("/v1/sandbox") for path in paths)
cli = chainfluence.cli.app
commands = {c.name or c.callback.__name__ for c in cli.registered_commands}
commands |= {g.name for g in cli.registered_groups}
assert {"serve", "api", "worker", "db"} <= commands, commands
assert not commands & {"demo", "sandbox"}, commands
assert CliRunner().invoke(cli, ["demo"]).exit_code == 2  # no such command
loaded = sorted(name for name in sys.modules if name.startswith("chainfluence_sandbox"))
assert loaded == [], loaded
print("product alone:", len([n for n in sys.modules if n.startswith("chainfluence.")]), "modules")
"""


def test_the_product_imports_and_builds_its_app_without_the_sandbox() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHAINFLUENCE_")}
    done = _run([sys.executable, "-c", WITHOUT_SANDBOX], env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "product alone:" in done.stdout
