"""How a database URL is shown to people."""

from __future__ import annotations

from pathlib import Path

import pytest

from lafactoria.db.engine import describe_database


def test_sqlite_is_shown_as_the_absolute_path_of_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    relative = describe_database("sqlite+aiosqlite:///.lafactoria/lafactoria.db")
    absolute = describe_database(f"sqlite+aiosqlite:///{tmp_path}/other.db")

    assert relative == f"sqlite {tmp_path.resolve()}/.lafactoria/lafactoria.db"
    assert absolute == f"sqlite {tmp_path.resolve()}/other.db"
    assert describe_database("sqlite+aiosqlite:///:memory:") == "sqlite in memory"


def test_other_databases_are_shown_without_their_password() -> None:
    shown = describe_database("postgresql+asyncpg://app:s3cr%40t@db.internal:5432/lafactoria")

    assert shown == "postgresql+asyncpg://app:***@db.internal:5432/lafactoria"
    assert "s3cr" not in shown
