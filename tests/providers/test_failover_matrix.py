"""The failover fault matrix: every provider fault we know, on both wire formats, end to end.

Each case scripts a fault on the *primary* provider (the second provider is healthy unless the
case says otherwise) and runs a whole generation job through the real SDKs against the LLM
emulator. It checks what a user and an operator can observe: the job's outcome, how many calls
each provider got (the trace and the emulator agree), that the job ended within its deadline,
that only one provider's complete and valid answer was stored, and that a subscriber reading
the TEXT events after the last DISCARD reads exactly that answer, once.

Every case runs in-process through ``create_app``'s services (the job pipeline, the event log
a subscription reads); a representative subset also runs through a real server, the GraphQL
mutation and the WebSocket subscription.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
import pytest_asyncio

from lafactoria.auth.models import User
from lafactoria.content.bodies import parse_body
from lafactoria.content.enums import AudienceLevel, ContentType
from lafactoria.content.models import ContentFilter
from lafactoria.content.service import ContentService
from lafactoria.db.engine import Database
from lafactoria.events.memory import MemoryEventLog
from lafactoria.generation.commands import GenerateCommand
from lafactoria.generation.parsing import extract_json
from lafactoria.generation.service import GenerationService
from lafactoria.jobs.memory import InProcessJobQueue
from lafactoria.providers.anthropic import AnthropicProvider
from lafactoria.providers.base import Provider
from lafactoria.providers.failover import FailoverChain
from lafactoria.providers.openai import OpenAIProvider
from lafactoria.runtime import open_database
from lafactoria.settings import ProviderTimeouts, Settings
from tests.support.emulator import Behaviour, Emulator
from tests.support.graphql import GENERATE, PROGRESS, GraphQLClient, register_user
from tests.support.server import make_settings, run_server

# One loop for the module, so the in-process runs can share one database.
pytestmark = pytest.mark.asyncio(loop_scope="module")

Wire = Literal["anthropic", "openai"]
WIRES: tuple[Wire, ...] = ("anthropic", "openai")

PRIMARY_MODEL = "primary-model"
SECONDARY_MODEL = "secondary-model"
API_KEY = "sk-test-emulated-0123456789abcdef"
DEADLINE_SLACK = 0.5
CHUNK_SIZE = 48
TIMEOUTS = {
    "connect_seconds": 0.5,
    "first_token_seconds": 0.4,
    "idle_seconds": 0.3,
    "attempt_seconds": 2.0,
    "job_seconds": 4.0,
}
FAILOVER = {
    "max_attempts": 8,
    "retries_per_provider": 1,
    "backoff_seconds": 0.02,
    "max_retry_after_seconds": 2.0,
    "breaker_threshold": 5,
    "breaker_cooldown_seconds": 5.0,
}


# Twelve short cards: within the default deck size, and too few words for a readability
# verdict, so no quality step adds calls of its own to the counts below.
CARDS = [
    ("What do plants make from light?", "Sugar."),
    ("Which gas do plants release?", "Oxygen."),
    ("Which gas do plants take in?", "Carbon dioxide."),
    ("Where does photosynthesis happen?", "In chloroplasts."),
    ("Which pigment is green?", "Chlorophyll."),
    ("What do roots take up?", "Water."),
    ("What powers photosynthesis?", "Sunlight."),
    ("Where do most plants catch light?", "In their leaves."),
    ("What do leaf pores do?", "Let gases in and out."),
    ("Who eats the sugar?", "The plant itself."),
    ("Do algae photosynthesise?", "Yes."),
    ("When does it stop?", "In the dark."),
]


def deck(title: str) -> str:
    cards = [{"front": front, "back": back} for front, back in CARDS]
    return json.dumps({"title": title, "cards": cards})


PRIMARY_ANSWER = deck("Photosynthesis, by the primary")
SECONDARY_ANSWER = deck("Photosynthesis, by the fallback")
MISSING_FIELD = '{"title": "Photosynthesis, without its cards"}'
FENCED = f"Here is the deck you asked for:\n```json\n{PRIMARY_ANSWER}\n```\nHappy studying!"


def once(behaviour: Behaviour, then: str = PRIMARY_ANSWER) -> tuple[Behaviour, ...]:
    """The fault once, then a good answer."""
    return (behaviour, Behaviour(text=then))


@dataclass(frozen=True)
class Case:
    name: str
    primary: tuple[Behaviour, ...]
    """The primary's script; its last behaviour repeats."""
    calls: tuple[int, int]
    """Calls the primary and the secondary receive."""
    answer: str | None
    """The raw text of the answer that is stored (``None``: the job fails)."""
    error: str | None = None
    secondary: tuple[Behaviour, ...] = (Behaviour(text=SECONDARY_ANSWER),)
    refused_connection: bool = False
    """The primary's port is closed: its calls never reach the emulator."""
    min_gap: float = 0.0
    """Seconds at least between the primary's first two calls (an honoured Retry-After)."""
    classes: tuple[str | None, ...] | None = None
    """The trace's error classes in order (``None`` for the success), when checked."""
    timeouts: dict[str, float] = field(default_factory=dict)
    check: Callable[[Emulator], None] | None = None

    def __str__(self) -> str:
        return self.name


