"""Layer rules (docs/architecture.md): a wrong-way import fails the build."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "lafactoria"
WEB_FRAMEWORKS = ("strawberry", "fastapi", "starlette", "uvicorn")
# Everything below the transports: services, domain models, ports and adapters.
CORE = ("auth", "content", "generation", "db", "events", "jobs", "providers")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _relative(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def modules_under(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules_under(*CORE), ids=_relative)
def test_core_never_imports_a_web_framework(path: Path) -> None:
    offending = {name for name in imported_modules(path) if name.split(".")[0] in WEB_FRAMEWORKS}
    assert offending == set()


@pytest.mark.parametrize("path", modules_under("graphql"), ids=_relative)
def test_resolvers_never_import_repositories(path: Path) -> None:
    offending = {name for name in imported_modules(path) if name.endswith(".repository")}
    assert offending == set()


@pytest.mark.parametrize(
    "path",
    modules_under("providers", "events", "jobs", "db"),
    ids=_relative,
)
def test_ports_never_import_the_service_layer(path: Path) -> None:
    services = {f"lafactoria.{name}.service" for name in ("auth", "content", "generation")}
    upward = {
        name
        for name in imported_modules(path)
        if name in services or name.startswith("lafactoria.generation")
    }
    assert upward == set()
