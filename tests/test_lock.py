"""The lock files (`make lock`) pin every dependency pyproject.toml declares, in a version its
range allows, with hashes; the service and dev locks agree; and the environment the tests run in
is the locked one, so CI never runs on versions other than those."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
SERVICE_LOCK = ROOT / "requirements" / "service.txt"
DEV_LOCK = ROOT / "requirements" / "dev.txt"
BUILD_INPUT = ROOT / "requirements" / "build.in"


@dataclass(frozen=True)
class Pin:
    requirement: Requirement
    hashes: tuple[str, ...]

    @property
    def name(self) -> str:
        return canonicalize_name(self.requirement.name)

    @property
    def version(self) -> Version:
        (spec,) = self.requirement.specifier
        assert spec.operator == "==", f"{self.requirement} is not an exact pin"
        return Version(spec.version)

    def applies_here(self) -> bool:
        marker = self.requirement.marker
        return marker is None or marker.evaluate()


def read_lock(path: Path) -> list[Pin]:
    text = path.read_text().replace("\\\n", " ")
    pins = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        hashes = tuple(re.findall(r"--hash=(\S+)", line))
        spec = re.sub(r"\s*--hash=\S+", "", line).strip()
        pins.append(Pin(Requirement(spec), hashes))
    return pins


def declared(*extras: str) -> list[Requirement]:
    """pyproject's dependencies plus those of `extras` (self-references expanded)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    requirements = [Requirement(r) for r in project["dependencies"]]
    pending, seen = list(extras), set()
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for raw in optional[extra]:
            requirement = Requirement(raw)
            if canonicalize_name(requirement.name) == canonicalize_name(project["name"]):
                pending.extend(requirement.extras)
            else:
                requirements.append(requirement)
    build = [line for line in BUILD_INPUT.read_text().splitlines() if line and line[0] != "#"]
    return requirements + [Requirement(r) for r in build]


@pytest.mark.parametrize(
    ("lock", "extras"), [(SERVICE_LOCK, ()), (DEV_LOCK, ("dev",))], ids=["service", "dev"]
)
def test_every_declared_dependency_is_locked_in_a_version_it_allows(
    lock: Path, extras: tuple[str, ...]
) -> None:
    pins = read_lock(lock)
    by_name: dict[str, list[Pin]] = {}
    for pin in pins:
        by_name.setdefault(pin.name, []).append(pin)

    problems = []
    for requirement in declared(*extras):
        name = canonicalize_name(requirement.name)
        if name not in by_name:
            problems.append(f"{requirement} is not in {lock.name}: run `make lock`")
            continue
        for pin in by_name[name]:
            if not requirement.specifier.contains(pin.version, prereleases=True):
                problems.append(f"{lock.name} pins {pin.requirement}, outside {requirement}")

    assert problems == []
    assert all(pin.hashes for pin in pins), "every locked package must carry its hashes"


def test_the_production_lock_has_no_sandbox_or_dev_tools() -> None:
    names = {pin.name for pin in read_lock(SERVICE_LOCK)}

    # The emulators are their own distribution (packages/chainfluence-sandbox), not locked here.
    assert names.isdisjoint({"pytvm", "chainfluence-sandbox", "pytest", "ruff", "mypy"})
    assert {"fastapi", "bullmq", "redis", "asyncpg"} <= names


def test_service_and_dev_locks_pin_the_same_versions() -> None:
    service = {
        (pin.name, str(pin.requirement.marker)): pin.version for pin in read_lock(SERVICE_LOCK)
    }
    dev = {(pin.name, str(pin.requirement.marker)): pin.version for pin in read_lock(DEV_LOCK)}
    dev_by_name: dict[str, set[Version]] = {}
    for (name, _), version in dev.items():
        dev_by_name.setdefault(name, set()).add(version)

    def dev_version(key: tuple[str, str]) -> Version | None:
        # A dev-only dependency may widen where a shared package applies (its marker becomes a
        # union, e.g. cffi for selenium's trio on Windows); the version must still be the one.
        if key in dev:
            return dev[key]
        versions = dev_by_name.get(key[0], set())
        return next(iter(versions)) if len(versions) == 1 else None

    assert {
        key: (version, dev_version(key))
        for key, version in service.items()
        if dev_version(key) != version
    } == {}


def test_the_test_environment_is_the_locked_one() -> None:
    wrong = {}
    for pin in read_lock(DEV_LOCK):
        if not pin.applies_here():
            continue
        try:
            installed = Version(metadata.version(pin.name))
        except metadata.PackageNotFoundError:
            wrong[pin.name] = "not installed"
            continue
        if installed != pin.version:
            wrong[pin.name] = f"{installed} installed, {pin.version} locked"

    assert wrong == {}, "run `make install` (it installs requirements/dev.txt)"
