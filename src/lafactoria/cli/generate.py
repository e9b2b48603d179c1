"""``lafactoria generate``: ask a running server for content and watch it being written.

The command is a plain GraphQL client: ``generateContent`` over HTTP, then the job's
``generationProgress`` subscription over a WebSocket, then ``content(id) { markdown }`` (or
the download of another export format). On a terminal it shows a progress bar with the answer
streaming above it; elsewhere (pipes, CI logs) one line per step. Text results go to stdout
unless ``--output`` says otherwise; binary exports are saved under their own file name.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn
from rich.text import Text

from lafactoria.cli.client import ClientError, GraphQLClient, graphql_endpoint
from lafactoria.cli.common import EXIT_USAGE, choice, fail, fail_with_code, stderr
from lafactoria.content import enums
from lafactoria.content.exports.formats import ExportFormat, exporters_for

GENERATE = """
mutation Generate($input: GenerateContentInput!) {
  generateContent(input: $input) { job { id } userErrors { field message code } }
}"""
PROGRESS = """
subscription Progress($jobId: ID!, $after: Int!) {
  generationProgress(jobId: $jobId, afterSequence: $after) {
    sequence kind progress message textDelta discardText error { code message } content { id }
  }
}"""
CONTENT = """
query Content($id: ID!) {
  content(id: $id) { title markdown exports { format fileName mediaType url } }
}"""

_TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}
# The server names input fields; a CLI user knows them as these options.
_OPTIONS = {
    "topic": "--topic",
    "contentType": "--type",
    "audienceLevel": "--level",
    "additionalRequirements": "--requirements",
}
# A dropped WebSocket is reopened after the last event seen, this many times.
_RECONNECTS = 3
_TAIL_LINES = 12


class ContentTypeChoice(StrEnum):
    STUDY_GUIDE = "study-guide"
    FLASHCARDS = "flashcards"
    QUIZ = "quiz"
    PODCAST = "podcast"


class LevelChoice(StrEnum):
    ELEMENTARY = "elementary"
    MIDDLE_SCHOOL = "middle-school"
    HIGH_SCHOOL = "high-school"
    COLLEGE = "college"


def _graphql_enum(value: StrEnum) -> str:
    return value.value.upper().replace("-", "_")


@dataclass(frozen=True, slots=True)
class Result:
    title: str
    data: bytes
    file_name: str
    text: bool
    """Text (Markdown, GIFT, TSV, JSON) rather than a package (Anki, QTI)."""


def generate(
    topic: Annotated[str, typer.Option(help="What the content is about.")],
    content_type: Annotated[
        ContentTypeChoice,
        typer.Option("--type", "-t", parser=choice(ContentTypeChoice), help="The kind of content."),
    ],
    level: Annotated[
        LevelChoice,
        typer.Option("--level", "-l", parser=choice(LevelChoice), help="Who it is for."),
    ],
    requirements: Annotated[
        str | None, typer.Option(help="Extra wishes, e.g. 'focus on the Calvin cycle'.")
    ] = None,
    export_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            parser=choice(ExportFormat),
            help="What to produce: markdown, or an export the type offers (flashcards: apkg, "
            "tsv; quiz: gift, qti; any: json).",
        ),
    ] = ExportFormat.MARKDOWN,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the result here. Default: stdout for text, the export's own file "
            "name for packages (apkg, qti).",
        ),
    ] = None,
    url: Annotated[
        str, typer.Option(envvar="LAFACTORIA_URL", help="The La Factoria server.")
    ] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="LAFACTORIA_API_KEY",
            help="An API key (`lafactoria keys create`) or access token.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Generate content on a running server, watch it live, then print or save it."""
    offered = [e.format for e in exporters_for(enums.ContentType(content_type.replace("-", "_")))]
    if export_format not in offered:
        fail(
            f"--format: {content_type.value} content has no {export_format.value} export "
            f"(offered: {', '.join(offered)})",
            code=EXIT_USAGE,
        )
    if not api_key:
        fail(
            "an API key is needed: pass --api-key or set LAFACTORIA_API_KEY "
            "(create one with `lafactoria keys create --email ...`)",
            code=EXIT_USAGE,
        )
    try:
        graphql_endpoint(url)
    except ValueError as exc:
        fail(f"--url: {exc}", code=EXIT_USAGE)
    variables = {
        "topic": topic,
        "contentType": _graphql_enum(content_type),
        "audienceLevel": _graphql_enum(level),
        "additionalRequirements": requirements,
    }
    try:
        result = asyncio.run(_generate(url, api_key, variables, export_format))
    except ClientError as exc:
        fail_with_code(exc.message, exc.code)
    if output is None and result.text:
        sys.stdout.buffer.write(result.data)
        sys.stdout.flush()
        return
    target = output or Path(result.file_name)
    try:
        target.write_bytes(result.data)
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
    stderr.print(f"Wrote [bold]{escape(result.title)}[/bold] to {escape(str(target))}")


