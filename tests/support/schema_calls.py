"""Read the printed SDL and build a minimal valid call for any field, so tests follow the schema.

The permission matrix and the isolation tests use this instead of hand-written documents: a
field added to the schema is picked up, with its directive, its arguments and a route to it
from the root, without editing a test.
"""

import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    ast_from_value,
    build_schema,
    get_named_type,
    is_leaf_type,
    print_ast,
)

from app.graphql.schema import schema as strawberry_schema

SDL = strawberry_schema.as_str()
SCHEMA: GraphQLSchema = build_schema(SDL)
ROOTS = ("Query", "Mutation")
DIRECTIVES = {"requiresPermission": "permission", "requiresRole": "role"}
PASSWORD = "correct horse battery"
_unique = itertools.count(1)


@dataclass(frozen=True)
class Requirement:
    """What a field's directive declares: ("permission", "VIEW_PROJECTS") or ("role", "ADMIN")."""

    kind: str
    value: str


@dataclass(frozen=True)
class SchemaField:
    type_name: str
    name: str
    requirement: Requirement | None

    @property
    def label(self) -> str:
        return f"{self.type_name}.{self.name}"

    @property
    def definition(self) -> GraphQLField:
        return object_type(self.type_name).fields[self.name]


def object_type(name: str) -> GraphQLObjectType:
    named = SCHEMA.get_type(name)
    assert isinstance(named, GraphQLObjectType), name
    return named


def requirement_of(definition: GraphQLField) -> Requirement | None:
    found = []
    for directive in (definition.ast_node.directives or ()) if definition.ast_node else ():
        argument = DIRECTIVES.get(directive.name.value)
        if argument is None:
            continue
        values = {arg.name.value: arg.value.value for arg in directive.arguments}  # type: ignore[attr-defined]
        found.append(Requirement("permission" if argument == "permission" else "role", values[argument]))
    assert len(found) <= 1, f"{definition.ast_node}: one protection per field"
    return found[0] if found else None


def all_fields() -> list[SchemaField]:
    fields = []
    for type_name, named in sorted(SCHEMA.type_map.items()):
        if type_name.startswith("__") or not isinstance(named, GraphQLObjectType):
            continue
        for name, definition in named.fields.items():
            fields.append(SchemaField(type_name, name, requirement_of(definition)))
    return fields


def protected_fields() -> list[SchemaField]:
    return [f for f in all_fields() if f.requirement is not None]


def node_types() -> list[str]:
    node = SCHEMA.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    return sorted(t.name for t in SCHEMA.get_implementations(node).objects)


# ---- routes from the root to a nested field --------------------------------------------------


@dataclass(frozen=True)
class Step:
    field: SchemaField
    is_list: bool


def _is_list(definition: GraphQLField) -> bool:
    kind = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
    return isinstance(kind, GraphQLList)


def _required_args(definition: GraphQLField) -> bool:
    return any(isinstance(arg.type, GraphQLNonNull) and arg.default_value is None for arg in definition.args.values())


def route_to(target: SchemaField) -> list[Step]:
    """Shortest chain of Query fields (plain object fields, no required arguments) ending at `target`."""
    if target.type_name in ROOTS:
        return [Step(target, _is_list(target.definition))]
    queue: deque[tuple[str, list[Step]]] = deque([("Query", [])])
    seen = {"Query"}
    while queue:
        type_name, steps = queue.popleft()
        for name, definition in object_type(type_name).fields.items():
            named = get_named_type(definition.type)
            if not isinstance(named, GraphQLObjectType) or _required_args(definition):
                continue
            step = Step(SchemaField(type_name, name, requirement_of(definition)), _is_list(definition))
            if named.name == target.type_name:
                return [*steps, step, Step(target, _is_list(target.definition))]
            if named.name not in seen:
                seen.add(named.name)
                queue.append((named.name, [*steps, step]))
    raise AssertionError(f"{target.label} cannot be reached from Query: teach tests/support/schema_calls.py a route")


def response_path(steps: list[Step], upto: int) -> list[str | int]:
    """The path of steps[upto] in the response; list positions are the first item (0)."""
    path: list[str | int] = []
    for index, step in enumerate(steps[: upto + 1]):
        path.append(step.field.name)
        if step.is_list and index < upto:
            path.append(0)
    return path


# ---- selections and argument values ----------------------------------------------------------


