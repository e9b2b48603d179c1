"""Compiled query plans: an operation turned, once, into closures that do only the work its
selections need, then run for every request that sends the same document.

graphql-core's executor re-derives everything per request and per field: it collects the
selection set of every object again (fragments, directives, merging), looks each field up
in the schema, builds a resolve info for every field (scalars included) and dispatches on
the return type's kind at each value. A plan does all of that at compile time; a request
only calls resolvers, coerces leaves and builds the result dicts.

Results and errors are the executor's: the same values, the same error messages, paths and
locations, the same null propagation (``tests/graphql/test_plans.py`` runs every operation
both ways and compares). Anything a plan does not cover — mutations, subscriptions,
directives, introspection, abstract (interface and union) types — is not compiled:
``compile_plan`` answers ``None`` and graphql-core runs the operation as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, TypeGuard, cast

from graphql.execution.collect_fields import does_fragment_condition_match
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path, Undefined, inspect, is_iterable
from graphql.type.definition import GraphQLResolveInfo, GraphQLResolveInfoHelpers
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    located_error,
)

_Info = GraphQLResolveInfo[Any]
Completer = Callable[["_Run", Any, Path, _Info | None], Any]
"""Completes one resolved value (value, path, the field's info or ``None``)."""

_PASS_THROUGH_STRINGS = (GraphQLString, GraphQLID)


class NotCompiled(Exception):
    """The operation uses something plans do not cover; graphql-core runs it."""


@dataclass(frozen=True, slots=True)
class _Field:
    response_key: str
    nodes: list[FieldNode]
    definition: GraphQLField
    parent_type: GraphQLObjectType
    resolve: Callable[..., Any]
    needs_info: bool
    """False for a Strawberry field read straight off its object (its resolver ignores the
    info) whose value needs no ``is_type_of`` check: most fields, and no info is built."""
    has_arguments: bool
    complete: Completer
    read: Callable[[Any], Any] | None
    """For a basic field whose value is a leaf (or a list of leaves): the attribute read
    its resolver would do, called directly — no info, no path unless it fails."""

    @property
    def name(self) -> str:
        return self.nodes[0].name.value


@dataclass(frozen=True, slots=True)
class _Typename:
    """``__typename`` on an object type: a constant."""

    response_key: str
    value: str


_Selection = _Field | _Typename


@dataclass(frozen=True, slots=True)
class Plan:
    """One query operation of one document, compiled for one schema."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    root_type: GraphQLObjectType
    root_fields: tuple[_Selection, ...]

    async def execute(
        self, *, context: Any, root_value: Any, variables: dict[str, Any] | None
    ) -> ExecutionResult:
        coerced = get_variable_values(
            self.schema, self.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            return ExecutionResult(data=None, errors=coerced)
        run = _Run(self, context, root_value, coerced)
        try:
            data = run.object_fields(self.root_fields, root_value, None)
            if optimized_is_awaitable(data):
                data = await data
        except GraphQLError as error:
            # The whole result is null: errors of fields still running are dropped.
            run.nulled.add(())
            run.errors.append(error)
            data = None
        finally:
            if run.background:
                await asyncio.gather(*run.background, return_exceptions=True)
        return ExecutionResult(data=data, errors=run.errors or None)


class _Run:
    """The state of one execution of a plan."""

    __slots__ = ("background", "context", "errors", "nulled", "plan", "root_value", "variables")

    def __init__(self, plan: Plan, context: Any, root_value: Any, variables: Any) -> None:
        self.plan = plan
        self.context = context
        self.root_value = root_value
        self.variables = variables
        self.errors: list[GraphQLError] = []
        self.nulled: set[tuple[str | int, ...]] = set()
        self.background: list[asyncio.Future[Any]] = []

    def info(self, field: _Field, path: Path) -> _Info:
        plan = self.plan
        return GraphQLResolveInfo(
            field.name,
            field.nodes,
            field.definition.type,
            field.parent_type,
            path,
            plan.schema,
            plan.fragments,
            self.root_value,
            plan.operation,
            # What Strawberry's execution context hands resolvers: the plain coerced dict.
            self.variables.coerced,
            self.context,
            cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", optimized_is_awaitable),
            None,
            _HELPERS,
        )

    def object_fields(
        self, selections: tuple[_Selection, ...], source: Any, path: Path | None
    ) -> Any:
        """The result dict of one object, or an awaitable of it when a field is async."""
        result: dict[str, Any] = {}
        pending: list[tuple[str, Awaitable[Any]]] | None = None
        try:
            for selection in selections:
                if type(selection) is _Typename:
                    result[selection.response_key] = selection.value
                    continue
                value = self.field(selection, source, path)  # type: ignore[arg-type]
                if optimized_is_awaitable(value):
                    if pending is None:
                        pending = []
                    pending.append((selection.response_key, value))
                result[selection.response_key] = value
        except BaseException:
            # A non-null field failed, so this object is null; its siblings still running
            # are settled before the result leaves (as graphql-core does), their errors
            # dropped below the nulled position.
            self.track(awaitable for _, awaitable in pending or ())
            raise
        if pending is None:
            return result
        return self._settle(result, pending)

    async def _settle(
        self, result: dict[str, Any], pending: list[tuple[str, Awaitable[Any]]]
    ) -> dict[str, Any]:
        values = await _gather([awaitable for _, awaitable in pending])
        for (key, _), value in zip(pending, values, strict=True):
            result[key] = value
        return result

    def field(self, field: _Field, source: Any, parent: Path | None) -> Any:
        if field.read is not None:
            try:
                return field.complete(self, field.read(source), None, None)  # type: ignore[arg-type]
            except Exception as error:
                path = Path(parent, field.response_key, field.parent_type.name)
                return self.field_error(error, field, field.definition.type, path)
        path = Path(parent, field.response_key, field.parent_type.name)
        try:
            info = self.info(field, path) if field.needs_info else None
            if field.has_arguments:
                arguments = get_argument_values(field.definition, field.nodes[0], self.variables)
                value = field.resolve(source, info, **arguments)
            else:
                value = field.resolve(source, info)
            if optimized_is_awaitable(value):
                return self._resolved_later(field, value, path, info)
            completed = field.complete(self, value, path, info)
            if optimized_is_awaitable(completed):
                return self._completed_later(field, completed, path)
        except Exception as error:
            return self.field_error(error, field, field.definition.type, path)
        return completed

    async def _resolved_later(
        self, field: _Field, value: Awaitable[Any], path: Path, info: _Info | None
    ) -> Any:
        try:
            completed = field.complete(self, await value, path, info)
            if optimized_is_awaitable(completed):
                completed = await completed
        except Exception as error:
            return self.field_error(error, field, field.definition.type, path)
        return completed

    async def _completed_later(self, field: _Field, completed: Awaitable[Any], path: Path) -> Any:
        try:
            return await completed
        except Exception as error:
            return self.field_error(error, field, field.definition.type, path)

    def field_error(
        self, error: Exception, field: _Field, return_type: GraphQLOutputType, path: Path
    ) -> None:
        located = located_error(error, field.nodes, path.as_list())
        # A non-null position cannot hold the null: the error travels to the nearest
        # nullable parent, which records it.
        if is_non_null_type(return_type):
            raise located
        self.record(located, path)

    def track(self, awaitables: Iterable[Awaitable[Any]]) -> None:
        self.background.extend(asyncio.ensure_future(awaitable) for awaitable in awaitables)

    def record(self, error: GraphQLError, path: Path) -> None:
        """Keep a field error whose position became null. Like graphql-core, drop one raised
        below a position already nulled (a sibling still running when its parent failed)."""
        position = tuple(path.as_list())
        nulled = self.nulled
        if any(position[:end] in nulled for end in range(len(position) + 1)):
            return
        nulled.add(position)
        self.errors.append(error)


async def _gather(awaitables: list[Awaitable[Any]]) -> list[Any]:
    """Await siblings together (so data loaders batch them); when one fails, cancel the
    rest before the error moves on, as graphql-core does."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _gather_helper(awaitables: Any) -> list[Any]:
    return await _gather(list(awaitables))


def _track(_values: Any) -> None:
    """Resolvers here never hand work to the executor to track."""


_HELPERS = GraphQLResolveInfoHelpers(_gather_helper, _track)


def compile_plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> Plan | None:
    """The plan of the operation to run, or ``None`` when graphql-core should run it.

    ``document`` must already be valid against ``schema``.
    """
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) != 1:
            return None
        operation = operations[0]
    else:
        named = [o for o in operations if o.name and o.name.value == operation_name]
        if len(named) != 1:
            return None
        operation = named[0]
    if operation.operation is not OperationType.QUERY or operation.directives:
        return None
    root_type = schema.query_type
    if root_type is None:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    compiler = _Compiler(schema, fragments)
    try:
        root_fields = compiler.selections(root_type, [operation.selection_set])
    except NotCompiled:
        return None
    return Plan(schema, operation, fragments, root_type, root_fields)


