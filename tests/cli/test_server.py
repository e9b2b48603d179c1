"""``lafactoria export-schema`` and the help every command offers (``serve`` runs for real in
tests/observability/test_logging.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lafactoria.cli import cli
from lafactoria.graphql.schema import export_schema
from lafactoria.settings import Settings


def test_export_schema_prints_the_sdl() -> None:
    result = CliRunner().invoke(cli, ["export-schema"])

    assert result.exit_code == 0
    assert result.stdout == export_schema(Settings(_env_file=None, env="development"))


def test_export_schema_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"

    result = CliRunner().invoke(cli, ["export-schema", "--output", str(target)])

    assert (result.exit_code, result.stdout) == (0, "")
    assert "type Query {" in target.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ([], ["serve", "worker", "generate", "users", "keys", "export-schema"]),
        (["serve"], ["--host", "--port"]),
        (["worker"], ["--concurrency"]),
        (["generate"], ["--topic", "--type", "--level", "--format", "--output", "--api-key"]),
        (["users"], ["create"]),
        (["users", "create"], ["--email", "--password"]),
        (["keys"], ["create", "list", "revoke"]),
        (["keys", "revoke"], ["key_id", "--email", "--password"]),
        (["export-schema"], ["--output"]),
    ],
)
def test_every_command_explains_itself(command: list[str], expected: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])

    assert result.exit_code == 0
    for word in expected:
        assert word in result.stdout


def test_no_command_shows_the_help_as_a_usage_error() -> None:
    result = CliRunner().invoke(cli, [])

    assert result.exit_code == 2
    assert "Usage: " in result.output