def leaf_selection(type_: Any) -> str:
    """`__typename`, the unprotected leaves, and `userErrors { ... }` of a payload."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    parts = ["__typename"]
    if isinstance(named, GraphQLObjectType):
        for name, definition in named.fields.items():
            inner = get_named_type(definition.type)
            if requirement_of(definition) or _required_args(definition):
                continue
            if is_leaf_type(inner):
                parts.append(name)
            elif name == "userErrors":
                parts.append("userErrors { field message code }")
    return "{ " + " ".join(parts) + " }"


IdSource = Callable[[str], Awaitable[str]]


# Fields whose name does not say which node type their plain `id` takes (the contract names them so).
ID_TYPE_OF_FIELD = {"sendTestWebhook": "WebhookEndpoint", "redeliverWebhook": "WebhookDelivery"}


def id_type_for(argument: str, owner: SchemaField) -> str:
    """`projectId` names its type; a plain `id` takes the node type the field is named after."""
    if argument == "id" and owner.name in ID_TYPE_OF_FIELD:
        return ID_TYPE_OF_FIELD[owner.name]
    names = node_types()
    singular = argument[:-1] if argument.endswith("Ids") else argument  # projectIds: a list of Project IDs
    if singular.endswith("Id") and singular[:-2]:
        wanted = singular[:-2].lower()
        for type_name in names:
            if type_name.lower() == wanted:
                return type_name
    matches = [t for t in names if t.lower() in owner.name.lower()]
    assert matches, f"cannot tell which node type the ID argument {argument!r} of {owner.label} takes"
    return max(matches, key=len)


@dataclass
class ValueMaker:
    """Makes a valid value for an input type. IDs come from `ids` (a real object of the right type)."""

    owner: SchemaField
    ids: IdSource
    used_ids: dict[str, str] = field(default_factory=dict)

    async def make(self, type_: GraphQLInputType, name: str) -> Any:
        if isinstance(type_, GraphQLNonNull):
            return await self.make(type_.of_type, name)
        if isinstance(type_, GraphQLList):
            return [await self.make(type_.of_type, name)]
        if isinstance(type_, GraphQLInputObjectType):
            return {key: await self.make(f.type, key) for key, f in type_.fields.items()}
        if isinstance(type_, GraphQLEnumType):
            # The last value: by the schema's convention the least powerful (MEMBER), harmless to grant.
            return list(type_.values)[-1]
        assert isinstance(type_, GraphQLScalarType), type_
        if type_.name == "ID":
            type_name = id_type_for(name, self.owner)
            value = await self.ids(type_name)
            self.used_ids[name] = value
            return value
        if type_.name == "String":
            if "email" in name.lower():
                return f"generated{next(_unique)}@example.com"
            if "password" in name.lower():
                return PASSWORD
            if name.lower().endswith("url"):
                return f"https://hooks.invalid/generated-{next(_unique)}"  # .invalid never resolves
            if name.lower().endswith("ips"):
                return "198.51.100.0/24"  # an allowlist entry (TEST-NET-2)
            return f"generated-{name}-{next(_unique)}"
        if type_.name == "Int":
            return 90
        if type_.name == "Boolean":
            return True
        if type_.name == "Float":
            return 1.0
        if type_.name == "DateTime":
            return (datetime.now(UTC) + timedelta(days=7)).isoformat()  # an expiry any policy allows
        if type_.name == "JSON":  # an object, given as a literal (ast_from_value makes no object of a scalar)
            return JsonObjectLiteral(f"{{generated: {next(_unique)}}}")
        raise AssertionError(f"no value for scalar {type_.name} ({self.owner.label}.{name})")


class JsonObjectLiteral(str):
    """The GraphQL literal of a JSON object, printed as it is."""


def _literal(value: Any, type_: GraphQLInputType) -> str:
    """`print_ast(ast_from_value(...))`, except for JSON objects, which it cannot express."""
    if isinstance(type_, GraphQLNonNull):
        return _literal(value, type_.of_type)
    if isinstance(value, JsonObjectLiteral):
        return str(value)
    if isinstance(type_, GraphQLInputObjectType):
        return "{" + ", ".join(f"{key}: {_literal(v, type_.fields[key].type)}" for key, v in value.items()) + "}"
    if isinstance(type_, GraphQLList):
        return "[" + ", ".join(_literal(v, type_.of_type) for v in value) + "]"
    literal = ast_from_value(value, type_)
    assert literal is not None
    return print_ast(literal)


def takes_id(type_: Any) -> bool:
    """Whether an argument or input field of this type carries an ID somewhere inside."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        return any(takes_id(f.type) for f in named.fields.values())
    return named.name == "ID"


async def arguments(definition: GraphQLField, maker: ValueMaker, *, optional_ids: bool = False) -> str:
    """Literal arguments: required ones always, optional ones only when they carry an ID and asked."""
    parts = []
    for name, arg in definition.args.items():
        if not isinstance(arg.type, GraphQLNonNull) and not (optional_ids and takes_id(arg.type)):
            continue
        value = await maker.make(arg.type, name)
        parts.append(f"{name}: {_literal(value, arg.type)}")
    return f"({', '.join(parts)})" if parts else ""


@dataclass
class Call:
    document: str
    steps: list[Step]
    used_ids: dict[str, str]


async def build_call(target: SchemaField, ids: IdSource, *, optional_ids: bool = False) -> Call:
    steps = route_to(target)
    maker = ValueMaker(target, ids)
    selection = leaf_selection(target.definition.type)
    args = await arguments(target.definition, maker, optional_ids=optional_ids)
    body = f"{target.name}{args} {selection}".strip()
    for step in reversed(steps[:-1]):
        body = f"{step.field.name} {{ {body} }}"
    operation = "mutation" if steps[0].field.type_name == "Mutation" else "query"
    return Call(f"{operation} {{ {body} }}", steps, maker.used_ids)


def deep_selection(type_: Any, depth: int) -> str:
    """Every field without required arguments, `depth` levels down (for "nothing leaks" checks)."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if not isinstance(named, GraphQLObjectType):
        return "{ __typename }"
    parts = ["__typename"]
    for name, definition in named.fields.items():
        if _required_args(definition):
            continue
        inner = get_named_type(definition.type)
        if is_leaf_type(inner):
            parts.append(name)
        elif depth > 1:
            parts.append(f"{name} {deep_selection(definition.type, depth - 1)}")
    return "{ " + " ".join(parts) + " }"
