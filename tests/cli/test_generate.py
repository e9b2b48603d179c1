"""``lafactoria generate`` as a user runs it: a real process talking to a real server."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lafactoria.cli import cli
from lafactoria.cli.generate import ProgressDisplay, ProgressState
from lafactoria.providers.base import GenerationRequest, StreamChunk, TextDelta
from lafactoria.providers.errors import ProviderRejected
from tests.support.graphql import register_user
from tests.support.server import RunningServer, make_settings, run_server

CREATE_KEY = """
mutation { createApiKey(input: {name: "cli"}) { secret userErrors { code } } }"""


class RejectingProvider:
    """Streams a little, then refuses: the job fails with PROVIDER_REJECTED."""

    name = "rejecting"
    model = "reject-1"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamChunk]:
        yield TextDelta('{"title": ')
        raise ProviderRejected("this request breaks the rules")

    async def aclose(self) -> None:
        return None


async def api_key(server: RunningServer) -> str:
    client = await register_user(server)
    secret: str = (await client.data(CREATE_KEY))["createApiKey"]["secret"]
    return secret


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str
    files: dict[str, bytes]
    """What the command left in its working directory."""


def _run(cwd: Path, args: list[str], env: dict[str, str]) -> Ran:
    done = subprocess.run(
        [sys.executable, "-m", "lafactoria", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    files = {path.name: path.read_bytes() for path in cwd.iterdir()}
    return Ran(done.returncode, done.stdout, done.stderr, files)


async def lafactoria(cwd: Path, *args: str, url: str | None = None, key: str | None = None) -> Ran:
    """Run the installed CLI in its own process (and its own event loop)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAFACTORIA_")}
    env.update({"LAFACTORIA_URL": url or "", "LAFACTORIA_API_KEY": key or ""})
    return await asyncio.to_thread(_run, cwd, list(args), env)


async def test_generate_streams_progress_then_prints_the_markdown(
    server: RunningServer, tmp_path: Path
) -> None:
    key = await api_key(server)

    result = await lafactoria(
        tmp_path,
        "generate",
        "--topic",
        "Plate tectonics",
        "--type",
        "quiz",
        "--level",
        "high-school",
        url=server.base_url,
        key=key,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# ")
    assert "Plate tectonics" in result.stdout
    assert "## 1. " in result.stdout
    steps = [line.split(":")[0].split()[-1] for line in result.stderr.splitlines()]
    assert steps == ["queued", "started", "attempt", "validating", "succeeded"]
    assert "characters streamed" in result.stderr
    assert result.stderr.splitlines()[-1].strip() == "100% succeeded: done"


async def test_generate_writes_the_output_file(server: RunningServer, tmp_path: Path) -> None:
    key = await api_key(server)

    result = await lafactoria(
        tmp_path,
        "generate",
        "--topic",
        "Tides",
        "--type",
        "study-guide",
        "--level",
        "elementary",
        "--requirements",
        "mention the moon",
        "--output",
        "guide.md",
        url=f"{server.base_url}/graphql",  # the endpoint itself is accepted too
        key=key,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.files["guide.md"].startswith(b"# ")
    assert b"Tides" in result.files["guide.md"]
    assert "to guide.md" in result.stderr.replace("\n", "")


async def test_a_failed_job_exits_1_with_its_error_code(tmp_path: Path) -> None:
    with run_server(make_settings(tmp_path), providers=[RejectingProvider()]) as server:
        key = await api_key(server)
        result = await lafactoria(
            tmp_path,
            *("generate", "--topic", "Tides", "--type", "quiz", "--level", "college"),
            url=server.base_url,
            key=key,
        )

    assert result.returncode == 1
    assert result.stdout == ""
    assert "Error: the job failed (PROVIDER_REJECTED)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("topic", "key", "exit_code", "message"),
    [
        ("Tides", "lf_nope_nope", 2, "Error: the API key is not valid"),
        ("x" * 201, None, 2, "Error: --topic: "),
    ],
)
async def test_refusals_from_the_server_are_usage_errors(
    server: RunningServer, tmp_path: Path, topic: str, key: str | None, exit_code: int, message: str
) -> None:
    result = await lafactoria(
        tmp_path,
        *("generate", "--topic", topic, "--type", "quiz", "--level", "college"),
        url=server.base_url,
        key=key or await api_key(server),
    )

    assert result.returncode == exit_code, result.stderr
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr


async def test_an_unreachable_server_exits_1(tmp_path: Path) -> None:
    result = await lafactoria(
        tmp_path,
        *("generate", "--topic", "Tides", "--type", "quiz", "--level", "college"),
        url="http://127.0.0.1:9",  # the discard port: nothing listens there
        key="lf_abc_def",
    )

    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot reach http://127.0.0.1:9/graphql")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], {}, "an API key is needed"),
        (["--url", "ftp://example.org"], {"LAFACTORIA_API_KEY": "k"}, "--url: not an http(s) URL"),
        (
            ["--type", "essay"],
            {"LAFACTORIA_API_KEY": "k"},
            "Invalid value for '--type' / '-t': 'essay' is not one of 'study-guide', "
            "'flashcards', 'quiz', 'podcast'.",
        ),
        (
            ["--level", "phd"],
            {"LAFACTORIA_API_KEY": "k"},
            "Invalid value for '--level' / '-l': 'phd' is not one of 'elementary', "
            "'middle-school', 'high-school', 'college'.",
        ),
        (
            ["--format", "docx"],
            {"LAFACTORIA_API_KEY": "k"},
            "Invalid value for '--format' / '-f': 'docx' is not one of 'apkg', 'tsv', 'gift', "
            "'qti', 'markdown', 'json'.",
        ),
    ],
)
def test_bad_options_are_usage_errors(
    args: list[str], env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAFACTORIA_API_KEY", raising=False)
    options = {"--topic": "Tides", "--type": "quiz", "--level": "college"}
    options.update(dict(zip(args[::2], args[1::2], strict=True)))

    result = CliRunner().invoke(
        cli, ["generate", *[part for pair in options.items() for part in pair]], env=env
    )

    assert result.exit_code == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())
    assert "Value error" not in result.stderr


