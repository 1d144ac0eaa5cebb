"""The deployment files agree with the code: compose.yaml's commands exist in the CLI with the
options it passes, every CHAINFLUENCE_ name in compose.yaml, the Dockerfile and .env.example is a
real setting, .env.example mentions every setting and leaves none that production requires to a
comment, and the image installs the production lock only. (No Docker daemon runs here: the image
is not built by the tests.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from pydantic import BaseModel

from chainfluence.cli import app
from chainfluence.config import Settings

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("migrate", "api", "worker")
NAME = re.compile(r"\bCHAINFLUENCE_[A-Z0-9_]+")


def setting_names(model: type[BaseModel] = Settings, prefix: str = "CHAINFLUENCE_") -> set[str]:
    names: set[str] = set()
    for field, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= setting_names(annotation, f"{prefix}{field.upper()}__")
        else:
            names.add(f"{prefix}{field.upper()}")
    return names


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


def _resolve(args: list[str]) -> Any:
    """The CLI command `chainfluence ARGS` runs (typer's own click: duck-typed)."""
    command: Any = typer.main.get_command(app)
    for word in args:
        if word.startswith("-") or not hasattr(command, "commands"):
            break
        assert word in command.commands, f"`chainfluence {' '.join(args)}`: no {word!r}"
        command = command.commands[word]
    return command


@pytest.mark.parametrize("service", APP_SERVICES)
def test_compose_runs_commands_the_cli_has(compose: dict[str, Any], service: str) -> None:
    spec = compose["services"][service]
    args = spec["command"]

    command = _resolve(args)

    assert spec["image"] == "chainfluence:latest"
    assert spec["build"]["target"] == "production"
    assert not hasattr(command, "commands"), f"{args} names a group, not a command"
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert {arg for arg in args if arg.startswith("--")} <= known


def test_compose_shape(compose: dict[str, Any]) -> None:
    services = compose["services"]

    assert {"postgres", "redis", *APP_SERVICES} <= set(services)
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["worker"]["deploy"]["replicas"] >= 2
    for service in ("api", "worker"):
        assert services[service]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert "healthz" in " ".join(services[service]["healthcheck"]["test"])
    assert services["migrate"]["restart"] == "no"
    for service in services.values():
        assert "healthcheck" in service or service is services["migrate"]


def test_every_setting_name_in_the_deployment_files_exists() -> None:
    known = setting_names()
    for path in ("compose.yaml", "Dockerfile", ".env.example"):
        used = set(NAME.findall((ROOT / path).read_text()))
        assert used - known == set(), f"{path} names settings that do not exist"


def test_env_example_lists_every_setting_and_leaves_no_required_one_commented(
    compose: dict[str, Any],
) -> None:
    text = (ROOT / ".env.example").read_text()
    active = {
        line.split("=", 1)[0] for line in text.splitlines() if line and not line.startswith("#")
    }
    from_compose = set(compose["x-app"]["environment"])
    # Everything production asks for, once the network is a real one.
    required = set(
        NAME.findall(
            " ".join(Settings(_env_file=None, ton={"network": "testnet"}).production_problems())
        )  # type: ignore[call-arg]
    )

    assert setting_names() - set(NAME.findall(text)) == set()
    assert required - active - from_compose == set()
    assert "CHAINFLUENCE_TON__WALLET_MNEMONIC" in required
    assert {"CHAINFLUENCE_DATABASE__URL", "CHAINFLUENCE_REDIS__URL"} <= from_compose
    assert "POSTGRES_PASSWORD" in active


def test_the_image_installs_the_production_lock_without_resolving() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    runs = " ".join(
        line for line in dockerfile.replace("\\\n", " ").splitlines() if line.startswith("RUN")
    )

    assert "pip install --require-hashes -r requirements/service.txt" in runs
    assert "pip install --no-deps --no-build-isolation ." in runs
    assert "dev.txt" not in dockerfile
    assert not re.search(r"\b(npm|node|apt-get)\b", runs)
    assert re.search(r"^USER chainfluence", dockerfile, re.MULTILINE)
    assert dockerfile.strip().splitlines()[-2:] == ['ENTRYPOINT ["chainfluence"]', 'CMD ["api"]']
