"""A minimal ``graphql-transport-ws`` client that follows one job's progress to its end.

Kept to what the benchmark needs (one subscription per connection, the events' sequence, kind
and publish time), so the client costs little CPU next to the server it measures.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

PROGRESS = """
subscription Progress($jobId: ID!) {
  generationProgress(jobId: $jobId) {
    sequence kind progress textDelta discardText at error { code } content { id }
  }
}"""
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


@dataclass
class Watch:
    """What one subscriber saw of one job."""

    subscribed_at: float
    """Wall clock (``time.time()``) when the subscription was sent."""
    events: int = 0
    gaps: int = 0
    """Sequences missing or out of order: a correct server never has any."""
    terminal: str | None = None
    finished: float | None = None
    """``time.monotonic()`` when the terminal event arrived."""
    latencies: list[float] = field(default_factory=list)
    """Seconds from each live event's publication (its ``at``) to its arrival here; events
    published before the subscription (replayed) are left out."""
    error: str | None = None


def _published(at: str) -> float:
    return datetime.fromisoformat(at).timestamp()


async def watch(ws_url: str, token: str, job_id: str) -> Watch:
    """Subscribe to ``generationProgress(jobId)`` and read it to the end."""
    seen = Watch(subscribed_at=time.time())
    try:
        protocols = [Subprotocol("graphql-transport-ws")]
        async with connect(ws_url, subprotocols=protocols, open_timeout=60) as socket:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            await socket.send(json.dumps(init))
            while json.loads(await socket.recv())["type"] != "connection_ack":
                pass
            seen.subscribed_at = time.time()
            request = {"query": PROGRESS, "variables": {"jobId": job_id}}
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": request}))
            async for raw in socket:
                message: dict[str, Any] = json.loads(raw)
                kind = message["type"]
                if kind == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                elif kind == "next":
                    _record(seen, message["payload"])
                elif kind == "error":
                    seen.error = json.dumps(message.get("payload"))[:200]
                    break
                elif kind == "complete":
                    break
    except Exception as exc:  # a refused, cut or timed-out connection is a result too
        seen.error = f"{type(exc).__name__}: {exc}"[:200]
    if seen.terminal is None and seen.error is None:
        seen.error = "the subscription ended without a terminal event"
    return seen


def _record(seen: Watch, payload: dict[str, Any]) -> None:
    arrived = time.time()
    if payload.get("errors"):
        seen.error = json.dumps(payload["errors"])[:200]
        return
    event = payload["data"]["generationProgress"]
    seen.events += 1
    if event["sequence"] != seen.events:
        seen.gaps += 1
    published = _published(event["at"])
    if published >= seen.subscribed_at:
        seen.latencies.append(arrived - published)
    if event["kind"] in TERMINAL:
        seen.terminal = event["kind"]
        seen.finished = time.monotonic()
