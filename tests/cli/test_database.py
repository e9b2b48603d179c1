"""``lafactoria db upgrade`` and ``lafactoria db current`` on the database the server uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from lafactoria.cli import cli, server, worker
from lafactoria.db import migrate


@pytest.fixture(autouse=True)
def server_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env file applies
    monkeypatch.setenv("LAFACTORIA_ENV", "test")
    monkeypatch.setenv("LAFACTORIA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LAFACTORIA_DATABASE_URL", raising=False)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_upgrade_then_current(tmp_path: Path) -> None:
    head = migrate.head()

    before = run("db", "current")
    upgraded = run("db", "upgrade")
    again = run("db", "upgrade")
    after = run("db", "current")

    assert before.exit_code == 0, before.output
    assert before.stdout == "none\n"
    assert f"This version runs on revision {head}: run `lafactoria db upgrade`." in before.stderr
    assert upgraded.exit_code == 0, upgraded.output
    assert f"database: sqlite {tmp_path.resolve()}/lafactoria.db" in upgraded.stderr
    assert f"Upgraded the database from revision none to {head}." in upgraded.stderr
    assert f"The database is at revision {head}: nothing to do." in again.stderr
    assert after.stdout == f"{head}\n"
    assert "Up to date." in after.stderr


def test_an_unreachable_database_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAFACTORIA_DATABASE_URL", "postgres://nobody:secret@127.0.0.1:1/lf")

    result = run("db", "upgrade")

    assert result.exit_code == 1
    assert "database: postgresql+asyncpg://nobody:***@127.0.0.1:1/lf" in result.stderr
    assert "Error: the database is not reachable: ConnectionRefusedError" in result.stderr
    assert "secret" not in result.output
    assert "Traceback" not in result.output


def test_help_describes_the_commands() -> None:
    result = run("db", "--help")

    assert result.exit_code == 0
    assert "upgrade" in result.stdout
    assert "current" in result.stdout


@pytest.mark.parametrize("command", [["serve"], ["worker"]])
def test_a_server_or_worker_refuses_an_outdated_schema_in_one_line(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAFACTORIA_AUTO_MIGRATE", "false")
    # Never reached: the schema is checked first.
    monkeypatch.setenv("LAFACTORIA_REDIS_URL", "redis://127.0.0.1:1/0")
    # The commands configure the process's logging for good; in this process it would keep
    # writing to the runner's closed stream after the test.
    for command_module in (server, worker):
        monkeypatch.setattr(command_module, "configure_logging", lambda level: None)

    result = run(*command)

    assert result.exit_code == 2, result.output
    assert "has no tables yet" in result.stderr
    assert "lafactoria db upgrade" in result.stderr
    assert "Traceback" not in result.output
