"""The provider emulator (``tests/support/emulator.py``) in a process of its own, answering
every call for :data:`MODEL` with one paced, valid answer, so that producing the token streams
costs the server under test nothing and the harness's loop nothing.

    python -m bench.emulator_process --tokens-per-second 5 --chunk-chars 40 --min-chars 4000

It prints its base URL on the first line of stdout and serves until stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from lafactoria.content.enums import AudienceLevel, ContentType
from tests.support.emulator import Behaviour, Emulator, offline_answer

MODEL = "bench-model"
CONTENT_TYPE = ContentType.QUIZ
AUDIENCE_LEVEL = AudienceLevel.HIGH_SCHOOL


@dataclass(frozen=True)
class Pace:
    """How the emulated provider streams each answer."""

    chunks_per_second: float
    chunk_chars: int
    min_chars: int
    """The answer is stretched (with JSON whitespace) to at least this many characters, so a
    job streams for ``min_chars / chunk_chars / chunks_per_second`` seconds."""
    first_token_seconds: float = 0.3

    @property
    def stream_seconds(self) -> float:
        return self.min_chars / self.chunk_chars / self.chunks_per_second


def stretched(answer: str, min_chars: int) -> str:
    """The same JSON answer, indented and padded with trailing whitespace to ``min_chars``:
    the job still validates it, and it streams for as long as the scenario needs."""
    text = json.dumps(json.loads(answer), indent=2)
    return text + "\n" * max(0, min_chars - len(text))


@contextmanager
def run_emulator_process(pace: Pace) -> Iterator[tuple[str, int]]:
    """Start the emulator process; yields its OpenAI base URL and its pid, stops it on exit."""
    command = [
        sys.executable,
        "-m",
        "bench.emulator_process",
        "--tokens-per-second",
        str(pace.chunks_per_second),
        "--chunk-chars",
        str(pace.chunk_chars),
        "--min-chars",
        str(pace.min_chars),
        "--first-token-seconds",
        str(pace.first_token_seconds),
    ]
    process = subprocess.Popen(  # noqa: S603 - a fixed command line built by this package
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        if not base_url:
            raise RuntimeError(f"the emulator exited with {process.wait()}")
        yield f"{base_url}/v1", process.pid
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens-per-second", type=float, required=True, help="chunks per second")
    parser.add_argument("--chunk-chars", type=int, required=True)
    parser.add_argument("--min-chars", type=int, required=True)
    parser.add_argument("--first-token-seconds", type=float, default=0.3)
    arguments = parser.parse_args()
    answer = asyncio.run(offline_answer(CONTENT_TYPE, AUDIENCE_LEVEL))
    emulator = Emulator()
    emulator.script(
        MODEL,
        Behaviour(
            text=stretched(answer, arguments.min_chars),
            tokens_per_second=arguments.tokens_per_second,
            chunk_size=arguments.chunk_chars,
            first_token_delay=arguments.first_token_seconds,
        ),
    )
    emulator.start()
    print(emulator.base_url, flush=True)
    try:
        sys.stdin.read()  # until the harness closes our stdin (or exits)
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