def test_progress_never_goes_back_and_discarded_text_disappears() -> None:
    state = ProgressState()
    events = [
        {"kind": "ATTEMPT", "progress": 0.1, "message": "asking a"},
        {"kind": "TEXT", "progress": 0.4, "message": "", "textDelta": "wrong answer"},
        {"kind": "DISCARD", "progress": 0.1, "message": "a failed", "discardText": True},
        {"kind": "TEXT", "progress": 0.3, "message": "", "textDelta": "right\nanswer"},
    ]

    for event in events:
        state.apply(event)

    assert state.progress == 0.4
    assert state.text == "right\nanswer"
    assert state.tail(width=3, lines=2) == "ans\nwer"
    assert state.message == "a failed"


def test_a_terminal_shows_the_streaming_text_above_a_progress_bar() -> None:
    from io import StringIO

    from rich.console import Console

    screen = StringIO()
    console = Console(file=screen, force_terminal=True, width=60, color_system=None)
    with ProgressDisplay(console) as display:
        display.show({"kind": "TEXT", "progress": 0.5, "message": "", "textDelta": '{"q": 1}'})
        display.show({"kind": "VALIDATING", "progress": 0.9, "message": "validating"})

    shown = screen.getvalue()
    assert '{"q": 1}' in shown
    assert "answer so far" in shown
    assert "validating" in shown
    assert "90%" in shown


async def test_a_package_export_is_saved_under_its_own_name(
    server: RunningServer, tmp_path: Path
) -> None:
    key = await api_key(server)

    result = await lafactoria(
        tmp_path,
        *("generate", "--topic", "Cell biology", "--type", "flashcards", "--level", "college"),
        *("--format", "apkg"),
        url=server.base_url,
        key=key,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    [(name, data)] = result.files.items()
    assert name.endswith(".apkg")
    assert "cell-biology" in name
    with zipfile.ZipFile(io.BytesIO(data)) as package:  # a zip holding an Anki collection
        assert any(entry.startswith("collection.anki") for entry in package.namelist())
    assert f"to {name}" in result.stderr.replace("\n", "")


async def test_a_text_export_goes_to_stdout(server: RunningServer, tmp_path: Path) -> None:
    key = await api_key(server)

    result = await lafactoria(
        tmp_path,
        *("generate", "--topic", "Rivers", "--type", "quiz", "--level", "middle-school"),
        *("--format", "gift"),
        url=server.base_url,
        key=key,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.count("::") >= 2  # GIFT questions open with ::title::
    assert "{" in result.stdout
    assert result.files == {}


def test_a_format_the_type_does_not_offer_is_refused_before_generating() -> None:
    result = CliRunner().invoke(
        cli,
        ["generate", "--topic", "Tides", "--type", "quiz", "--level", "college", "-f", "apkg"],
        env={"LAFACTORIA_API_KEY": "k", "LAFACTORIA_URL": "http://127.0.0.1:9"},
    )

    assert result.exit_code == 2
    assert "--format: quiz content has no apkg export (offered: gift, qti, markdown, json)" in (
        " ".join(result.stderr.split())
    )
