"""Compiled plans answer exactly what graphql-core answers: the same data, the same errors
(messages, paths, locations, codes) and the same null propagation.

Every operation runs twice, through two schemas that differ only in
``PreparedOperations(compile_queries=...)``: on a small schema built to fail in every way
(``plan_schema``), on hand-written and generated documents, and on La Factoria's own schema
with every query document the test suite sends and generated ones.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import seed
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    OperationDefinitionNode,
    OperationType,
    parse,
    validate,
)
from lafactoria.app import create_app
from lafactoria.graphql import plans
from lafactoria.graphql.context import Context
from lafactoria.graphql.plans import compile_plan
from lafactoria.graphql.prepared import PreparedDocuments, PreparedOperations
from lafactoria.graphql.schema import build_schema
from lafactoria.settings import Settings
from tests.graphql import plan_schema
from tests.support.server import make_settings

TESTS = Path(__file__).resolve().parent.parent


def _synthetic(*, compiled: bool) -> strawberry.Schema:
    return strawberry.Schema(
        query=plan_schema.Query,
        types=plan_schema.SCHEMA_TYPES,
        extensions=[
            partial(
                PreparedOperations,
                documents=PreparedDocuments(hide_suggestions=False),
                compile_queries=compiled,
            )
        ],
    )


SYNTHETIC = {compiled: _synthetic(compiled=compiled) for compiled in (True, False)}


def _error(error: GraphQLError | dict[str, Any]) -> tuple[Any, ...]:
    formatted = error.formatted if isinstance(error, GraphQLError) else error
    extensions = dict(formatted.get("extensions") or {})
    extensions.pop("correlationId", None)  # random for each masked error
    return (
        formatted["message"],
        tuple(formatted.get("path") or ()),
        tuple((loc["line"], loc["column"]) for loc in formatted.get("locations") or ()),
        json.dumps(extensions, sort_keys=True),
    )


def observed(result: Any) -> dict[str, Any]:
    """What a client sees. Errors of sibling fields that ran concurrently may arrive in
    either order, so they are compared as a sorted list."""
    extensions = json.loads(json.dumps(result.extensions or {}))
    throttle = (extensions.get("cost") or {}).get("throttleStatus") or {}
    # Each run spends from the same budget, so what is left differs by design.
    throttle.pop("currentlyAvailable", None)
    return {
        "data": result.data,
        "errors": sorted((_error(e) for e in result.errors or []), key=repr),
        "extensions": extensions,
    }


def run_synthetic(query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    async def both() -> list[dict[str, Any]]:
        return [
            observed(
                await SYNTHETIC[compiled].execute(
                    query, variable_values=variables, context_value=plan_schema.context()
                )
            )
            for compiled in (True, False)
        ]

    return asyncio.run(both())


@contextmanager
def _coroutines_left_unawaited() -> Iterator[list[Any]]:
    """Coroutines garbage-collected unawaited meanwhile. graphql-core's executor leaves some
    behind when a non-null error nulls a parent whose siblings are still pending (pyproject's
    filterwarnings lets those pass); a plan settles every coroutine it starts."""
    leaked: list[Any] = []
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if asyncio.iscoroutine(unraisable.object):
            leaked.append(unraisable.object)
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield leaked
        gc.collect()
    finally:
        sys.unraisablehook = previous


def compiles(schema: strawberry.Schema, query: str, operation: str | None = None) -> bool:
    document = parse(query)
    if validate(schema._schema, document):
        return False
    return compile_plan(schema._schema, document, operation) is not None


CASES: list[tuple[str, str, dict[str, Any] | None, bool]] = [
    ("scalars", "{ items { id name number colour createdAt tags } }", None, True),
    (
        "aliases and merged fields",
        "{ a: items(first: 2) { id } b: items(first: 1) { id name } items { id } items { name } }",
        None,
        True,
    ),
    ("error in a nullable field", "{ items { number broken } }", None, True),
    ("non-null error nulls the whole root", "{ items { requiredBroken } greeting }", None, True),
    (
        "non-null error stops at a nullable parent",
        "{ item(number: 2) { requiredBroken } }",
        None,
        True,
    ),
    ("null in a non-null field", "{ item(number: 1) { id nullInNonNull } }", None, True),
    (
        "values a type cannot hold",
        "{ item(number: 1) { badInt } other: item(number: 2) { maybeBadInt notAList"
        " itemsWithNulls nonNullItemsWithNull } }",
        None,
        True,
    ),
    (
        "async fields batched by a data loader",
        "{ items(first: 5) { later { name rank } laterBroken { name } } }",
        None,
        True,
    ),
    (
        "async non-null error",
        "{ items { number laterRequiredBroken { name } } greeting }",
        None,
        True,
    ),
    ("awaitable list items", "{ item(number: 3) { awaitableItems } }", None, True),
    (
        "fragments",
        "query Q { items { ...F ... on Item { tags } ... on Named { name } } }"
        " fragment F on Item { id children(first: 2) { ...G } } fragment G on Item { number }",
        None,
        True,
    ),
    (
        "variables",
        "query Q($n: Int!, $first: Int = 2) { item(number: $n) { children(first: $first)"
        " { number } } }",
        {"n": 4},
        True,
    ),
    ("a missing variable", "query Q($n: Int!) { item(number: $n) { id } }", {}, True),
    (
        "a variable of the wrong type",
        "query Q($n: Int!) { item(number: $n) { id } }",
        {"n": "x"},
        True,
    ),
    ("a failing non-null root", "{ failing { id } }", None, True),
    (
        "an async list with nulls",
        "{ slowItems(colour: RED) { number later { rank } } }",
        None,
        True,
    ),
    ("a null object", "{ item(number: 0) { id } }", None, True),
    ("a value of the wrong object type", "{ item(number: 1) { wrongChild { id } } }", None, True),
    ("__typename", "{ __typename items { __typename id } }", None, True),
    (
        "one fragment under two merged fields",
        "{ item(number: 1) { ...F } item(number: 1) { ...F id } }"
        " fragment F on Item { broken number }",
        None,
        True,
    ),
    (
        "string arguments",
        'query Q($shout: Boolean!) { a: greeting b: greeting(name: "plan", shout: $shout) }',
        {"shout": True},
        True,
    ),
    (
        "two operations, one named",
        "query A { greeting } query B { items { id } }",
        None,
        False,  # refused without operationName (graphql-core's error)
    ),
    # Left to graphql-core, and still answered the same:
    ("an interface", "{ anything { name ... on Item { number } } }", None, False),
    ("a field of interface type", "{ item(number: 1) { bestLeaf { name } } }", None, False),
    (
        "a directive",
        "query Q($s: Boolean!) { items { id @skip(if: $s) name } }",
        {"s": True},
        False,
    ),
    ("introspection", "{ __schema { queryType { name } } }", None, False),
    ("invalid", "{ items { nope } }", None, False),
]


@pytest.mark.parametrize(
    ("query", "variables", "compiled"),
    [pytest.param(q, v, c, id=name) for name, q, v, c in CASES],
)
def test_plans_answer_what_graphql_core_answers(
    query: str, variables: dict[str, Any] | None, compiled: bool
) -> None:
    with _coroutines_left_unawaited() as leaked:
        with_plan, without_plan = run_synthetic(query, variables)
    assert with_plan == without_plan
    assert compiles(SYNTHETIC[True], query) is compiled
    assert not [c for c in leaked if c.cr_code.co_filename == plans.__file__]


def test_a_named_operation_among_several_is_compiled() -> None:
    query = "query A { greeting } query B { items { id } }"
    assert compiles(SYNTHETIC[True], query, "B")

    async def run() -> list[Any]:
        return [
            observed(await SYNTHETIC[c].execute(query, operation_name="B")) for c in (True, False)
        ]

    with_plan, without_plan = asyncio.run(run())
    assert with_plan == without_plan
    assert with_plan["data"] == {"items": [{"id": "item-1"}, {"id": "item-2"}, {"id": "item-3"}]}


# -- generated documents -------------------------------------------------------------------

LEAF_FIELDS = ["name", "rank", "__typename"]
ITEM_SCALARS = [
    "id", "name", "number", "colour", "createdAt", "tags", "broken", "requiredBroken",
    "nullInNonNull", "badInt", "maybeBadInt", "notAList", "itemsWithNulls",
    "nonNullItemsWithNull", "awaitableItems", "__typename",
]  # fmt: skip
ITEM_OBJECTS = {
    "later": "Leaf",
    "laterBroken": "Leaf",
    "laterRequiredBroken": "Leaf",
    "children(first: 2)": "Item",
    "wrongChild": "Item",
    "bestLeaf": "Named",
}
ROOTS = {
    "items(first: 2)": "Item",
    "item(number: 3)": "Item",
    "slowItems": "Item",
    "failing": "Item",
}


@st.composite
def selection(draw: st.DrawFn, type_name: str, depth: int) -> str:
    if type_name in ("Leaf", "Named"):
        fields = draw(st.lists(st.sampled_from(["name", "__typename"]), min_size=1, max_size=3))
        if type_name == "Named" and draw(st.booleans()):
            fields.append("... on Leaf { rank }")
        return "{ " + " ".join(fields) + " }"
    choices: list[str] = list(ITEM_SCALARS)
    if depth > 0:
        choices += list(ITEM_OBJECTS)
    picked = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=5))
    parts = []
    for number, field in enumerate(picked):
        alias = f"f{number}: " if draw(st.booleans()) else ""
        text = alias + field
        if field in ITEM_OBJECTS:
            text += " " + draw(selection(ITEM_OBJECTS[field], depth - 1))
        if draw(st.integers(0, 4)) == 0:
            text = "... on Item { " + text + " }"
        parts.append(text)
    return "{ " + " ".join(parts) + " }"


@st.composite
def operation(draw: st.DrawFn) -> str:
    roots = draw(st.lists(st.sampled_from(sorted(ROOTS)), min_size=1, max_size=3, unique=True))
    fields = [f"{root} {draw(selection(ROOTS[root], 2))}" for root in roots]
    if draw(st.booleans()):
        fields.append("greeting")
    return "{ " + " ".join(fields) + " }"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=operation())
def test_generated_documents_get_the_same_answers(query: str) -> None:
    with_plan, without_plan = run_synthetic(query)
    assert with_plan == without_plan


# -- La Factoria's schema ------------------------------------------------------------------


_FIND_DOCUMENTS = """
import ast, json, pathlib, sys
found = []
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.py")):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.strip()
            if "{" in text and text.startswith(("query", "{", "fragment")):
                found.append(text)
