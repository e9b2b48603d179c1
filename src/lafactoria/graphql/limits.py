"""Static limits and the cost of an operation, checked after validation and before anything
executes (so a refused operation runs no resolver and no SQL), and reported on every result.

Each refusal is ``QUERY_TOO_COMPLEX`` with a ``reason`` (``DEPTH``, ``ALIASES``,
``ROOT_FIELDS``, ``COST``; ``TOKENS`` comes from the parser, see ``graphql.errors``), the
``limit`` and the ``value`` found. A ``first`` outside 1..max_page_size is ``BAD_USER_INPUT``.

Cost, like Shopify's and GitHub's, is computed from the document alone:

    scalar or enum field                     0
    object field                             1 + its selections
    connection (a field taking ``first``)    2 + its selections, lists inside counted ``first``
                                             times (a plain list counts as one item)
    mutation root field                      10 + its selections
    generateContent, regenerateContent       50 + its selections; bulkGenerateContent 50 a topic
    subscription root field                  10 + its selections

An operation costing more than ``max_query_cost`` is refused. Otherwise the cost is taken from
the caller's budget (``ratelimit``), which refills over time; an empty budget is
``RATE_LIMITED`` with ``retryAfter``. Every result carries
``extensions.cost = {requestedQueryCost, actualQueryCost, throttleStatus: {maximumAvailable,
currentlyAvailable, restoreRate}}``: the requested cost is what was charged, the actual cost
counts what the result really holds (connections by the items returned).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from graphql.execution.values import get_argument_values, get_variable_values
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)
from lafactoria.errors import LaFactoriaError, Unavailable
from lafactoria.generation.service import MAX_BATCH_SIZE
from lafactoria.graphql.context import Context
from lafactoria.graphql.errors import coded_error, to_graphql_error
from lafactoria.ratelimit import Budget, RateLimited
from lafactoria.settings import GraphQLSettings

CONNECTION_COST = 2
MUTATION_COST = 10
SUBSCRIPTION_COST = 10
GENERATION_COST = 50
_GENERATION_FIELDS = {"generateContent", "bulkGenerateContent", "regenerateContent"}
# Introspection's ``ofType`` chains only unwrap list and non-null wrappers, so they cannot fan
# out; not counting them keeps GraphiQL's own introspection query within the depth limit.
_UNWRAPPING_FIELD = "ofType"


@dataclass
class _Walk:
    """What one operation's static walk found."""

    cost: int = 0
    bad_page_size: GraphQLError | None = None