def _second_call_doubles_max_tokens(emulator: Emulator) -> None:
    first, second = emulator.calls_for(PRIMARY_MODEL)[:2]
    budget = first.body.get("max_tokens") or first.body.get("max_completion_tokens")
    bigger = second.body.get("max_tokens") or second.body.get("max_completion_tokens")
    assert bigger == 2 * budget


def _repair_sends_the_error_back(emulator: Emulator) -> None:
    first, second = emulator.calls_for(PRIMARY_MODEL)[:2]
    assert len(second.body["messages"]) == len(first.body["messages"]) + 2
    answer, feedback = second.body["messages"][-2:]
    assert answer == {"role": "assistant", "content": MISSING_FIELD}
    assert feedback["role"] == "user"
    assert "cards" in feedback["content"], "the validation error names the missing field"


CASES = [
    Case("success", (Behaviour(text=PRIMARY_ANSWER),), (1, 0), PRIMARY_ANSWER, classes=(None,)),
    Case(
        "429 retry-after seconds",
        once(Behaviour(kind="error", status=429, retry_after="1")),
        (2, 0),
        PRIMARY_ANSWER,
        min_gap=1.0,
        classes=("rate_limited", None),
    ),
    Case(
        "429 retry-after-ms",
        once(Behaviour(kind="error", status=429, retry_after_ms="300")),
        (2, 0),
        PRIMARY_ANSWER,
        min_gap=0.3,
        classes=("rate_limited", None),
    ),
    Case(
        "429 persistent, retry-after beyond the budget",
        (Behaviour(kind="error", status=429, retry_after="30"),),
        (1, 1),
        SECONDARY_ANSWER,
        classes=("rate_limited", None),
    ),
    Case(
        "429 persistent, short retry-after",
        (Behaviour(kind="error", status=429, retry_after_ms="100"),),
        (2, 1),
        SECONDARY_ANSWER,
        min_gap=0.1,
        classes=("rate_limited", "rate_limited", None),
    ),
    Case(
        "500 once then OK",
        once(Behaviour(kind="error", status=500)),
        (2, 0),
        PRIMARY_ANSWER,
        classes=("unavailable", None),
    ),
    Case(
        "503 persistent",
        (Behaviour(kind="error", status=503),),
        (2, 1),
        SECONDARY_ANSWER,
        classes=("unavailable", "unavailable", None),
    ),
    Case(
        "529 overloaded persistent",
        (Behaviour(kind="error", status=529),),
        (2, 1),
        SECONDARY_ANSWER,
        classes=("unavailable", "unavailable", None),
    ),
    Case(
        "connection refused",
        (Behaviour(),),
        (2, 1),
        SECONDARY_ANSWER,
        refused_connection=True,
        classes=("unavailable", "unavailable", None),
    ),
    Case(
        "accepted but no response",
        (Behaviour(headers_delay=30),),
        (1, 1),
        SECONDARY_ANSWER,
        classes=("timeout", None),
    ),
    Case(
        "slow first token",
        (Behaviour(text=PRIMARY_ANSWER, first_token_delay=2),),
        (1, 1),
        SECONDARY_ANSWER,
        classes=("timeout", None),
    ),
    Case(
        "stall mid-stream, silent",
        (Behaviour(kind="stall", text=PRIMARY_ANSWER, after_chunks=3),),
        (1, 1),
        SECONDARY_ANSWER,
        classes=("timeout", None),
    ),
    Case(
        "stall mid-stream, with keep-alives",
        (Behaviour(kind="stall", text=PRIMARY_ANSWER, after_chunks=3, keepalive_every=0.05),),
        (1, 1),
        SECONDARY_ANSWER,
        classes=("timeout", None),
    ),
    Case(
        "cut mid-stream",
        (Behaviour(kind="cut", text=PRIMARY_ANSWER, after_chunks=3),),
        (2, 1),
        SECONDARY_ANSWER,
        classes=("unavailable", "unavailable", None),
    ),
    Case(
        "malformed chunk",
        (Behaviour(kind="malformed", text=PRIMARY_ANSWER, after_chunks=3),),
        (2, 1),
        SECONDARY_ANSWER,
        classes=("unavailable", "unavailable", None),
    ),
    Case(
        "missing terminal event",
        (Behaviour(kind="no_terminal", text=PRIMARY_ANSWER),),
        (2, 1),
        SECONDARY_ANSWER,
        classes=("unavailable", "unavailable", None),
    ),
    Case(
        "in-band overloaded before text",
        (Behaviour(kind="inband_error", after_chunks=0),),
        (2, 1),
        SECONDARY_ANSWER,
        classes=("unavailable", "unavailable", None),
    ),
    Case(
        "in-band overloaded after text",
        (Behaviour(kind="inband_error", text=PRIMARY_ANSWER, after_chunks=3),),
        (2, 1),
        SECONDARY_ANSWER,
        classes=("unavailable", "unavailable", None),
    ),
    Case(
        "400 invalid request",
        (Behaviour(kind="error", status=400),),
        (1, 0),
        None,
        error="PROVIDER_REJECTED",
        classes=("rejected",),
    ),
    Case(
        "400 context length",
        (
            Behaviour(
                kind="error",
                status=400,
                error_code="context_length_exceeded",
                message="prompt is too long: 210000 tokens > 200000 maximum",
            ),
        ),
        (1, 1),
        SECONDARY_ANSWER,
        classes=("context_too_long", None),
    ),
    Case(
        "content policy refusal",
        (Behaviour(kind="refused", text=PRIMARY_ANSWER),),
        (1, 0),
        None,
        error="PROVIDER_REJECTED",
        classes=("rejected",),
    ),
    Case(
        "401 bad key",
        (Behaviour(kind="error", status=401),),
        (1, 1),
        SECONDARY_ANSWER,
        classes=("misconfigured", None),
    ),
    Case(
        "truncated by max tokens",
        (Behaviour(kind="truncated", text=PRIMARY_ANSWER, after_chunks=4),),
        (2, 1),
        SECONDARY_ANSWER,
        classes=("truncated", "truncated", None),
        check=_second_call_doubles_max_tokens,
    ),
    Case(
        "valid JSON missing a field, repaired",
        once(Behaviour(text=MISSING_FIELD)),
        (2, 0),
        PRIMARY_ANSWER,
        classes=("invalid_output", None),
        check=_repair_sends_the_error_back,
    ),
    Case(
        "valid JSON missing a field, repair fails",
        (Behaviour(text=MISSING_FIELD),),
        (2, 1),
        SECONDARY_ANSWER,
        classes=("invalid_output", "invalid_output", None),
    ),
    Case(
        "JSON inside a code fence",
        (Behaviour(text=FENCED, tool_use=False),),
        (1, 0),
        FENCED,
        classes=(None,),
    ),
    Case(
        "every provider down",
        (Behaviour(kind="error", status=503),),
        (2, 2),
        None,
        error="PROVIDER_UNAVAILABLE",
        secondary=(Behaviour(kind="error", status=502),),
    ),
    Case(
        "every answer invalid",
        (Behaviour(text=MISSING_FIELD),),
        (2, 2),
        None,
        error="OUTPUT_INVALID",
        secondary=(Behaviour(text=MISSING_FIELD),),
    ),
    Case(
        "every answer truncated",
        (Behaviour(kind="truncated", text=PRIMARY_ANSWER),),
        (2, 2),
        None,
        error="OUTPUT_TRUNCATED",
        secondary=(Behaviour(kind="truncated", text=SECONDARY_ANSWER),),
    ),
    Case(
        "slow but steady streams outlast the job deadline",
        (Behaviour(text=PRIMARY_ANSWER, chunk_size=4, tokens_per_second=8),),
        (1, 1),
        None,
        error="PROVIDER_TIMEOUT",
        secondary=(Behaviour(text=SECONDARY_ANSWER, chunk_size=4, tokens_per_second=8),),
        classes=("timeout", "timeout"),
        timeouts={"attempt_seconds": 0.8, "job_seconds": 1.5},
    ),
]
# Through the server and the subscription too: one of each way a job can go, in this order.
SERVER_CASES = [
    "success",
    "500 once then OK",
    "in-band overloaded after text",
    "400 invalid request",
    "valid JSON missing a field, repaired",
    "401 bad key",
]


