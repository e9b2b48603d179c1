"""The benchmark harness's own logic, without load: the ceiling answers its bytes, answers
are matched the way the load generator matches them, and the report says what it measured and
what it did not. (No timings are asserted: they belong in docs/benchmarks.md.)"""

from __future__ import annotations

import httpx

from bench import load, query_path, raw, report, statements

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


def test_the_report_has_a_table_per_scenario_and_lists_what_is_not_measured() -> None:
    def runs(*rates: int) -> list[load.Run]:
        return [load.Run(requests=r, failures=0, seconds=1.0, latencies=[0.01] * r) for r in rates]

    result = query_path.Result(
        targets=["GraphQL", "REST", "raw"],
        baseline="REST",
        runs={"GraphQL": runs(50, 60, 90), "REST": runs(100, 100, 100), "raw": runs(900, 1000)},
        response_bytes={"GraphQL": 10, "REST": 20, "raw": 10},
    )
    result.runs["raw"].append(result.runs["raw"][0])
    counts = statements.Counts(by_shape={"scalar": {1: 3, 20: 3, 100: 3}})

    text = report.render(
        command="make bench", plan=query_path.Plan(), query=result, counts=counts, seconds=60
    )

    assert "| GraphQL | 10 | 60 | 10.0 | 0.60x | 0 |" in text
    assert "| REST | 20 | 100 | 10.0 | 1.00x | 0 |" in text
    assert "| scalar | 3 | 3 | 3 |" in text
    assert "## Not measured yet" in text
    assert "stock Strawberry baseline" in text
    assert "`make bench`" in text
