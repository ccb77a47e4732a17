"""What a document would cost to validate and to execute, measured in one linear walk before either runs.

graphql-core's rule that fields with one response name can be merged compares every pair of them,
so a small document that repeats one field a few hundred times can cost a second of CPU to validate, during
which the process answers nothing (docs/decisions/0006). The walk below bounds two things, as GitHub's
GraphQL API does with its node limit, before graphql-core looks at the document:

- **Selections**: every field a validator or executor visits, with fragments expanded where they
  are spread (a definition spread nowhere is counted once on its own: validation checks it all the
  same). A field whose response name is already selected in the same merged selection set costs one more per
  field it has to be compared with: that is the quadratic part, counted as it grows, so the total
  is an upper bound of the pairs the overlap rule compares. Fragment spreads count the same way
  (the rule compares every pair of fragments spread in one selection set). Legitimate queries
  repeat a name a few times at most; a few hundred repeats cost over a hundred thousand.
- **Nodes**: GitHub's count of the objects connections may return: a connection selected with
  `first: n` under connections asking for m and k returns up to n·m·k nodes; `first` omitted counts
  the default page size. Aliases multiply the same way, since every selection is counted. A list
  that is not a connection multiplies what lies below it by the most items it can hold
  (`LIST_BOUNDS`: a token's `projects`, up to 1,000), or, when nothing bounds it (a report's
  entries), by the whole node budget: a connection below such a list is refused.

The walk stops as soon as a budget is spent, so its own cost is bounded by the budget whatever
fragments the document nests. Anything it cannot type (an unknown field, a fragment cycle, an
unknown fragment) is left to validation, which reports it.
"""

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

from app.services.management_tokens import MAX_PROJECTS
from app.services.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

CONNECTION_SUFFIX = "Connection"
# The most items a list field (one that is not a connection) holds: what a connection below it is multiplied by.
# A list missing here has no bound: a connection below it counts the whole node budget.
LIST_BOUNDS: dict[tuple[str, str], int] = {("ManagementToken", "projects"): MAX_PROJECTS}


def _is_list(type_: GraphQLOutputType) -> bool:
    return is_list_type(get_nullable_type(type_))  # type: ignore[arg-type]


class QueryTooComplex(Exception):
    def __init__(self, measure: str, limit: int) -> None:
        super().__init__(measure, limit)
        self.measure = measure
        self.limit = limit


@dataclass
class MergedSelections:
    """One selection set with everything that lands in it merged, as execution and the overlap rule see it."""

    seen: dict[str, int] = field(default_factory=dict)
    spreads: int = 0
    children: dict[str, "MergedSelections"] = field(default_factory=dict)


@dataclass
class QueryCost:
    max_selections: int
    max_nodes: int
    selections: int = 0
    nodes: int = 0
    reads_variables: bool = False
    """A page size came from a variable: the same document may cost differently with other variables."""

    def add_selection(self, repeats: int) -> None:
        self.selections += 1 + repeats
        if self.selections > self.max_selections:
            raise QueryTooComplex("selections", self.max_selections)

    def add_nodes(self, count: int) -> None:
        self.nodes += count
        if self.nodes > self.max_nodes:
            raise QueryTooComplex("nodes", self.max_nodes)


class _Walk:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any] | None, cost: QueryCost
    ) -> None:
        self.schema = schema
        self.variables = variables or {}
        self.cost = cost
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.expanding: set[str] = set()
        self.expanded: set[str] = set()

    def page_size(self, node: FieldNode) -> int:
        """The `first` a connection asks for; anything that is not a plain integer counts as the largest page."""
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                self.cost.reads_variables = True
                raw = self.variables.get(value.name.value, DEFAULT_PAGE_SIZE)
                if raw is None:
                    return DEFAULT_PAGE_SIZE
                return raw if isinstance(raw, int) and 0 <= raw <= MAX_PAGE_SIZE else MAX_PAGE_SIZE
            if isinstance(value, IntValueNode) and len(value.value) <= 3 and 0 <= int(value.value) <= MAX_PAGE_SIZE:
                return int(value.value)
            return MAX_PAGE_SIZE
        return DEFAULT_PAGE_SIZE

    def selection_set(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        merged: MergedSelections,
        multiplier: int,
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent, merged, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                self.selection_set(selection.selection_set, inner, merged, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                self.cost.add_selection(merged.spreads)
                merged.spreads += 1
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in self.expanding:
                    continue
                self.expanding.add(name)
                self.expanded.add(name)
                try:
                    fragment_type = self.schema.get_type(fragment.type_condition.name.value)
                    self.selection_set(fragment.selection_set, fragment_type, merged, multiplier)
                finally:
                    self.expanding.discard(name)

    def field(
        self, node: FieldNode, parent: GraphQLNamedType | None, merged: MergedSelections, multiplier: int
    ) -> None:
        response_name = (node.alias or node.name).value
        repeats = merged.seen.get(response_name, 0)
        merged.seen[response_name] = repeats + 1
        self.cost.add_selection(repeats)
        if node.selection_set is None:
            return
        child_type: GraphQLNamedType | None = None
        fields = getattr(parent, "fields", None) if parent is not None else None
        definition = fields.get(node.name.value) if fields else None
        if definition is not None:
            child_type = get_named_type(definition.type)
        if isinstance(child_type, GraphQLObjectType) and child_type.name.endswith(CONNECTION_SUFFIX):
            multiplier *= self.page_size(node)
            self.cost.add_nodes(multiplier)
        elif (
            definition is not None
            and parent is not None
            and not parent.name.endswith(CONNECTION_SUFFIX)  # a connection's edges: its `first` counted them
            and _is_list(definition.type)
        ):
            multiplier *= LIST_BOUNDS.get((parent.name, node.name.value), self.cost.max_nodes)
        child = merged.children.setdefault(response_name, MergedSelections())
        self.selection_set(node.selection_set, child_type, child, multiplier)


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    *,
    max_selections: int,
    max_nodes: int,
) -> QueryCost:
    """The cost of every operation and fragment definition of the document; raises QueryTooComplex over a budget."""
    cost = QueryCost(max_selections=max_selections, max_nodes=max_nodes)
    walk = _Walk(schema, document, variables, cost)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = schema.get_root_type(definition.operation)
            walk.selection_set(definition.selection_set, root, MergedSelections(), 1)
    for name, fragment in walk.fragments.items():
        if name not in walk.expanded:  # validated on its own all the same (and refused as unused)
            walk.expanding.add(name)
            condition = schema.get_type(fragment.type_condition.name.value)
            walk.selection_set(fragment.selection_set, condition, MergedSelections(), 1)
            walk.expanding.discard(name)
    return cost