async def _generate(
    url: str, api_key: str, variables: dict[str, Any], export_format: ExportFormat
) -> Result:
    async with GraphQLClient(url, api_key) as client:
        payload = (await client.execute(GENERATE, {"input": variables}))["generateContent"]
        if payload["userErrors"]:
            error = payload["userErrors"][0]
            option = _OPTIONS.get(error.get("field") or "")
            where = f"{option}: " if option else ""
            raise ClientError(where + error["message"], code=error["code"])
        job_id = payload["job"]["id"]
        with ProgressDisplay(stderr) as display:
            final = await _follow(client, job_id, display)
        if final["kind"] != "SUCCEEDED":
            error = final.get("error") or {}
            code = error.get("code", final["kind"])
            # A failed job is the operation failing, whatever its code: exit 1.
            raise ClientError(f"the job {final['kind'].lower()} ({code}): {error.get('message')}")
        content = (await client.execute(CONTENT, {"id": final["content"]["id"]}))["content"]
        if content is None:
            raise ClientError("the content was deleted before it could be fetched")
        export = next(e for e in content["exports"] if e["format"] == export_format.name)
        if export_format is ExportFormat.MARKDOWN:  # in the answer already: no second request
            data = content["markdown"].encode()
        else:
            data = await client.download(export["url"])
        text = export["mediaType"].startswith(("text/", "application/json"))
        return Result(content["title"], data, export["fileName"], text)


async def _follow(client: GraphQLClient, job_id: str, display: ProgressDisplay) -> dict[str, Any]:
    """Stream the job's events to ``display`` and return the terminal one."""
    after = 0
    final: dict[str, Any] | None = None
    for attempt in range(_RECONNECTS + 1):
        try:
            # Read on to the server's "complete" after the terminal event, so the
            # subscription ends cleanly on both sides.
            async for data in client.subscribe(PROGRESS, {"jobId": job_id, "after": after}):
                event = data["generationProgress"]
                after = event["sequence"]
                display.show(event)
                if event["kind"] in _TERMINAL:
                    final = dict(event)
            if final is not None:
                return final
        except ClientError as exc:
            if final is not None:
                return final
            if exc.code is not None or attempt == _RECONNECTS:
                raise
            display.note(f"connection lost ({exc.message}); resuming after event {after}")
            await asyncio.sleep(1.0)
    raise ClientError("the progress stream ended before the job finished")


@dataclass
class ProgressState:
    """What the display shows: progress never goes back; discarded text disappears."""

    progress: float = 0.0
    message: str = "submitted"
    text: str = ""
    streamed: int = 0

    def apply(self, event: dict[str, Any]) -> None:
        self.progress = max(self.progress, float(event.get("progress") or 0.0))
        if event.get("discardText"):
            self.text = ""
        if event.get("textDelta"):
            self.text += event["textDelta"]
            self.streamed += len(event["textDelta"])
        if event.get("message"):
            self.message = event["message"]

    def tail(self, *, width: int, lines: int = _TAIL_LINES) -> str:
        """The end of the text in rows of ``width`` characters: answers are often one long
        line of JSON, which would otherwise show only its beginning."""
        recent = self.text[-width * lines :]
        rows = [
            line[start : start + width]
            for line in recent.splitlines()
            for start in range(0, max(len(line), 1), width)
        ]
        return "\n".join(rows[-lines:])


class ProgressDisplay:
    """A live progress bar and text panel on a terminal; one line per step elsewhere."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.state = ProgressState()
        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), console=console
        )
        self._task: TaskID = self._bar.add_task("submitted", total=100)
        self._live: Live | None = None

    def __enter__(self) -> ProgressDisplay:
        if self.console.is_terminal:
            self._live = Live(self._renderable(), console=self.console, refresh_per_second=12)
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, traceback)

    def show(self, event: dict[str, Any]) -> None:
        self.state.apply(event)
        if self._live is not None:
            self._bar.update(
                self._task, completed=self.state.progress * 100, description=self.state.message
            )
            self._live.update(self._renderable())
            return
        if event["kind"] == "TEXT":
            return  # lines would be noise in a log; the character count comes with VALIDATING
        line = f"{self.state.progress:4.0%} {event['kind'].lower()}: {event['message']}"
        if event["kind"] == "VALIDATING":
            line += f" ({self.state.streamed} characters streamed)"
        self.console.print(escape(line))

    def note(self, message: str) -> None:
        self.console.print(f"[yellow]{escape(message)}[/yellow]")

    def _renderable(self) -> Group:
        width = max(self.console.width - 4, 10)  # inside the panel's border and padding
        text = Text(self.state.tail(width=width) or " ", no_wrap=True)
        return Group(Panel(text, title="answer so far", title_align="left"), self._bar)
