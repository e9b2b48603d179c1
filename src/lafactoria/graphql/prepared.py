"""Prepared operations: each distinct document is parsed, validated and compiled once.

Clients send the same few documents over and over (an app has a fixed set of queries), so the
work that depends on the document alone is done on its first request and remembered, by its
text, for the requests after it: the parsed document, its validation errors and, for query
operations, the compiled plan (:mod:`lafactoria.graphql.plans`). Variables, authentication,
limits and costs are still checked on every request.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from graphql import DocumentNode, GraphQLError, GraphQLSchema, validate
from lafactoria.graphql.plans import Plan, compile_plan

DEFAULT_CAPACITY = 512
"""Documents remembered per schema. Documents are capped in tokens (``max_tokens``), so this
bounds the memory; a client sending endless distinct documents only evicts the oldest."""


@dataclass
class _Prepared:
    document: DocumentNode
    validation_errors: list[GraphQLError] | None = None
    plans: dict[str | None, Plan | None] = field(default_factory=dict)


class PreparedDocuments:
    """The documents one schema has seen, least recently used first out."""

    def __init__(self, *, capacity: int = DEFAULT_CAPACITY, hide_suggestions: bool) -> None:
        self.capacity = capacity
        self.hide_suggestions = hide_suggestions
        self._entries: OrderedDict[str, _Prepared] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def document(self, query: str) -> DocumentNode | None:
        entry = self._entries.get(query)
        if entry is None:
            return None
        self._entries.move_to_end(query)
        return entry.document

    def remember(self, query: str, document: DocumentNode) -> None:
        self._entries[query] = _Prepared(document)
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def validation_errors(
        self,
        query: str | None,
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        """The document's validation errors, coded; computed once per remembered document
        (the rules are the schema's, the same for every request)."""
        entry = self._entries.get(query) if query is not None else None
        if entry is not None and entry.document is document:
            if entry.validation_errors is None:
                entry.validation_errors = self._validate(schema, document, rules)
            errors = entry.validation_errors
        else:
            errors = self._validate(schema, document, rules)
        return [_validation_failed(error) for error in errors]

    def _validate(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        return validate(
            schema,
            document,
            (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
            hide_suggestions=self.hide_suggestions,
        )

    def plan(
        self, query: str, schema: GraphQLSchema, document: DocumentNode, operation: str | None
    ) -> Plan | None:
        """The compiled plan of a valid document's operation (``None``: not compilable)."""
        entry = self._entries.get(query)
        if entry is None or entry.document is not document:
            return None
        if operation not in entry.plans:
            entry.plans[operation] = compile_plan(schema, document, operation)
        return entry.plans[operation]


def _validation_failed(error: GraphQLError) -> GraphQLError:
    # Coded here: some validation messages ("Variable '$f' is never used") read like the
    # variable-value errors that are BAD_USER_INPUT.
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"},
    )


class PreparedOperations(SchemaExtension):
    """Parses, validates and (for queries) executes through :class:`PreparedDocuments`.

    It must come before ``QueryLimits``, which admits only operations validated here.
    """

    def __init__(self, *, documents: PreparedDocuments, compile_queries: bool = True) -> None:
        self.documents = documents
        self.compile_queries = compile_queries

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        remembered = self.documents.document(query) if query else None
        if remembered is not None:
            # Strawberry parses only when no document is set yet.
            context.graphql_document = remembered
        yield
        if remembered is None and query and context.graphql_document is not None:
            self.documents.remember(query, context.graphql_document)

    def on_validate(self) -> Iterator[None]:
        # Strawberry validates only when no extension has (pre_execution_errors is None);
        # validating here lets production leave out "Did you mean …?" at the source.
        context = self.execution_context
        document = context.graphql_document
        if (
            document is not None
            and context.pre_execution_errors is None
            and context.validation_rules
        ):
            context.pre_execution_errors = self.documents.validation_errors(
                context.query, context.schema._schema, document, tuple(context.validation_rules)
            )
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if self.compile_queries and context.query and document is not None and not context.result:
            plan = self.documents.plan(
                context.query, context.schema._schema, document, context.operation_name
            )
            if plan is not None:
                # Strawberry runs graphql-core only when no extension has set a result.
                context.result = await plan.execute(
                    context=context.context,
                    root_value=context.root_value,
                    variables=context.variables,
                )
        yield