MAX_PLAN_FIELDS = 2000
"""Most fields one plan may hold; a bigger operation is left to graphql-core. Fragments are
compiled once per place they expand to, so ordinary operations stay far below this, but it
bounds the memory and time of any plan whatever the document does."""


class _Compiler:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]):
        self.schema = schema
        self.fragments = fragments
        self.fields = 0
        # A fragment spread in many places expands to the same field nodes each time: their
        # sub-plans are shared, so a document nesting fragments in fragments compiles in
        # linear, not exponential, time and memory.
        self._compiled: dict[tuple[str, tuple[int, ...]], tuple[_Selection, ...]] = {}

    def selections(
        self, parent: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> tuple[_Selection, ...]:
        sets = tuple(selection_sets)
        key = (parent.name, tuple(id(selection_set) for selection_set in sets))
        compiled = self._compiled.get(key)
        if compiled is None:
            grouped: dict[str, list[FieldNode]] = {}
            # One set of visited fragments for all the field's nodes, as graphql-core's
            # collect_subfields has: a fragment spread under two of them counts once.
            visited: set[str] = set()
            for selection_set in sets:
                self._collect(parent, selection_set, grouped, visited)
            self.fields += len(grouped)
            if self.fields > MAX_PLAN_FIELDS:
                raise NotCompiled
            compiled = tuple(self._selection(parent, k, nodes) for k, nodes in grouped.items())
            self._compiled[key] = compiled
        return compiled

    def _collect(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for node in selection_set.selections:
            if node.directives:
                raise NotCompiled  # @skip/@include decide per request
            if isinstance(node, FieldNode):
                key = node.alias.value if node.alias else node.name.value
                grouped.setdefault(key, []).append(node)
            elif isinstance(node, InlineFragmentNode):
                if does_fragment_condition_match(self.schema, node, parent):
                    self._collect(parent, node.selection_set, grouped, visited)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = self.fragments.get(name)
                if fragment is None or fragment.directives or fragment.variable_definitions:
                    raise NotCompiled
                if does_fragment_condition_match(self.schema, fragment, parent):
                    self._collect(parent, fragment.selection_set, grouped, visited)

    def _selection(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> _Selection:
        name = nodes[0].name.value
        if name == "__typename":
            return _Typename(key, parent.name)
        if name.startswith("__"):
            raise NotCompiled  # introspection
        definition = parent.fields.get(name)
        if definition is None or definition.resolve is None:
            raise NotCompiled
        basic = getattr(definition.resolve, "_is_default", False) is True
        return _Field(
            read=_attribute_reader(definition) if basic and _is_leafy(definition.type) else None,
            response_key=key,
            nodes=nodes,
            definition=definition,
            parent_type=parent,
            resolve=definition.resolve,
            needs_info=not basic or _checks_type(definition.type),
            has_arguments=bool(definition.args or nodes[0].arguments),
            complete=self._completer(definition.type, parent, name, nodes),
        )

    def _completer(
        self,
        return_type: GraphQLOutputType,
        parent: GraphQLObjectType,
        field_name: str,
        nodes: list[FieldNode],
    ) -> Completer:
        if is_non_null_type(return_type):
            return _non_null(
                self._completer(return_type.of_type, parent, field_name, nodes),
                f"Cannot return null for non-nullable field {parent}.{field_name}.",
            )
        if is_list_type(return_type):
            return self._list(return_type, parent, field_name, nodes)
        if is_leaf_type(return_type):
            return _leaf(return_type)
        if is_object_type(return_type):
            fields = self.selections(
                return_type, [node.selection_set for node in nodes if node.selection_set]
            )
            return _object(return_type, fields, nodes)
        raise NotCompiled  # interfaces and unions resolve their type per value

    def _list(
        self,
        list_type: GraphQLList[GraphQLOutputType],
        parent: GraphQLObjectType,
        field_name: str,
        nodes: list[FieldNode],
    ) -> Completer:
        item_type = list_type.of_type
        complete_item = self._completer(item_type, parent, field_name, nodes)
        not_iterable = f"Expected Iterable, but did not find one for field '{parent}.{field_name}'."

        def complete(run: _Run, value: Any, path: Path, info: _Info | None) -> Any:
            if value is None or value is Undefined:
                return None
            if not is_iterable(value):
                raise GraphQLError(not_iterable)
            items: list[Any] = []
            pending: list[int] | None = None
            try:
                for index, item in enumerate(value):
                    item_path = Path(path, index, None)
                    try:
                        if optimized_is_awaitable(item):
                            completed = _complete_later(complete_item, run, item, item_path, info)
                        else:
                            completed = complete_item(run, item, item_path, info)
                    except Exception as error:
                        completed = _item_error(run, error, nodes, item_type, item_path)
                    else:
                        if optimized_is_awaitable(completed):
                            completed = _item_later(run, completed, nodes, item_type, item_path)
                            if pending is None:
                                pending = []
                            pending.append(index)
                    items.append(completed)
            except BaseException:
                # A non-null item failed: the list is null; items still running are settled.
                run.track(items[index] for index in pending or ())
                raise
            if pending is None:
                return items
            return _settle_list(items, pending)

        return complete


def _attribute_reader(definition: GraphQLField) -> Callable[[Any], Any] | None:
    """What a basic Strawberry field's resolver returns, without the calls around it: its
    default resolver (``getattr`` unless configured otherwise) on its Python name."""
    strawberry_field = (definition.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(strawberry_field, StrawberryField) or not strawberry_field.is_basic_field:
        return None
    if strawberry_field.default_resolver is not getattr:
        return None
    return attrgetter(strawberry_field.python_name)


def _is_leafy(return_type: GraphQLOutputType) -> bool:
    """A leaf, or lists of leaves: completing it needs neither an info nor a path."""
    while is_non_null_type(return_type) or is_list_type(return_type):
        if is_list_type(return_type):
            return False  # list items get paths of their own
        return_type = return_type.of_type
    return is_leaf_type(return_type)


def _checks_type(return_type: GraphQLOutputType) -> bool:
    """Whether completing a value of this type calls an ``is_type_of``, which gets the
    field's info."""
    while is_non_null_type(return_type) or is_list_type(return_type):
        return_type = return_type.of_type
    return is_object_type(return_type) and return_type.is_type_of is not None


def _item_error(
    run: _Run, error: Exception, nodes: list[FieldNode], item_type: GraphQLOutputType, path: Path
) -> Any:
    located = located_error(error, nodes, path.as_list())
    if is_non_null_type(item_type):
        raise located
    run.record(located, path)
    return None


async def _item_later(
    run: _Run,
    completed: Awaitable[Any],
    nodes: list[FieldNode],
    item_type: GraphQLOutputType,
    path: Path,
) -> Any:
    try:
        return await completed
    except Exception as error:
        return _item_error(run, error, nodes, item_type, path)


async def _complete_later(
    complete: Completer,
    run: _Run,
    value: Awaitable[Any],
    path: Path,
    info: _Info | None,
) -> Any:
    completed = complete(run, await value, path, info)
    if optimized_is_awaitable(completed):
        completed = await completed
    return completed


async def _settle_list(items: list[Any], pending: list[int]) -> list[Any]:
    values = await _gather([items[index] for index in pending])
    for index, value in zip(pending, values, strict=True):
        items[index] = value
    return items


def _non_null(inner: Completer, message: str) -> Completer:
    def complete(run: _Run, value: Any, path: Path, info: _Info | None) -> Any:
        if isinstance(value, Exception):
            raise value
        completed = inner(run, value, path, info)
        if optimized_is_awaitable(completed):
            return _non_null_later(completed, message)
        if completed is None:
            raise TypeError(message)
        return completed

    return complete


async def _non_null_later(completed: Awaitable[Any], message: str) -> Any:
    value = await completed
    if value is None:
        raise TypeError(message)
    return value


def _leaf(leaf_type: Any) -> Completer:
    coerce = leaf_type.coerce_output_value
    passes_strings = leaf_type in _PASS_THROUGH_STRINGS

    def complete(run: _Run, value: Any, path: Path, info: _Info | None) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        if passes_strings and type(value) is str:
            return value  # what String's and ID's coercion returns for a str
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(leaf_type)}.coerce_output_value({inspect(value)})` to "
                f"return non-nullable value, returned: {inspect(coerced)}"
            )
        return coerced

    return complete


def _object(
    object_type: GraphQLObjectType, fields: tuple[_Selection, ...], nodes: list[FieldNode]
) -> Completer:
    is_type_of = object_type.is_type_of

    def complete(run: _Run, value: Any, path: Path, info: _Info | None) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        if is_type_of is not None:
            matches = is_type_of(value, info)  # type: ignore[arg-type]
            if optimized_is_awaitable(matches):
                return _object_later(run, cast("Awaitable[bool]", matches), value, path)
            if not matches:
                raise wrong_type(value)
        return run.object_fields(fields, value, path)

    def wrong_type(value: Any) -> GraphQLError:
        return GraphQLError(
            f"Expected value of type '{object_type.name}' but got: {inspect(value)}.", nodes
        )

    async def _object_later(run: _Run, matches: Awaitable[bool], value: Any, path: Path) -> Any:
        if not await matches:
            raise wrong_type(value)
        completed = run.object_fields(fields, value, path)
        if optimized_is_awaitable(completed):
            completed = await completed
        return completed

    return complete


__all__ = ["Plan", "compile_plan"]
