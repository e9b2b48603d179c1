"""schema.graphql is generated from the code and must not drift."""

from __future__ import annotations

from pathlib import Path

from lafactoria.graphql.schema import SCHEMA_HEADER, export_schema
from lafactoria.settings import Settings

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"


def test_schema_file_matches_the_code() -> None:
    expected = export_schema(Settings(_env_file=None, env="development"))

    actual = SCHEMA_FILE.read_text(encoding="utf-8")

    assert actual == expected, "schema.graphql is stale: run `make schema` and commit it"


def test_schema_file_says_it_is_generated() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8").startswith(SCHEMA_HEADER)
