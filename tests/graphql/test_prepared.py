"""Each distinct document is parsed, validated and compiled once per schema, and the memory
this takes is bounded."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import strawberry

from lafactoria.graphql.prepared import PreparedDocuments, PreparedOperations
from tests.graphql import plan_schema


def _schema(documents: PreparedDocuments, *, compiled: bool = True) -> strawberry.Schema:
    return strawberry.Schema(
        query=plan_schema.Query,
        types=plan_schema.SCHEMA_TYPES,
        extensions=[partial(PreparedOperations, documents=documents, compile_queries=compiled)],
    )


def _run(schema: strawberry.Schema, query: str) -> Any:
    return asyncio.run(schema.execute(query, context_value=plan_schema.context()))


def test_a_repeated_document_is_parsed_and_planned_once() -> None:
    documents = PreparedDocuments(hide_suggestions=False)
    schema = _schema(documents)
    query = "{ items { id } }"
    first = _run(schema, query)
    document = documents.document(query)
    second = _run(schema, query)
    assert first.data == second.data == {"items": [{"id": f"item-{n}"} for n in (1, 2, 3)]}
    assert documents.document(query) is document
    assert documents.plan(query, schema._schema, document, None) is not None  # type: ignore[arg-type]
    assert len(documents) == 1


def test_the_oldest_documents_are_forgotten_past_the_capacity() -> None:
    documents = PreparedDocuments(capacity=2, hide_suggestions=False)
    schema = _schema(documents)
    for query in ("{ greeting }", "{ items { id } }", "{ greeting }", "{ item(number: 1) { id } }"):
        assert not _run(schema, query).errors
    assert len(documents) == 2
    assert documents.document("{ items { id } }") is None  # least recently used
    assert documents.document("{ greeting }") is not None


def test_validation_errors_are_coded_every_time() -> None:
    schema = _schema(PreparedDocuments(hide_suggestions=True))
    for _ in range(2):
        result = _run(schema, "{ itemz { id } }")
        assert [e.extensions for e in result.errors] == [{"code": "GRAPHQL_VALIDATION_FAILED"}]
        assert "Did you mean" not in result.errors[0].message


def test_a_document_that_does_not_parse_is_not_remembered() -> None:
    documents = PreparedDocuments(hide_suggestions=False)
    result = _run(_schema(documents), "{ items { id ")
    assert result.errors
    assert len(documents) == 0


def test_with_compiling_off_no_plan_is_made() -> None:
    documents = PreparedDocuments(hide_suggestions=False)
    schema = _schema(documents, compiled=False)
    query = "{ items { id } }"
    assert _run(schema, query).data == {"items": [{"id": f"item-{n}"} for n in (1, 2, 3)]}
    document = documents.document(query)
    assert document is not None
    assert documents._entries[query].plans == {}