# -- running a case ------------------------------------------------------------------------------


@dataclass
class Observed:
    """What a job looked like from the outside."""

    status: str
    error: str | None
    events: list[dict[str, Any]]
    """``kind`` (upper case), ``textDelta``, ``discardText``, in order."""
    attempts: list[dict[str, Any]]
    """``provider``, ``outcome``, ``errorClass``, ``purpose``, ``inputTokens``, ``outputTokens``."""
    contents: list[dict[str, Any]]
    """Every content item the user has: ``provider``, ``model``, ``usage``, ``body``."""
    seconds: float
    """From the job's start to its end, as stored."""


@dataclass(frozen=True)
class Chain:
    primary: str
    secondary: str
    build: Callable[[], list[Provider]]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def make_chain(wire: Wire, case: Case, emulator: Emulator) -> Chain:
    timeouts = ProviderTimeouts(**{**TIMEOUTS, **case.timeouts})
    primary_url = f"http://127.0.0.1:{closed_port()}" if case.refused_connection else None

    def anthropic(model: str, url: str | None) -> Provider:
        return AnthropicProvider(
            model=model, api_key=API_KEY, base_url=url or emulator.base_url, timeouts=timeouts
        )

    def openai(model: str, url: str | None) -> Provider:
        return OpenAIProvider(
            model=model,
            api_key=API_KEY,
            base_url=f"{url}/v1" if url else emulator.openai_base_url,
            timeouts=timeouts,
        )

    first, second = (anthropic, openai) if wire == "anthropic" else (openai, anthropic)
    return Chain(
        primary=wire,
        secondary="openai" if wire == "anthropic" else "anthropic",
        build=lambda: [first(PRIMARY_MODEL, primary_url), second(SECONDARY_MODEL, None)],
    )