class QueryLimits(SchemaExtension):
    def __init__(self, *, settings: GraphQLSettings, hide_suggestions: bool = False) -> None:
        self.settings = settings
        self.hide_suggestions = hide_suggestions
        self._analysis: _Analyzer | None = None
        self._requested: int | None = None
        self._budget: Budget | None = None

    def on_operation(self) -> Iterator[None]:
        # graphql-core stops parsing at this many tokens (reason TOKENS, see graphql.errors).
        self.execution_context.parse_options["max_tokens"] = self.settings.max_tokens
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        # Strawberry stops after this hook when errors are set by then: limits and costs are
        # checked here, on documents PreparedOperations has validated, before execution.
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            context.pre_execution_errors = await self._admit(context.schema._schema, document)
        yield

    def get_results(self) -> dict[str, Any]:
        # On every result, also for refused operations (0 when it was never costed).
        budget = self._budget
        return {
            "cost": {
                "requestedQueryCost": self._requested or 0,
                "actualQueryCost": self._actual_cost(),
                "throttleStatus": {
                    "maximumAvailable": budget.maximum,
                    "currentlyAvailable": budget.available,
                    "restoreRate": budget.restore_rate,
                }
                if budget
                else None,
            }
        }

    async def _admit(self, schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
        """The errors that refuse the operation (none: it was charged and runs)."""
        if self._is_ambiguous(document):
            return [
                coded_error(
                    "the document has several operations: name the one to run in operationName",
                    "BAD_REQUEST",
                )
            ]
        operation = get_operation_ast(document, self.execution_context.operation_name)
        if operation is None:
            return []  # Strawberry reports the missing operation
        analyzer = _Analyzer(schema, document, operation, self.execution_context.variables)
        if analyzer.variable_errors:
            # Refused before it runs, so it is not charged (graphql.errors codes them
            # BAD_USER_INPUT); the cost asked for is still reported.
            self._requested = analyzer.static_cost(self.settings.max_page_size).cost
            return analyzer.variable_errors
        refusal = await self._limit(analyzer, document)
        return [refusal] if refusal else []

    def _is_ambiguous(self, document: DocumentNode) -> bool:
        # Strawberry runs the first operation when none is named; GraphQL-over-HTTP asks for a
        # request error. The provided name is only kept on a private attribute.
        provided = getattr(self.execution_context, "_provided_operation_name", None)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        return provided is None and len(operations) > 1

    async def _limit(self, analyzer: _Analyzer, document: DocumentNode) -> GraphQLError | None:
        # Costed first, so that every refusal can still report what was asked for; the walk
        # is linear in the document, whatever it holds.
        walk = analyzer.static_cost(self.settings.max_page_size)
        self._requested = walk.cost
        limits = self.settings
        aliases = _count_aliases(document)
        if aliases > limits.max_aliases:
            return _too_complex(
                f"the document uses {aliases} aliases; the limit is {limits.max_aliases}",
                "ALIASES",
                limits.max_aliases,
                aliases,
            )
        root_fields = analyzer.root_field_count()
        if root_fields > limits.max_root_fields:
            return _too_complex(
                f"the operation selects {root_fields} root fields; the limit is "
                f"{limits.max_root_fields}",
                "ROOT_FIELDS",
                limits.max_root_fields,
                root_fields,
            )
        depth = analyzer.depth()
        if depth > limits.max_depth:
            return _too_complex(
                f"the operation is nested {depth} levels deep; the limit is {limits.max_depth}",
                "DEPTH",
                limits.max_depth,
                depth,
            )
        if walk.bad_page_size is not None:
            return walk.bad_page_size
        if walk.cost > limits.max_query_cost:
            return _too_complex(
                f"the operation costs {walk.cost} points; the limit is {limits.max_query_cost} "
                "a request (see extensions.cost)",
                "COST",
                limits.max_query_cost,
                walk.cost,
            )
        refusal = await self._charge(walk.cost)
        if refusal is None:
            self._analysis = analyzer  # it runs: its actual cost is worth reporting
        return refusal

    async def _charge(self, cost: int) -> GraphQLError | None:
        """Take the cost from the caller's budget. Anonymous callers have none: all they can
        reach is ``register`` and ``login``, which have their own limits."""
        context = self.execution_context.context
        if not isinstance(context, Context) or context.credential is None:
            return None
        limits = context.services.limits
        # An exception escaping an extension hook would reach the client unmasked, so every
        # one is turned into a coded (or masked) error here.
        try:
            principal = await context.authenticate()
            if principal is None:
                return None
            try:
                self._budget = await limits.spend(user_id=principal.user.id, cost=cost)
            except RateLimited as error:
                self._budget = await limits.budget(user_id=principal.user.id)
                return to_graphql_error(error)
        except Unavailable as error:
            # The budget's storage is down: refusing is the only way to keep the limit.
            return to_graphql_error(error)
        except LaFactoriaError:
            return None  # a bad credential: the resolvers answer UNAUTHENTICATED
        except Exception as error:
            return to_graphql_error(error)
        return None

    def _actual_cost(self) -> int:
        if self._analysis is None:
            return 0
        if self._analysis.operation.operation is OperationType.SUBSCRIPTION:
            return self._requested or 0
        result = self.execution_context.result
        data = getattr(result, "data", None)
        return self._analysis.actual_cost(data) if isinstance(data, dict) else 0


def _too_complex(message: str, reason: str, limit: int, value: int) -> GraphQLError:
    return coded_error(
        message, "QUERY_TOO_COMPLEX", extensions={"reason": reason, "limit": limit, "value": value}
    )


class _Analyzer:
    """Walks one operation of a valid document with the schema's types."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        raw_variables: dict[str, Any] | None,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        root = schema.get_root_type(operation.operation)
        assert root is not None  # validation refuses operations the schema lacks
        self.root: GraphQLObjectType = root
        coerced = get_variable_values(
            schema, operation.variable_definitions or (), raw_variables or {}
        )
        # Variables that do not coerce refuse the operation before it is charged.
        self.variable_errors: list[GraphQLError] = coerced if isinstance(coerced, list) else []
        self.variables = None if isinstance(coerced, list) else coerced
        self._max_page_size = 0
        self._walk = _Walk()
        self._depth_memo: dict[tuple[str, bool], int] = {}
        self._cost_memo: dict[tuple[str, str, int | None, int], int] = {}

    # -- shape ----------------------------------------------------------------------------

    # Fragments are walked once each and remembered: a document spreading fragments into
    # fragments must not make the walk itself exponential (validation has refused cycles).

    def root_field_count(self) -> int:
        return self._count_fields(self.operation.selection_set, set())

    def _count_fields(self, selection_set: SelectionSetNode, seen: set[str]) -> int:
        count = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                count += 1
            elif isinstance(selection, InlineFragmentNode):
                count += self._count_fields(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    count += self._count_fields(fragment.selection_set, seen)
        return count

    def depth(self) -> int:
        return self._depth(self.operation.selection_set, introspecting=False)

    def _depth(self, selection_set: SelectionSetNode, *, introspecting: bool) -> int:
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.selection_set is None:
                    continue
                name = selection.name.value
                inner = introspecting or name.startswith("__")
                own = 0 if inner and name == _UNWRAPPING_FIELD else 1
                depth = own + self._depth(selection.selection_set, introspecting=inner)
            elif isinstance(selection, InlineFragmentNode):
                depth = self._depth(selection.selection_set, introspecting=introspecting)
            elif isinstance(selection, FragmentSpreadNode):
                key = (selection.name.value, introspecting)
                if key not in self._depth_memo:
                    fragment = self.fragments.get(selection.name.value)
                    self._depth_memo[key] = (
                        self._depth(fragment.selection_set, introspecting=introspecting)
                        if fragment
                        else 0
                    )
                depth = self._depth_memo[key]
            else:
                continue
            deepest = max(deepest, depth)
        return deepest

    # -- cost -----------------------------------------------------------------------------

    def static_cost(self, max_page_size: int) -> _Walk:
        self._max_page_size = max_page_size
        self._walk = _Walk()
        self._walk.cost = self._selections(self.operation.selection_set, self.root, _STATIC, None)
        return self._walk

    def actual_cost(self, data: dict[str, Any]) -> int:
        self._cost_memo.clear()  # keyed by object identity: valid for one walk only
        return self._selections(self.operation.selection_set, self.root, data, None)

    def _selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        data: Any,
        page_size: int | None,
    ) -> int:
        """The cost of a selection set on ``parent``: statically (``data`` is ``_STATIC``) or
        of the response ``data`` it produced. ``page_size`` is set inside a connection."""
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, data, page_size)
            elif isinstance(selection, InlineFragmentNode):
                condition = self._condition(selection.type_condition, parent)
                total += self._selections(selection.selection_set, condition, data, page_size)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._spread(selection, parent, data, page_size)
        return total

    def _spread(
        self, spread: FragmentSpreadNode, parent: GraphQLNamedType, data: Any, page_size: int | None
    ) -> int:
        fragment = self.fragments.get(spread.name.value)
        if fragment is None:
            return 0
        condition = self._condition(fragment.type_condition, parent)
        # The same fragment on the same object costs the same wherever it is spread.
        key = (spread.name.value, condition.name, page_size, id(data))
        if key not in self._cost_memo:
            self._cost_memo[key] = self._selections(
                fragment.selection_set, condition, data, page_size
            )
        return self._cost_memo[key]

    def _field(
        self, node: FieldNode, parent: GraphQLNamedType, data: Any, page_size: int | None
    ) -> int:
        if node.selection_set is None:
            return 0  # a leaf costs nothing, and most fields are leaves
        definition = self._definition(parent, node.name.value)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        first = self._page_size(definition, node)
        own = self._own_cost(parent, node, definition, first)
        is_list = is_list_type(get_nullable_type(definition.type))
        if data is _STATIC:
            cost = own + self._selections(node.selection_set, named, _STATIC, first)
            return cost * page_size if is_list and page_size is not None else cost
        key = node.alias.value if node.alias else node.name.value
        value = data.get(key) if isinstance(data, dict) else None
        if value is None:
            return 0
        if not isinstance(value, list):
            return own + self._selections(node.selection_set, named, value, first)
        items = [
            own + self._selections(node.selection_set, named, item, first)
            for item in value
            if item is not None
        ]
        # A connection's list counts every item it returned; any other list counts as one
        # item, as in the static cost, so the actual cost never exceeds the requested one.
        return sum(items) if page_size is not None else max(items, default=0)

    def _own_cost(
        self, parent: GraphQLNamedType, node: FieldNode, definition: GraphQLField, first: int | None
    ) -> int:
        if parent is self.root and self.operation.operation is OperationType.MUTATION:
            name = node.name.value
            if name not in _GENERATION_FIELDS:
                return MUTATION_COST
            jobs = self._topic_count(definition, node) if name == "bulkGenerateContent" else 1
            return GENERATION_COST * jobs
        if parent is self.root and self.operation.operation is OperationType.SUBSCRIPTION:
            return SUBSCRIPTION_COST
        return CONNECTION_COST if first is not None else 1

    def _page_size(self, definition: GraphQLField, node: FieldNode) -> int | None:
        """``first`` of a connection (``None`` for other fields), within the page limit."""
        if "first" not in definition.args:
            return None
        first = self._arguments(definition, node).get("first")
        limit = self._max_page_size
        if not isinstance(first, int):
            return limit
        if not 1 <= first <= limit and self._walk.bad_page_size is None:
            self._walk.bad_page_size = coded_error(
                f"first must be between 1 and {limit}",
                "BAD_USER_INPUT",
                extensions={"field": "first"},
            )
        return max(0, min(first, limit))

    def _topic_count(self, definition: GraphQLField, node: FieldNode) -> int:
        value = self._arguments(definition, node).get("input")
        topics = value.get("topics") if isinstance(value, dict) else getattr(value, "topics", None)
        return len(topics) if isinstance(topics, list) and topics else MAX_BATCH_SIZE

    def _arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(definition, node, self.variables)
        except GraphQLError:
            return {}  # execution reports it

    def _definition(self, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
        if parent is self.schema.query_type and name == "__schema":
            return SchemaMetaFieldDef
        if parent is self.schema.query_type and name == "__type":
            return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field: GraphQLField | None = parent.fields.get(name)
            return field
        return None

    def _condition(
        self, condition: NamedTypeNode | None, parent: GraphQLNamedType
    ) -> GraphQLNamedType:
        if condition is None:
            return parent
        return self.schema.get_type(condition.name.value) or parent


_STATIC = object()


def _count_aliases(document: DocumentNode) -> int:
    """Aliases anywhere in the document, whichever operation runs."""

    def count(selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode) and selection.alias is not None:
                total += 1
            total += count(getattr(selection, "selection_set", None))
        return total

    return sum(
        count(getattr(definition, "selection_set", None)) for definition in document.definitions
    )
