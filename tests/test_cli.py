"""The command line: migrations, and the roles refusing what they cannot run."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from chainfluence.cli import app
from chainfluence.config import get_settings
from chainfluence.migrations import migrate


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    database = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("CHAINFLUENCE_DATABASE__URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.delenv("CHAINFLUENCE_REDIS__URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    get_settings.cache_clear()
    yield database
    get_settings.cache_clear()


def test_db_upgrade_migrates_an_empty_database_and_current_reports_it(env: Path) -> None:
    runner = CliRunner()

    before = runner.invoke(app, ["db", "current"])
    upgraded = runner.invoke(app, ["db", "upgrade"])
    after = runner.invoke(app, ["db", "current"])

    assert before.exit_code == 0
    assert before.output.strip() == "empty"
    assert upgraded.exit_code == 0, upgraded.output
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head is not None
    assert upgraded.output.strip() == f"database at {head}"
    assert after.output.strip() == head


def test_worker_without_redis_refuses_with_a_message(env: Path) -> None:
    result = CliRunner().invoke(app, ["worker"])

    assert result.exit_code != 0
    assert "CHAINFLUENCE_REDIS__URL" in str(result.exception or result.output)


def test_api_with_several_workers_and_no_redis_refuses_with_a_message(env: Path) -> None:
    # Without Redis each API process would run the jobs, sweeps and chain watcher itself.
    result = CliRunner().invoke(app, ["api", "--workers", "2"])

    assert result.exit_code != 0
    assert "CHAINFLUENCE_REDIS__URL" in str(result.exception or result.output)
