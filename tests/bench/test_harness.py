"""The benchmark harness's own logic, without load: the ceiling answers its bytes, answers
are matched the way the load generator matches them, and the report says what it measured and
what it did not. (No timings are asserted: they belong in docs/benchmarks.md.)"""

from __future__ import annotations

import httpx

from bench import load, query_path, query_profile, raw, report, statements

ANSWER = b'{"data":{"contents":{"edges":[]}},"extensions":{"cost":{"left":7}}}'


async def test_the_ceiling_answers_its_bytes_to_any_request() -> None:
    transport = httpx.ASGITransport(app=raw.build_app(ANSWER))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        response = await http.post("/graphql", json={"query": "{ anything }"})
    assert response.status_code == 200
    assert response.content == ANSWER
    assert response.headers["content-type"] == "application/json"


def test_graphql_answers_are_matched_up_to_their_extensions() -> None:
    expected = query_path._before_extensions(ANSWER)
    assert expected == b'{"data":{"contents":{"edges":[]}}'
    later = ANSWER.replace(b'"left":7', b'"left":6')
    assert later.startswith(expected)
    assert query_path._before_extensions(b'{"data":{}}') == b'{"data":{}}'


def test_the_report_has_a_table_per_scenario_and_says_which_targets_were_met() -> None:
    def runs(*rates: int) -> list[load.Run]:
        return [load.Run(requests=r, failures=0, seconds=1.0, latencies=[0.01] * r) for r in rates]

    names = ["GraphQL", query_path.PLANS_OFF, query_path.STOCK, "REST"]
    result = query_path.Result(
        targets=names,
        baseline="REST",
        runs={
            "GraphQL": runs(50, 60, 90),
            query_path.PLANS_OFF: runs(30, 30, 30),
            query_path.STOCK: runs(20, 20, 20),
            "REST": runs(100, 100, 100),
        },
        response_bytes=dict.fromkeys(names, 10),
    )
    counts = statements.Counts(by_shape={"scalar": {1: 3, 20: 3, 100: 3}})
    profile = query_profile.Profiles(
        by_mode=[
            query_profile.Profile("plans", {"compiled plans": 1.0, query_profile.CLIENT: 1.0}),
            query_profile.Profile("stock", {"graphql-core execution": 3.0}),
        ],
        requests=10,
    )

    text = report.render(
        command="make bench",
        plan=query_path.Plan(),
        query=result,
        counts=counts,
        profile=profile,
        seconds=60,
    )

    assert "| GraphQL | 10 | 60 | 10.0 | 0.60x | 3.00x | 0 |" in text
    assert "| REST | 10 | 100 | 10.0 | 1.00x | 5.00x | 0 |" in text
    assert "Target ≥ 3x stock Strawberry: **3.00x, met**" in text
    assert "Target ≥ 0.25x the REST route: **0.60x, met**" in text
    assert "Compiled plans on vs off: **2.00x**" in text
    assert "| compiled plans | 1.00 (100 %) | 0.00 (0 %) |" in text
    assert "| **server total** | **1.00** | **3.00** |" in text
    assert "| scalar | 3 | 3 | 3 |" in text
    assert "`make bench`" in text


def test_profile_components_follow_the_file_and_built_ins_count_for_their_caller() -> None:
    assert query_profile._component("/x/site-packages/graphql/execution/executor.py", "?") == (
        "graphql-core execution"
    )
    assert (
        query_profile._component("/work/src/lafactoria/graphql/plans.py", "?") == "compiled plans"
    )
    assert query_profile._component("<built-in>", "database") == "database"
