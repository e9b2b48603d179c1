"""Scenario 3's harness logic, without load: messages are counted and timed the way the
report says, the baseline's messages look like La Factoria's, and the report states the
targets it judged. (No timings are asserted.)"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bench import emulator_process, fanout, fanout_report, raw_ws, resources
from bench.fanout_client import LoadClient, Subscriber, latency_us
from bench.subscribers import Delivery


def _next(at: float, *, op: str = "1", errors: bool = False) -> str:
    event = {"sequence": 1, "at": datetime.fromtimestamp(at, UTC).isoformat()}
    payload: dict[str, Any] = {"data": {"generationProgress": event}}
    if errors:
        payload["errors"] = [{"message": "boom"}]
    return json.dumps({"id": op, "type": "next", "payload": payload})


class _Socket:
    close_code = None

    async def send(self, message: str) -> None:
        return


def _client_with_one_subscriber() -> tuple[LoadClient, Subscriber]:
    client = LoadClient()
    subscriber = Subscriber(client, _Socket())  # type: ignore[arg-type]
    client.subscribers.append(subscriber)
    return client, subscriber


def test_latency_is_receive_time_minus_the_publish_time() -> None:
    payload = json.loads(_next(1000.0))["payload"]
    assert latency_us(payload, 1000.25) == 250_000
    assert latency_us({"data": None}, 1000.0) is None


async def test_only_messages_received_in_the_window_are_counted() -> None:
    client, subscriber = _client_with_one_subscriber()
    await client.subscribe(["job"], "subscription { x }")
    now = time.time() - 60  # windows in the past: measuring need not wait for them

    client.note(subscriber, _next(now - 0.1), now - 1)  # before the window
    client.note(subscriber, _next(now + 1), now + 1.5)
    client.note(subscriber, _next(now + 2, errors=True), now + 2)
    client.note(subscriber, '{"type": "ping"}', now + 3)
    client.note(subscriber, '{"id": "1", "type": "complete"}', now + 4)
    client.note(subscriber, _next(now + 11), now + 11)  # after it: kept for the next one
    tally = await client.measure(now, now + 10)

    assert tally.messages == 1
    assert tally.latencies_us == [500_000]
    assert tally.errors == 1
    assert tally.completed == 1
    assert tally.delivered_total == {"graphql-transport-ws": 3}  # in the window or not
    assert tally.first_error is not None
    assert "boom" in tally.first_error
    assert (await client.measure(now + 10, now + 12)).messages == 1


async def test_a_subscription_goes_live_with_its_own_first_message_not_a_ping() -> None:
    client, subscriber = _client_with_one_subscriber()
    await client.subscribe(["job"], "subscription { x }")

    client.note(subscriber, '{"type": "ping"}', time.time())
    assert await client.wait_live(0) == {"waiting": 1}
    client.note(subscriber, _next(time.time()), time.time())
    assert await client.wait_live(0) == {"waiting": 0}


def test_the_baseline_sends_la_factorias_message_shape() -> None:
    message = json.loads(raw_ws.progress_message("stream-1", 7, "x" * 40))
    event = message["payload"]["data"]["generationProgress"]

    assert message["type"] == "next"
    assert set(event) == {
        "jobId", "sequence", "kind", "status", "progress", "message", "textDelta",
        "discardText", "at",
    }  # fmt: skip
    assert all(name in fanout.PROGRESS for name in event)
    assert event["textDelta"] == "x" * 40
    assert latency_us(message["payload"], time.time()) is not None


async def test_the_baseline_broadcasts_to_every_listener_of_a_stream() -> None:
    broadcaster = raw_ws.Broadcaster()
    received: list[str] = []

    async def listener(message: Any) -> None:
        received.append(message["text"])

    broadcaster.listeners["s"] = {listener}
    transport = httpx.ASGITransport(app=raw_ws.build_app(broadcaster))
    async with httpx.AsyncClient(transport=transport, base_url="http://raw") as http:
        schedule = {"streams": ["s"], "per_second": 50, "seconds": 0.2, "text_chars": 3}
        assert (await http.post("/publish", json=schedule)).status_code == 202
        for task in list(broadcaster._publishers):
            await task

    assert received
    assert [
        json.loads(m)["payload"]["data"]["generationProgress"]["sequence"] for m in received
    ] == list(range(1, len(received) + 1))


async def test_the_emulated_answer_is_stretched_but_still_the_same_json() -> None:
    answer = '{"title": "Tides", "items": [1, 2]}'
    text = emulator_process.stretched(answer, 500)
    assert len(text) >= 500
    assert json.loads(text) == json.loads(answer)
    pace = emulator_process.Pace(chunks_per_second=2, chunk_chars=100, min_chars=1000)
    assert pace.stream_seconds == 5


def test_usage_is_read_for_a_live_process() -> None:
    usage = resources.usage(os.getpid())
    assert usage.cpu_seconds > 0
    assert usage.rss_bytes > 0
    assert resources.peak_rss_bytes(os.getpid()) >= usage.rss_bytes // 2


def _window(messages: int, cpu: float, *, rss: int = 100 * 2**20, total: int = 0) -> fanout.Window:
    return fanout.Window(
        messages=messages,
        bytes=messages * 300,
        seconds=10.0,
        cpu_seconds=cpu,
        errors=0,
        latencies_us=[1000, 2000, 3000, 400_000],
        rss_bytes=rss,
        setup_seconds=1.5,
        delivered_total=total,
    )


def _result() -> fanout.Result:
    plan = fanout.Plan()
    case = fanout.CaseResult(
        name="(b) 1 job x 5,000 subscribers",
        jobs=1,
        subscribers=5000,
        pace=plan.pace(1.0),
        windows={
            fanout.LAFACTORIA: [
                _window(50_000, 2.0, total=80_000),
                _window(60_000, 3.0, rss=101 * 2**20, total=140_000),
            ],
            fanout.RAW: [_window(50_000, 1.0), _window(50_000, 1.0)],
        },
        memory={
            fanout.LAFACTORIA: fanout.Memory(
                idle_bytes=50 * 2**20,
                subscribed_bytes=100 * 2**20,
                peak_bytes=120 * 2**20,
                after_window_bytes=[100 * 2**20, 101 * 2**20],
            ),
            fanout.RAW: fanout.Memory(
                idle_bytes=20 * 2**20,
                subscribed_bytes=30 * 2**20,
                peak_bytes=31 * 2**20,
                after_window_bytes=[30 * 2**20, 30 * 2**20],
            ),
        },
        message_bytes={fanout.LAFACTORIA: 300.0, fanout.RAW: 280.0},
    )
    return fanout.Result(plan=plan, cases=[case])


def test_figures_are_medians_and_ratios_to_the_baseline_of_the_same_round() -> None:
    case = _result().cases[0]

    assert case.median(fanout.LAFACTORIA, lambda w: w.per_second) == 5_500
    # 40 and 50 µs against 20 µs in the same rounds
    assert case.cpu_ratio(fanout.LAFACTORIA) == 2.25
    assert case.rss_per_subscription(fanout.LAFACTORIA) == 50 * 2**20 / 5000
    assert case.long_run(fanout.LAFACTORIA) == (60_000, 0.01)
    assert _window(1, 0.0).p50_ms == 2.5


def test_the_report_has_the_table_and_judges_each_target() -> None:
    text = "\n".join(fanout_report.render(_result()))

    assert "## Scenario 3: progress fan-out" in text
    assert f"| (b) 1 job x 5,000 subscribers | {fanout.LAFACTORIA} | 5,500 |" in text
    assert "2.25x the raw broadcast (target ≤ 2x): **missed**" in text
    assert "RSS growth +1.00% over 60,000 delivered messages" in text
    assert "not enough messages to judge" in text


def test_a_delivery_merges_every_clients_tally() -> None:
    delivery = Delivery()
    tally = {
        "messages": 2,
        "bytes": 10,
        "errors": 1,
        "latencies_us": [1, 2],
        "first_error": "x",
        "completed": 1,
        "delivered_total": {"raw": 5},
    }
    delivery.add(tally)
    delivery.add({**tally, "first_error": "y"})
    assert (delivery.messages, delivery.errors, delivery.completed) == (4, 2, 2)
    assert delivery.latencies_us == [1, 2, 1, 2]
    assert delivery.first_error == "x"
    assert delivery.delivered_total == {"raw": 10}