def case_settings(tmp_path: Path, case: Case) -> Settings:
    return make_settings(
        tmp_path, timeouts={**TIMEOUTS, **case.timeouts}, failover=FAILOVER, log_level="error"
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    """One database for the in-process runs: each case has its own user, chain and queue."""
    db = await open_database(make_settings(tmp_path_factory.mktemp("matrix")))
    yield db
    await db.dispose()


async def run_in_process(db: Database, case: Case, chain: Chain) -> Observed:
    """The job pipeline as ``create_app`` wires it, without the HTTP server around it."""
    settings = case_settings(Path("unused"), case)
    user = User(email=f"{uuid.uuid4().hex}@example.org", password_hash="not used here")
    async with db.write() as session:
        session.add(user)
    providers = FailoverChain(
        chain.build(),
        job_deadline_seconds=settings.timeouts.job_seconds,
        policy=settings.failover,
    )
    queue = InProcessJobQueue(concurrency=1, max_size=10)
    generation = GenerationService(
        db=db,
        events=MemoryEventLog(retention_seconds=60),
        queue=queue,
        chain=providers,
        max_output_tokens=settings.max_output_tokens,
    )
    await queue.start(generation.run)
    try:
        submitted = await generation.submit(
            user_id=user.id,
            command=GenerateCommand.create(
                topic="Photosynthesis",
                content_type=ContentType.FLASHCARDS,
                audience_level=AudienceLevel.MIDDLE_SCHOOL,
            ),
        )
        job = submitted.job
        stream = await generation.progress(user_id=user.id, job_id=job.id)
        events = [
            {
                "kind": event.data.kind.value.upper(),
                "textDelta": event.data.text_delta,
                "discardText": event.data.discard_text,
            }
            async for event in stream
        ]
        job = await generation.get_job(user_id=user.id, job_id=job.id)
        page = await ContentService(db=db).list_contents(
            user_id=user.id, filters=ContentFilter(), after=None, first=10
        )
    finally:
        await queue.stop()
        await providers.aclose()
    assert job.started_at is not None
    assert job.finished_at is not None
    return Observed(
        status=job.status.upper(),
        error=job.error_code,
        events=events,
        attempts=[
            {
                "provider": a["provider"],
                "outcome": a["outcome"],
                "errorClass": a["error_class"],
                "purpose": a["purpose"],
                "latencyMs": a["latency_ms"],
                "inputTokens": a["input_tokens"],
                "outputTokens": a["output_tokens"],
            }
            for a in job.attempts
        ],
        contents=[
            {
                "provider": row.provider,
                "model": row.model,
                "usage": {"inputTokens": row.input_tokens, "outputTokens": row.output_tokens},
                "body": row.body,
            }
            for row in page.items
        ],
        seconds=(job.finished_at - job.started_at).total_seconds(),
    )


JOB = """
query Job($id: ID!) {
  generationJob(id: $id) {
    status startedAt finishedAt
    error { code }
    attempts { provider outcome errorClass purpose latencyMs inputTokens outputTokens }
    content {
      provider model usage { inputTokens outputTokens }
      body { ... on FlashcardDeck { title cards { front back } } }
    }
  }
  contents(first: 1) { totalCount }
}"""
CONTENT_COUNT = "query Count { contents(first: 1) { totalCount } }"


async def run_through_server(client: GraphQLClient) -> Observed:
    """One job through the GraphQL mutation, the WebSocket subscription and a query."""
    before = await client.data(CONTENT_COUNT)
    generated = await client.data(
        GENERATE,
        {
            "input": {
                "topic": "Photosynthesis",
                "contentType": "FLASHCARDS",
                "audienceLevel": "MIDDLE_SCHOOL",
            }
        },
    )
    job_id = generated["generateContent"]["job"]["id"]
    items = await client.collect(PROGRESS, {"jobId": job_id})
    data = await client.data(JOB, {"id": job_id})
    job = data["generationJob"]
    contents = [job["content"]] if job["content"] else []
    # Nothing else was stored on the side: the user has exactly the job's content more.
    stored = data["contents"]["totalCount"] - before["contents"]["totalCount"]
    assert stored == len(contents)
    started = datetime.fromisoformat(job["startedAt"])
    finished = datetime.fromisoformat(job["finishedAt"])
    return Observed(
        status=job["status"],
        error=(job["error"] or {}).get("code"),
        events=[item["generationProgress"] for item in items],
        attempts=job["attempts"],
        contents=contents,
        seconds=(finished - started).total_seconds(),
    )


# -- what every case must show ------------------------------------------------------------------


def check(case: Case, chain: Chain, observed: Observed, emulator: Emulator) -> None:
    job_seconds = {**TIMEOUTS, **case.timeouts}["job_seconds"]
    # The outcome.
    if case.answer is None:
        assert (observed.status, observed.error) == ("FAILED", case.error)
    else:
        assert (observed.status, observed.error) == ("SUCCEEDED", None)

    # Calls per provider: the stored trace and the emulator agree with the case.
    called = [a for a in observed.attempts if a["outcome"] != "skipped"]
    by_provider = (
        sum(a["provider"] == chain.primary for a in called),
        sum(a["provider"] == chain.secondary for a in called),
    )
    assert by_provider == case.calls
    reached = (0 if case.refused_connection else case.calls[0], case.calls[1])
    assert (
        len(emulator.calls_for(PRIMARY_MODEL)),
        len(emulator.calls_for(SECONDARY_MODEL)),
    ) == reached
    if case.classes is not None:
        assert tuple(a["errorClass"] for a in called) == case.classes
    assert all(a["errorClass"] for a in called if a["outcome"] == "failed")

    # Within the job's deadline, and no sooner than an honoured Retry-After allows.
    assert observed.seconds <= job_seconds + DEADLINE_SLACK
    if case.min_gap:
        first, second = emulator.calls_for(PRIMARY_MODEL)[:2]
        assert second.started - first.started >= case.min_gap * 0.95

    # Stored: exactly one provider's complete, valid answer, or nothing at all.
    if case.answer is None:
        assert observed.contents == []
    else:
        (content,) = observed.contents
        expected = parse_body(ContentType.FLASHCARDS, extract_json(case.answer))
        assert parse_body(ContentType.FLASHCARDS, content["body"]) == expected
        winner = called[-1]
        assert winner["outcome"] == "succeeded"
        assert content["provider"] == winner["provider"]
        wanted_model = PRIMARY_MODEL if winner["provider"] == chain.primary else SECONDARY_MODEL
        assert content["model"] == wanted_model
        assert content["usage"]["inputTokens"] > 0
        assert content["usage"]["outputTokens"] > 0
        assert content["usage"] == {
            "inputTokens": winner["inputTokens"],
            "outputTokens": winner["outputTokens"],
        }

    # What a subscriber saw: one terminal event, last; every DISCARD withdraws text that was
    # shown; the text after the last DISCARD is the stored answer, exactly once.
    kinds = [event["kind"] for event in observed.events]
    terminal = {"SUCCEEDED", "FAILED", "CANCELLED"}
    assert kinds[-1] in terminal
    assert sum(kind in terminal for kind in kinds) == 1
    since_attempt = ""
    for event in observed.events:
        if event["kind"] == "ATTEMPT":
            since_attempt = ""
        elif event["kind"] == "TEXT":
            since_attempt += event["textDelta"]
        elif event["kind"] == "DISCARD":
            assert event["discardText"]
            assert since_attempt, "a DISCARD only withdraws text that was shown"
    assert text_after_last_discard(observed.events) == (case.answer or "")
    attempt_events = sum(kind == "ATTEMPT" for kind in kinds)
    assert attempt_events == len(called)

    if case.check is not None:
        case.check(emulator)


def text_after_last_discard(events: Sequence[dict[str, Any]]) -> str:
    text = ""
    for event in events:
        if event["kind"] == "DISCARD":
            text = ""
        elif event["kind"] == "TEXT":
            text += event["textDelta"]
    return text


Row = tuple[Wire, Case, Observed, float]


@pytest.fixture(scope="module")
def report() -> Iterator[list[Row]]:
    """The matrix as a Markdown table, written to $LAFACTORIA_MATRIX_REPORT when it is set."""
    rows: list[Row] = []
    yield rows
    path = os.environ.get("LAFACTORIA_MATRIX_REPORT")
    if not path or not rows:
        return
    lines = [
        "| case | wire | outcome | calls (primary, fallback) | trace | job time | test time |",
        "|---|---|---|---|---|---|---|",
    ]
    for wire, case, observed, seconds in rows:
        outcome = observed.error or observed.status
        trace = ", ".join(
            f"{a['provider']}:{a['errorClass'] or 'ok'}"
            + ("" if a["purpose"] == "answer" else f" ({a['purpose']})")
            for a in observed.attempts
        )
        lines.append(
            f"| {case.name} | {wire} | {outcome} | {case.calls[0]}, {case.calls[1]} | {trace} "
            f"| {observed.seconds:.2f} s | {seconds:.2f} s |"
        )
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def chunked(behaviours: Sequence[Behaviour]) -> list[Behaviour]:
    """Larger chunks than the emulator's default: the SDKs' per-chunk parsing dominates the
    run time of a case otherwise, and the faults do not depend on the chunk size."""
    default = Behaviour().chunk_size
    return [
        dataclasses.replace(b, chunk_size=CHUNK_SIZE) if b.chunk_size == default else b
        for b in behaviours
    ]


def matrix() -> Iterator[Any]:
    for case in CASES:
        for wire in WIRES:
            yield pytest.param(wire, case, id=f"{wire}: {case.name}")


# -- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("wire", "case"), list(matrix()))
async def test_fault_matrix(
    wire: Wire, case: Case, emulator: Emulator, database: Database, report: list[Row]
) -> None:
    emulator.script(PRIMARY_MODEL, chunked(case.primary))
    emulator.script(SECONDARY_MODEL, chunked(case.secondary))
    chain = make_chain(wire, case, emulator)
    started = time.monotonic()

    observed = await run_in_process(database, case, chain)

    check(case, chain, observed, emulator)
    report.append((wire, case, observed, time.monotonic() - started))


@pytest.mark.parametrize("wire", WIRES)
async def test_fault_matrix_through_the_server_and_the_subscription(
    wire: Wire, emulator: Emulator, tmp_path: Path
) -> None:
    # One server (so one chain, with its breakers) runs these cases in turn: none of them
    # opens a circuit that a later one needs, and the one that does (401) comes last.
    cases = {case.name: case for case in CASES}
    chain = make_chain(wire, cases[SERVER_CASES[0]], emulator)
    with run_server(
        case_settings(tmp_path, cases[SERVER_CASES[0]]), providers=chain.build()
    ) as server:
        client = await register_user(server)
        for name in SERVER_CASES:
            case = cases[name]
            emulator.reset()
            emulator.script(PRIMARY_MODEL, chunked(case.primary))
            emulator.script(SECONDARY_MODEL, chunked(case.secondary))

            observed = await run_through_server(client)

            check(case, chain, observed, emulator)

        # The last case's bad key opened the primary's circuit; an operator's dashboard says so.
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"{server.base_url}/metrics")).text
    assert f'lafactoria_provider_circuit_state{{provider="{chain.primary}"}} 2.0' in metrics
    assert f'lafactoria_provider_circuit_state{{provider="{chain.secondary}"}} 0.0' in metrics
