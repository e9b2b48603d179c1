"""Sampling profiles of a running server process with py-spy, and a summary of them.

    python -m bench.pyspy STACKS [--top 30]     # the functions that hold the most samples

py-spy reads the process from outside, so the server runs exactly as in the measured runs;
its ``raw`` format is one line per distinct stack (frames joined by ``;``) and a sample count.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RATE = 200
"""Samples per second: enough to see a per-chunk cost at a few thousand chunks a second."""


@contextmanager
def sampled(pid: int, output: Path | None) -> Iterator[None]:
    """Sample process ``pid`` into ``output`` for the duration of the block (no-op if None)."""
    if output is None:
        yield
        return
    # Installed next to this interpreter when the venv is not on PATH (make bench).
    executable = shutil.which("py-spy") or shutil.which("py-spy", path=Path(sys.executable).parent)
    if executable is None:
        raise RuntimeError("py-spy is not installed: pip install py-spy")
    command = [executable, "record", "--pid", str(pid), "--rate", str(RATE)]
    command += ["--format", "raw", "--output", str(output), "--nonblocking"]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - fixed command
    try:
        yield
    finally:
        # py-spy writes its file when interrupted.
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)


def summarise(lines: Iterator[str], top: int) -> list[tuple[str, float, float]]:
    """``(function, share of samples in it or below, share of samples in it alone)``, the
    largest inclusive shares first."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [frame.split(" (")[0] + " " + _where(frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    return [
        (frame, samples / total, own[frame] / total)
        for frame, samples in inclusive.most_common(top)
    ]


def _where(frame: str) -> str:
    """``(module.py:line)`` shortened to the file's last two path parts."""
    inside = frame.partition(" (")[2].rstrip(")")
    path, _, _line = inside.rpartition(":")
    return "(" + "/".join(Path(path).parts[-2:]) + ")"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stacks", type=Path)
    parser.add_argument("--top", type=int, default=40)
    arguments = parser.parse_args()
    with arguments.stacks.open(encoding="utf-8") as lines:
        rows = summarise(lines, arguments.top)
    for frame, inclusive, alone in rows:
        print(f"{inclusive:6.1%} {alone:6.1%}  {frame}")


if __name__ == "__main__":
    main()
