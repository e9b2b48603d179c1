"""Where Scenario 1's request spends its CPU: pyinstrument samples of the same request
served three ways (compiled plans, plans off, stock Strawberry), summed by component.

The app runs in this process behind httpx's ASGI transport, so the sampler sees the server's
frames without a network hop; the client's own share is reported as its own component and
left out of the server total. Requests run one after another, so the figures are CPU time
per request, not throughput.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pyinstrument import Profiler
from pyinstrument.frame import Frame

from bench import processes, query_path, seed
from bench.stock import PATH as STOCK_PATH
from bench.stock import mount_stock_router
from lafactoria.app import create_app
from lafactoria.logging import configure_logging
from lafactoria.settings import Settings

REQUESTS = 300
WARMUP = 30
SAMPLING_SECONDS = 0.001

# First match wins: a frame's own (self) time goes to the component its file belongs to.
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("benchmark client (httpx, not the server)", ("/httpx/", "/bench/query_profile.py")),
    ("compiled plans", ("/lafactoria/graphql/plans.py",)),
    ("graphql-core execution", ("site-packages/graphql/execution/",)),
    ("graphql-core validation", ("site-packages/graphql/validation/",)),
    ("graphql-core parsing", ("site-packages/graphql/language/",)),
    ("graphql-core, other", ("site-packages/graphql/",)),
    ("Strawberry", ("/strawberry/",)),
    ("limits and costs", ("/lafactoria/graphql/limits.py", "/lafactoria/ratelimit.py", "/limits/")),
    ("database (SQLAlchemy, aiosqlite, SQLModel)", ("/sqlalchemy/", "/aiosqlite/", "/sqlmodel/")),
    ("authentication (JWT, users)", ("/jwt/", "/lafactoria/auth/")),
    ("resolvers and types", ("/lafactoria/",)),
    ("HTTP stack (Starlette, FastAPI, middleware)", ("/starlette/", "/fastapi/", "/anyio/")),
    ("event loop and threads", ("/asyncio/", "/selectors.py", "/threading.py", "/queue.py")),
    ("JSON", ("/json/",)),
)
OTHER = "other (stdlib, builtins)"
CLIENT = COMPONENTS[0][0]


@dataclass(frozen=True)
class Profile:
    mode: str
    milliseconds: dict[str, float]
    """Component → CPU milliseconds per request (server side and the client's share)."""

    @property
    def server_total(self) -> float:
        return sum(ms for name, ms in self.milliseconds.items() if name != CLIENT)


@dataclass(frozen=True)
class Profiles:
    by_mode: list[Profile]
    requests: int


def _component(file_path: str | None, caller: str) -> str:
    """The component a frame's file belongs to; built-ins and standard-library helpers
    nobody names count for the component that called them."""
    path = file_path or ""
    for name, markers in COMPONENTS:
        if any(marker in path for marker in markers):
            return name
    return caller


def _self_times(frame: Frame, caller: str, totals: dict[str, float]) -> None:
    component = _component(frame.file_path, caller)
    if frame.total_self_time:
        totals[component] += frame.total_self_time
    for child in frame.children:
        _self_times(child, component, totals)


async def _profile(app: FastAPI, settings: Settings, mode: str, path: str) -> Profile:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as http,
    ):
        account = await seed.register(http)
        await seed.store_contents(settings, user_id=account.user_id, count=query_path.ITEMS)
        body = json.dumps(
            {"query": query_path.CONTENTS, "variables": {"first": query_path.PAGE_SIZE}}
        )
        headers = {**account.headers, "Content-Type": "application/json"}

        async def one() -> None:
            response = await http.post(path, content=body, headers=headers)
            payload: dict[str, Any] = response.json()
            if response.status_code != 200 or payload.get("errors"):
                raise RuntimeError(f"{mode}: {payload}")

        for _ in range(WARMUP):
            await one()
        profiler = Profiler(interval=SAMPLING_SECONDS, async_mode="disabled")
        profiler.start()
        for _ in range(REQUESTS):
            await one()
        session = profiler.stop()
    totals: dict[str, float] = defaultdict(float)
    root = session.root_frame()
    if root is not None:
        _self_times(root, OTHER, totals)
    # Wall-clock samples of the one thread serving the requests one by one; waiting for
    # the database's thread shows as time in the event loop.
    return Profile(mode=mode, milliseconds={k: v * 1000 / REQUESTS for k, v in totals.items()})


async def measure(root: Path) -> Profiles:
    by_mode = []
    modes = (
        ("La Factoria, compiled plans", "/graphql", True),
        ("La Factoria, plans off", "/graphql", False),
        ("stock Strawberry GraphQLRouter", STOCK_PATH, True),
    )
    for number, (mode, path, compiled) in enumerate(modes):
        settings = Settings(
            _env_file=None,
            env="development",
            data_dir=root / f"profile-{number}",
            secret_key=processes.SECRET_KEY,
            providers=["offline"],
            log_level="warning",
            limits={"query_cost_budget": 1_000_000_000},
            graphql={"compiled_queries": compiled},
        )
        configure_logging(settings.log_level)
        app = create_app(settings)
        mount_stock_router(app)
        by_mode.append(await _profile(app, settings, mode, path))
    return Profiles(by_mode=by_mode, requests=REQUESTS)
