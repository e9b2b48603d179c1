"""``python -m bench``: run the scenarios and regenerate ``docs/benchmarks.md``.

python -m bench                 # the full run (about fifteen minutes at most)
python -m bench --quick         # one short round, to try the harness; writes nothing

Scenario 5 runs when LAFACTORIA_TEST_DATABASE_URL and LAFACTORIA_TEST_REDIS_URL are set.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench import (
    fanout,
    generation,
    query_path,
    query_profile,
    report,
    scale_out,
    statements,
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


async def run(*, quick: bool) -> None:
    started = time.monotonic()
    plan = (
        query_path.Plan(warmup_seconds=0.5, round_seconds=1.0, rounds=1)
        if quick
        else query_path.Plan()
    )
    with tempfile.TemporaryDirectory(prefix="lafactoria-bench-") as scratch:
        root = Path(scratch)
        print("Scenario 2: statements per request", flush=True)
        counts = await statements.count(root / "statements")
        for shape, by_size in counts.by_shape.items():
            print(f"  {shape}: {by_size}", flush=True)
        print("Scenario 1: query path", flush=True)
        query = await query_path.measure(root / "query-path", plan)
        print("Scenario 1: profiles", flush=True)
        profile = await query_profile.measure(root / "profiles")
        print("Scenario 4: generation overhead", flush=True)
        overhead = [
            await generation.measure(root / f"generation-{n}", each)
            for n, each in enumerate(generation.plans(quick=quick))
        ]
        print("Scenario 5: scale-out", flush=True)
        scale = await scale_out.measure(root / "scale-out", scale_out.plan(quick=quick))
        print(f"  {scale_out.summary(scale)}", flush=True)
        print("Scenario 3: progress fan-out", flush=True)
        fan_out = await fanout.measure(
            root / "fanout", fanout.Plan.quick() if quick else fanout.Plan()
        )
    for name in query.targets:
        print(
            f"  {name}: {query.median_per_second(name):,.0f} req/s median, "
            f"{query.median_ratio(name):.2f}x REST, "
            f"{query.median_ratio(name, query.stock):.2f}x stock Strawberry, "
            f"{query.failures(name)} failed"
        )
    for line in fanout.summary(fan_out):
        print(line)
    if quick:
        print("--quick: docs/benchmarks.md left as it was")
        return
    DOC.write_text(
        report.render(
            command="make bench",
            plan=plan,
            query=query,
            counts=counts,
            profile=profile,
            fan_out=fan_out,
            seconds=time.monotonic() - started,
            overhead=overhead,
            scale=scale,
        ),
        encoding="utf-8",
    )
    print(f"wrote {DOC}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short round; write nothing")
    arguments = parser.parse_args()
    asyncio.run(run(quick=arguments.quick))


if __name__ == "__main__":
    main()
