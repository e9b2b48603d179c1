"""A circuit breaker per provider: stop calling a provider that keeps failing, then probe it.

    CLOSED ──N consecutive failures──▶ OPEN ──cooldown passed──▶ HALF_OPEN (one probe call)
       ▲                                 ▲                            │
       └────────── probe succeeded ──────┼────── probe failed ────────┘

A provider that answered at all (even with an invalid or refused answer) counts as healthy: the
breaker tracks whether a provider can serve, not whether one request was good. Two more ways to
open it: a bad key or missing access (``misconfigured``: skipped for the cooldown, and nobody
waits for it to recover) and a server's ``Retry-After`` longer than anyone will wait (``held``
until that time, so no job calls it sooner).

State lives in one process and one event loop: each process protects itself, which is what a
breaker is for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

import structlog

log = structlog.get_logger(__name__)


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """The health of one provider, shared by every job of the process."""

    def __init__(
        self,
        provider: str,
        *,
        threshold: int,
        cooldown_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, CircuitState], None] | None = None,
    ) -> None:
        self.provider = provider
        self._threshold = threshold
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._on_change = on_change
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._open_until = 0.0
        self._waitable = True
        self._probing = False

    @property
    def state(self) -> CircuitState:
        """The state now; an open circuit whose cooldown has passed reads as half-open."""
        if self._state is CircuitState.OPEN and self._clock() >= self._open_until:
            return CircuitState.HALF_OPEN
        return self._state

    @property
    def probing(self) -> bool:
        """A half-open probe call is under way."""
        return self._probing

    @property
    def recovers_at(self) -> float | None:
        """When a waiting job may next get a call through, on the breaker's clock.

        ``None`` when nobody should wait for it: closed or free to probe (no wait needed), open
        because it is misconfigured, or half-open with a probe under way (its outcome is what
        the waiting job waits for, and ``on_change`` announces it).
        """
        state = self.state
        if state is CircuitState.OPEN and self._waitable:
            return self._open_until
        return None

    def acquire(self) -> bool:
        """May a call go to the provider now? In half-open, only one caller gets the probe."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.OPEN or self._probing:
            return False
        if self._state is CircuitState.OPEN:
            self._move(CircuitState.HALF_OPEN, reason="cooldown passed")
        self._probing = True
        return True

    def succeeded(self) -> None:
        """The provider served a call: close the circuit and forget earlier failures."""
        self._failures = 0
        self._probing = False
        if self._state is not CircuitState.CLOSED:
            self._waitable = True
            self._move(CircuitState.CLOSED, reason="a call succeeded")

    def failed(self, *, reason: str) -> None:
        """The provider could not serve a call (unreachable, overloaded, timed out...)."""
        self._failures += 1
        if self._state is CircuitState.HALF_OPEN or self._probing:
            self._open(self._cooldown, reason=f"probe failed: {reason}", waitable=True)
        elif self._state is CircuitState.CLOSED and self._failures >= self._threshold:
            self._open(
                self._cooldown,
                reason=f"{self._failures} failures in a row: {reason}",
                waitable=True,
            )

    def misconfigured(self, *, reason: str) -> None:
        """The provider refused our credentials or access: skip it for a cooldown, unwaited."""
        self._failures += 1
        self._open(self._cooldown, reason=f"misconfigured: {reason}", waitable=False)

    def hold(self, seconds: float, *, reason: str) -> None:
        """The provider asked not to be called for ``seconds`` (a long ``Retry-After``)."""
        until = self._clock() + seconds
        if self._state is CircuitState.OPEN and self._open_until >= until:
            self._probing = False
            return
        self._open(seconds, reason=reason, waitable=True)

    def released(self) -> None:
        """A call ended with no verdict on the provider (cancelled): free the probe slot."""
        self._probing = False

    def _open(self, seconds: float, *, reason: str, waitable: bool) -> None:
        self._probing = False
        self._open_until = self._clock() + seconds
        self._waitable = waitable
        self._move(CircuitState.OPEN, reason=reason, seconds=seconds)

    def _move(self, state: CircuitState, *, reason: str, seconds: float | None = None) -> None:
        was, self._state = self._state, state
        # An operator reads these to see why a provider stopped (or started) getting traffic.
        level = log.warning if state is CircuitState.OPEN else log.info
        level(
            "provider_circuit",
            provider=self.provider,
            state=state.value,
            previous=was.value,
            reason=reason,
            **({"retry_in_seconds": round(seconds, 3)} if seconds is not None else {}),
        )
        if self._on_change is not None:
            self._on_change(self.provider, state)
