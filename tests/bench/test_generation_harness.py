"""Scenarios 4 and 5's harness logic, without load: the emulator's stopwatch finds each job's
requests, server-added time is computed per job against them, subscribers' streams are judged,
rounds alternate, and the report says what was measured, skipped or missed. (No timings are
asserted: they belong in docs/benchmarks.md.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bench import generation, generation_report, jobs, pyspy, scale_out, subscriber
from bench.timed_emulator import MODEL, Pace, Served, TimedEmulator


def test_the_pace_is_first_token_then_one_chunk_per_token() -> None:
    pace = Pace(first_token_seconds=0.3, tokens_per_second=50, chars_per_token=4)

    assert pace.seconds_for("x" * 8) == pytest.approx(0.3 + 1 / 50)
    assert pace.seconds_for("x" * 9) == pytest.approx(0.3 + 2 / 50)


async def test_the_emulator_times_each_request_under_its_jobs_marker() -> None:
    emulator = TimedEmulator()
    transport = httpx.ASGITransport(app=emulator._build_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
        answer = await http.post(
            "/v1/chat/completions",
            json={
                "model": MODEL,
                "messages": [{"role": "user", "content": "<topic>\nTides bench-s4-0007\n"}],
                "stream": True,
            },
        )
        served = (await http.get("/bench/served")).json()

    assert answer.status_code == 200
    assert "data: [DONE]" in answer.text
    assert [(s["marker"], s["status"]) for s in served] == [("bench-s4-0007", 200)]
    assert served[0]["finished"] >= served[0]["started"]


def _served(marker: str, started: float, finished: float) -> Served:
    return Served(marker=marker, status=200, started=started, finished=finished)


def _run(marker: str, slot: int, submitted: float, finished: float | None) -> jobs.JobRun:
    seen = subscriber.Watch(subscribed_at=0.0, events=5, terminal="SUCCEEDED", finished=finished)
    if finished is None:
        seen.terminal, seen.error = None, "the subscription ended without a terminal event"
    return jobs.JobRun(marker=marker, slot=slot, submitted=submitted, job_id="j", watches=[seen])


def test_server_added_time_is_wall_time_less_every_request_the_emulator_served() -> None:
    served = [
        _served("bench-a-0000", 1.0, 5.0),
        # A retried job: both of its requests are the emulator's time.
        _served("bench-a-0001", 1.0, 2.0),
        _served("bench-a-0001", 3.0, 6.0),
        _served("bench-a-0002", 1.0, 5.0),
        Served(marker=None, status=200, started=0.0, finished=1.0),
    ]
    batch = jobs.Batch(
        runs=[
            _run("bench-a-0000", slot=0, submitted=0.0, finished=4.4),
            _run("bench-a-0001", slot=1, submitted=0.0, finished=4.2),
            _run("bench-a-0002", slot=0, submitted=4.4, finished=None),
        ],
        seconds=10.0,
    )

    by_marker = generation.emulator_seconds(served)
    timings = generation.timings_of(batch, by_marker)

    assert by_marker == {"bench-a-0000": 4.0, "bench-a-0001": 4.0, "bench-a-0002": 4.0}
    assert [round(t.added_seconds, 6) for t in timings] == [0.4, 0.2]
    assert [round(t.added_share, 6) for t in timings] == [0.1, 0.05]
    assert batch.errors == ["bench-a-0002: the subscription ended without a terminal event"]


def test_an_overhead_free_server_would_finish_when_the_busiest_client_does() -> None:
    timings = [
        generation.JobTiming(wall_seconds=5, emulator_seconds=4, slot=0),
        generation.JobTiming(wall_seconds=5, emulator_seconds=4, slot=0),
        generation.JobTiming(wall_seconds=5, emulator_seconds=3, slot=1),
    ]

    assert generation.ideal_seconds(timings) == 8


def test_a_subscriber_counts_gaps_and_times_only_live_events() -> None:
    subscribed = datetime(2026, 1, 1, tzinfo=UTC)
    seen = subscriber.Watch(subscribed_at=subscribed.timestamp())

    def event(sequence: int, kind: str, at: datetime) -> dict[str, object]:
        return {
            "data": {
                "generationProgress": {"sequence": sequence, "kind": kind, "at": at.isoformat()}
            }
        }

    subscriber._record(seen, event(1, "QUEUED", subscribed - timedelta(seconds=1)))
    subscriber._record(seen, event(2, "TEXT", subscribed + timedelta(seconds=1)))
    subscriber._record(seen, event(4, "SUCCEEDED", subscribed + timedelta(seconds=2)))

    assert (seen.events, seen.gaps, seen.terminal) == (3, 1, "SUCCEEDED")
    assert len(seen.latencies) == 2, "the replayed QUEUED event has no publish-to-client latency"
    run = jobs.JobRun(marker="bench-x-0000", slot=0, submitted=0.0, watches=[seen])
    assert run.error == "1 sequence gaps"


def test_jobs_go_to_every_api_process_and_their_subscriptions_use_websockets() -> None:
    api = jobs.Api("http://127.0.0.1:8123")

    assert api.ws_url == "ws://127.0.0.1:8123/graphql"
    assert jobs.marker("t3", 42) == "bench-t3-0042"


def test_topologies_alternate_so_each_goes_first_and_last_equally_often() -> None:
    assert scale_out.round_order(["A", "B"], 2) == ["A", "B", "B", "A"]
    assert scale_out.round_order(["A", "B"], 1) == ["A", "B"]


def _throughput(jobs_per_second: float) -> scale_out.ThroughputRound:
    return scale_out.ThroughputRound(
        jobs_per_second=jobs_per_second,
        median_added_share=0.1,
        cpu_ms_per_job=100.0,
        jobs_per_worker=[10],
        errors=[],
    )


def _fanout(events: float) -> scale_out.FanoutRound:
    return scale_out.FanoutRound(
        subscribers=10,
        events_per_second=events,
        p50_ms=10.0,
        p99_ms=50.0,
        errors=[],
        client_cores=0.1,
        api_cores=0.5,
    )


def _scale_result() -> scale_out.Result:
    return scale_out.Result(
        plan=scale_out.Plan(),
        throughput={
            scale_out.ONE_BY_ONE: [_throughput(2.0), _throughput(4.0)],
            scale_out.TWO_BY_TWO: [_throughput(3.0), _throughput(4.0)],
        },
        fanout={
            scale_out.ONE_BY_ONE: [_fanout(100.0), _fanout(100.0)],
            scale_out.TWO_BY_TWO: [_fanout(150.0), _fanout(50.0)],
        },
    )


def test_scale_out_ratios_are_medians_of_paired_rounds() -> None:
    result = _scale_result()

    assert result.ratio(lambda r: r.jobs_per_second) == pytest.approx((1.5 + 1.0) / 2)
    assert result.fanout_ratio(lambda r: r.events_per_second) == pytest.approx(1.0)


def test_scale_out_is_skipped_without_postgres_and_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(scale_out.DATABASE_VARIABLE, raising=False)
    monkeypatch.setenv(scale_out.REDIS_VARIABLE, "redis://127.0.0.1:6379/15")

    reason = scale_out.why_skipped()
    text = "\n".join(
        generation_report.scenario_5(scale_out.Result(plan=scale_out.Plan(), skipped=reason))
    )

    assert reason == "LAFACTORIA_TEST_DATABASE_URL not set (PostgreSQL and Redis are needed)"
    assert "Skipped in this run: LAFACTORIA_TEST_DATABASE_URL not set" in text


def test_the_scale_out_section_has_a_ratio_per_metric_and_says_what_two_cores_mean() -> None:
    text = "\n".join(generation_report.scenario_5(_scale_result()))

    assert "| generation throughput (jobs/s) | 3.00 | 3.50 | 1.25x |" in text
    assert "| fan-out: events delivered per second | 100 | 100 | 1.00x |" in text
    assert "| fan-out: API CPU per delivered event (ms) | 5.00 | 6.67 | 1.33x |" in text
    assert "more processes cannot add CPU" in text


def _overhead(added: float, errors: list[str]) -> generation.Result:
    return generation.Result(
        plan=generation.Plan(),
        answer_chars=1889,
        schedule_seconds=9.74,
        timings=[generation.JobTiming(10.0 + added, 10.0, slot) for slot in range(4)],
        errors=errors,
        seconds=25.0,
        server_cpu_seconds=4.0,
        emulator_cpu_seconds=1.0,
        provider_calls=4 + len(errors),
    )


def test_the_overhead_section_says_whether_the_target_was_met() -> None:
    met = "\n".join(generation_report.scenario_4([_overhead(0.2, [])]))
    missed = "\n".join(
        generation_report.scenario_4([_overhead(0.2, ["bench-s4-0004: ended FAILED"])])
    )
    slow = "\n".join(generation_report.scenario_4([_overhead(1.0, [])]))

    assert "| 200 | 50 | 10.00 s | 200 ms | 200 ms | 2.0 % | 2.0 % |" in met
    assert "zero errors): met" in met
    assert "zero errors): **not met**" in missed
    assert "zero errors): **not met** — median 10.0 %" in slow
    assert "LAFACTORIA_JOBS__QUEUE_SIZE" in met, "the lifted limits are listed"


def test_a_profile_summary_counts_each_frame_once_per_stack() -> None:
    lines = iter(
        [
            "main (app.py:1);loop (app.py:5);parse (sdk.py:9) 6\n",
            "main (app.py:1);loop (app.py:5);loop (app.py:5) 2\n",
            "main (app.py:1);send (ws.py:3) 2\n",
        ]
    )

    rows = pyspy.summarise(lines, top=3)

    assert rows[0] == ("main (app.py)", 1.0, 0.0)
    assert ("loop (app.py)", 0.8, 0.2) in rows
    assert json.dumps(rows)  # plain data, printable as it is
