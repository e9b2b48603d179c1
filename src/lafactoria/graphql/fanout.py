"""Progress fan-out: one job's event is rendered once for all its subscribers.

Every subscriber of a job receives the very same ``JobEvent`` object from the event log. Left
to itself, graphql-core would execute the selection set again for each subscriber and the
transport would serialise each result again: with thousands of subscribers that is almost all
of the server's work. Here:

- :func:`shared_event` turns a ``JobEvent`` into one ``GenerationEvent`` per process, which
  carries a memo of its renderings;
- :func:`sharing_executor` makes the executor look an event's result up in that memo, keyed by
  the operation's document, name and variables, and execute only on a miss.

(Serialising the shared ``data`` once as well was tried and measured: no difference within
the noise, since a progress event is a few hundred bytes; see docs/benchmarks.md.)

Sharing a rendering between subscribers is safe because they are all the job's owner (its
ownership is checked before anything streams), and the only field that reads the request
context, ``content``, depends on nothing but the user.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable, Hashable
from typing import Any, Generic, TypeVar, cast

from graphql.execution import Executor

from graphql import ExecutionResult
from lafactoria.events.models import JobEvent
from lafactoria.graphql.types.jobs import GenerationEvent

# Events stay shared while their subscribers are sending them; a few thousand covers a
# thousand jobs publishing at once. An entry found evicted is simply rendered again.
_SHARED_EVENTS = 4096


K = TypeVar("K")
V = TypeVar("V")


class _IdentityCache(Generic[K, V]):
    """A bounded map keyed by object identity that also holds the key object, so that an id
    reused after the object died can never return another object's value."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[int, tuple[K, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(id(key))
        if entry is None or entry[0] is not key:
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        self._entries[id(key)] = (key, value)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)


_events: _IdentityCache[JobEvent, GenerationEvent] = _IdentityCache(_SHARED_EVENTS)


def shared_event(event: JobEvent) -> GenerationEvent:
    """The one ``GenerationEvent`` of this process for ``event``, with an empty memo."""
    found = _events.get(event)
    if found is None:
        found = GenerationEvent.from_event(event)
        found.shared_results = {}
        _events.put(event, found)
    return found


def sharing_executor(base: type[Executor[Any]]) -> type[Executor[Any]]:
    """``base`` with subscription events rendered once per shared event and operation."""

    class SharingExecutor(base):  # type: ignore[valid-type,misc]
        _share_key: Hashable | None = None

        def build_per_event_executor(self, payload: Any) -> Executor[Any]:
            if self._share_key is None:
                self._share_key = _operation_key(self)
            return cast("Executor[Any]", super().build_per_event_executor(payload))

        def execute_operation(self, serially: bool | None = None) -> Any:
            memo = getattr(self.root_value, "shared_results", None)
            if memo is None or self._share_key is None:
                return super().execute_operation(serially)
            found = memo.get(self._share_key)
            if found is not None:
                return _await_shared(found) if isinstance(found, asyncio.Future) else found
            result = super().execute_operation(serially)
            if self.is_awaitable(result):
                # Concurrent subscribers wait for the one execution instead of starting theirs.
                shared = asyncio.ensure_future(cast(Awaitable[ExecutionResult], result))
                memo[self._share_key] = shared
                shared.add_done_callback(lambda done: _settle(memo, self._share_key, done))
                return _await_shared(shared)
            memo[self._share_key] = result
            return result

    return SharingExecutor


def _operation_key(executor: Executor[Any]) -> Hashable:
    operation = executor.operation
    document = operation.loc.source.body if operation.loc else id(operation)
    variables = json.dumps(executor.variable_values.coerced, sort_keys=True, default=repr)
    name = operation.name.value if operation.name else None
    return (document, name, variables)


async def _await_shared(shared: asyncio.Future[ExecutionResult]) -> ExecutionResult:
    # One subscriber leaving must not cancel the rendering the others wait for.
    return await asyncio.shield(shared)


def _settle(memo: dict[Hashable, Any], key: Hashable, done: asyncio.Future[Any]) -> None:
    if done.cancelled() or done.exception() is not None:
        memo.pop(key, None)  # the next subscriber tries again and gets its own error
    else:
        memo[key] = done.result()