print(json.dumps(found))
"""


def _documents_in_tests() -> list[str]:
    """Every GraphQL document written as a string in the test suite.

    Read in a fresh interpreter: in this one, after hypothesis has changed the recursion
    limit, CPython 3.11's ast.parse can fail with "AST constructor recursion depth mismatch".
    """
    found = subprocess.run(
        [sys.executable, "-c", _FIND_DOCUMENTS, str(TESTS)],
        capture_output=True,
        check=True,
        text=True,
    )
    documents: list[str] = json.loads(found.stdout)
    return documents


def _query_operations(schema: strawberry.Schema) -> list[tuple[str, str | None]]:
    found: dict[tuple[str, str | None], None] = {}
    for text in _documents_in_tests():
        try:
            document = parse(text)
        except GraphQLError:
            continue
        if validate(schema._schema, document):
            continue
        for definition in document.definitions:
            if (
                isinstance(definition, OperationDefinitionNode)
                and definition.operation is OperationType.QUERY
            ):
                name = definition.name.value if definition.name else None
                found[(text, name)] = None
    return list(found)


def _value_for(type_: Any, ids: dict[str, str]) -> Any:
    if isinstance(type_, GraphQLNonNull):
        return _value_for(type_.of_type, ids)
    if isinstance(type_, GraphQLList):
        return [_value_for(type_.of_type, ids)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: _value_for(field.type, ids)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
    assert isinstance(type_, GraphQLScalarType)
    return {
        "ID": ids["content"],
        "Int": 2,
        "Float": 1.5,
        "String": "photo",
        "Boolean": True,
    }.get(type_.name, "x")


def _variables(
    schema: strawberry.Schema, text: str, name: str | None, ids: dict[str, str]
) -> dict[str, Any]:
    from graphql.utilities import get_operation_ast, type_from_ast

    operation_node = get_operation_ast(parse(text), name)
    assert operation_node is not None
    values = {}
    for definition in operation_node.variable_definitions or ():
        if definition.default_value is None:
            type_ = type_from_ast(schema._schema, definition.type)
            values[definition.variable.name.value] = _value_for(type_, ids)
    return values


@pytest.fixture(scope="module")
def lafactoria(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("plans")
    settings = make_settings(data_dir, limits={"query_cost_budget": 1_000_000_000})

    async def prepare() -> dict[str, Any]:
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
            ) as http,
        ):
            account = await seed.register(http)
            await seed.store_contents(settings, user_id=account.user_id, count=6)
        return {"token": account.token}

    prepared = asyncio.run(prepare())
    return {"settings": settings, **prepared}


def _schemas(settings: Settings) -> dict[bool, strawberry.Schema]:
    return {
        compiled: build_schema(
            settings.model_copy(
                update={
                    "graphql": settings.graphql.model_copy(update={"compiled_queries": compiled})
                }
            )
        )
        for compiled in (True, False)
    }


def test_every_query_in_the_test_suite_gets_the_same_answer(lafactoria: dict[str, Any]) -> None:
    settings: Settings = lafactoria["settings"]
    schemas = _schemas(settings)
    operations = _query_operations(schemas[True])
    assert len(operations) >= 20, "the test suite's documents were not found"

    async def run() -> tuple[int, int]:
        compiled_count = 0
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            services = app.state.services
            first = await schemas[True].execute(
                "{ contents(first: 1) { edges { node { id } } } }",
                context_value=Context(services, lafactoria["token"]),
            )
            assert first.data is not None
            ids = {"content": first.data["contents"]["edges"][0]["node"]["id"]}
            for text, name in operations:
                variables = _variables(schemas[True], text, name, ids)
                for variant in (variables, {}):
                    answers = [
                        observed(
                            await schemas[compiled].execute(
                                text,
                                variable_values=variant,
                                operation_name=name,
                                context_value=Context(services, lafactoria["token"]),
                            )
                        )
                        for compiled in (True, False)
                    ]
                    assert answers[0] == answers[1], (text, variant)
                if compile_plan(schemas[True]._schema, parse(text), name) is not None:
                    compiled_count += 1
        return compiled_count, len(operations)

    compiled_count, total = asyncio.run(run())
    # Most of the suite's queries are plain object selections; the rest (node, bodies,
    # directives, introspection) are left to graphql-core.
    assert compiled_count >= total // 2, (compiled_count, total)


def _nested_fragments(levels: int, root: str, leaves: str, child: str) -> str:
    """A small document whose fragments each spread the one below twice: expanded in full,
    it holds 2**levels copies of the innermost fragment."""
    fragments = [f"fragment F0 on {child.split(':')[0]} {{ {leaves} }}"] + [
        f"fragment F{k} on {child.split(':')[0]} {{ ...F0 "
        f"{child.split(':')[1]} {{ ...F{k - 1} }} again: {child.split(':')[1]} {{ ...F{k - 1} }} }}"
        for k in range(1, levels + 1)
    ]
    return f"query {{ {root} {{ ...F{levels} }} }} " + " ".join(fragments)


def _allocated_while(build: Any) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        built = build()
        size, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return built, size


def test_fragments_spread_in_fragments_compile_to_a_small_plan() -> None:
    query = _nested_fragments(14, "item(number: 0)", "id name number", "Item:wrongChild")
    plan, size = _allocated_while(lambda: compile_plan(SYNTHETIC[True]._schema, parse(query), None))
    assert plan is not None
    assert size < 1_000_000, size  # expanded in full it would be 2**14 copies
    with_plan, without_plan = run_synthetic(query)
    assert with_plan == without_plan == {"data": {"item": None}, "errors": [], "extensions": {}}


def test_an_operation_too_big_to_plan_is_left_to_graphql_core() -> None:
    query = "{ " + " ".join(f"a{n}: greeting" for n in range(plans.MAX_PLAN_FIELDS + 1)) + " }"
    assert compile_plan(SYNTHETIC[True]._schema, parse(query), None) is None
    with_plan, without_plan = run_synthetic(query)
    assert with_plan == without_plan


def test_a_document_within_every_limit_cannot_make_a_big_plan() -> None:
    # Found by a review: 1 KB of nested fragments under the cost limit once compiled to a
    # 16 MB plan, held in the document cache, from anonymous requests.
    leaves = "id title topic contentType audienceLevel markdown provider model createdAt " + (
        " ".join(f"a{n}: title" for n in range(20))
    )
    query = _nested_fragments(8, 'content(id: "x")', leaves, "Content:revisionOf")
    schema = build_schema(make_settings(Path("unused")))
    document = parse(query)
    assert not validate(schema._schema, document)
    plan, size = _allocated_while(lambda: compile_plan(schema._schema, document, None))
    assert plan is not None
    assert size < 1_000_000, size
