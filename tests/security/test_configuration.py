"""The limits' settings: refused when unsafe or inconsistent, and every default documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from lafactoria.settings import GraphQLSettings, LimitSettings, Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "security.md"
STRONG_SECRET = "b8c1f0e2a9d34c7f8e6a5b4c3d2e1f0a9b8c7d6e5f4"
LIMIT_FIELDS = [
    (GraphQLSettings, "GRAPHQL", name)
    for name in (
        "max_body_bytes",
        "max_batch_operations",
        "max_tokens",
        "max_aliases",
        "max_root_fields",
        "max_depth",
        "max_query_cost",
        "max_page_size",
        "max_subscriptions_per_connection",
    )
] + [(LimitSettings, "LIMITS", name) for name in LimitSettings.model_fields]


@pytest.mark.parametrize(
    ("section", "prefix", "name"), LIMIT_FIELDS, ids=[name for _, _, name in LIMIT_FIELDS]
)
def test_every_default_limit_is_documented(
    section: type[BaseModel], prefix: str, name: str
) -> None:
    default = section.model_fields[name].default
    row = re.search(
        rf"^\| `LAFACTORIA_{prefix}__{name.upper()}` \| `([^`]*)` \|", DOCS.read_text(), re.M
    )

    assert row is not None, f"docs/security.md has no row for {prefix}__{name.upper()}"
    assert row.group(1) == str(default)


def test_garbage_in_the_trusted_proxy_list_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"trusted proxy 'proxy\.internal'"):
        Settings(_env_file=None, trusted_proxies="10.0.0.0/8, proxy.internal")


def test_a_request_may_not_cost_more_than_the_whole_budget() -> None:
    with pytest.raises(ValidationError, match="max_query_cost must not exceed"):
        Settings(
            _env_file=None,
            graphql={"max_query_cost": 5000},
            limits={"query_cost_budget": 1000},
        )


def test_production_keeps_the_default_limits_and_test_runs_unthrottled() -> None:
    production = Settings(_env_file=None, env="production", secret_key=STRONG_SECRET)
    test = Settings(_env_file=None, env="test")
    test_with_limits = Settings(_env_file=None, env="test", limits={"generations_per_minute": 3})

    assert production.limits == LimitSettings()
    assert test.limits == LimitSettings.unthrottled()
    assert test_with_limits.limits.generations_per_minute == 3
    assert test_with_limits.limits.query_cost_budget == LimitSettings().query_cost_budget


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAFACTORIA_LIMITS__GENERATIONS_PER_MINUTE", "7")
    monkeypatch.setenv("LAFACTORIA_LIMITS__STORAGE_URI", "redis://cache:6379")
    monkeypatch.setenv("LAFACTORIA_TRUSTED_PROXIES", "10.0.0.1, 10.0.1.0/24")
    monkeypatch.setenv("LAFACTORIA_GRAPHQL__MAX_ALIASES", "12")

    settings = Settings(_env_file=None)

    assert settings.limits.generations_per_minute == 7
    assert settings.limits.storage_uri == "redis://cache:6379"
    assert settings.trusted_proxies == ["10.0.0.1", "10.0.1.0/24"]
    assert settings.graphql.max_aliases == 12
