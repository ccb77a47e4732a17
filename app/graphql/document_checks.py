"""Parsing and validation that cost at most what the settings allow, off the event loop when the document is large.

Replaces strawberry's ParserCache and ValidationCache (the same bounded LRU caches) for what they
cannot do:
- scan the document's characters before parsing it (`app.graphql.document_prescan`, linear) and
  refuse what is over the token limit or what its repeated selections alone put over the budget
  (`QUERY_TOO_COMPLEX`), so such a document costs no parse;
- measure the parsed document (`app.graphql.query_cost`, linear) and refuse it with
  `QUERY_TOO_COMPLEX` before graphql-core's rules, one of which is quadratic, ever see it;
- parse and validate a large document (over `INLINE_BYTES`) in one thread of their own rather than
  on the event loop. graphql-core's parser and validator are pure Python: a process that spends
  their CPU on the loop for several connections at once answers nothing else meanwhile, not even
  `/healthz`. In a thread, the loop gets the interpreter back every switch interval and keeps
  serving; one thread means such documents queue behind each other, not in front of everyone. The
  documents people send stay on the loop (docs/decisions/0007, 0008). `share_the_interpreter` shortens
  the switch interval from Python's 5 ms: the loop takes the interpreter back several times per
  request it answers, and waited up to an interval each time;
- pass graphql-core's `hide_suggestions`, so that with introspection off no "Did you mean …?"
  names a field, argument, type or enum value the caller did not already know.
"""

import asyncio
import sys
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, validate
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from app.graphql.document_prescan import prescan
from app.graphql.query_cost import QueryCost, QueryTooComplex, measure

CACHE_SIZE = 256
# Documents longer than this are parsed and validated in the document thread.
INLINE_BYTES = 2048

# Strawberry's own rules, which its validate_document adds to every validation.
STRAWBERRY_RULES: tuple[type[ASTValidationRule], ...] = (MaybeNullValidationRule, OneOfInputValidationRule)

MEASURES = {
    "selections": "field selections (fragments expanded; a repeated field counts once more for each repetition)",
    "nodes": "connection nodes (each connection's `first` multiplied by those of the connections and lists around it)",
}

# How long the document thread may keep the interpreter while the loop waits for it (Python's default: 5 ms).
SWITCH_INTERVAL_SECONDS = 0.001

_document_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keyward-documents")
T = TypeVar("T")


def share_the_interpreter() -> None:
    """Let the event loop take the interpreter back from the document thread within a millisecond."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)


def _parse(query: str, max_tokens: int | None) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return validate(schema, document, (*rules, *STRAWBERRY_RULES), hide_suggestions=hide_suggestions)


_cached_parse = lru_cache(maxsize=CACHE_SIZE)(_parse)
_cached_prescan = lru_cache(maxsize=CACHE_SIZE)(prescan)


@dataclass(frozen=True, slots=True)
class Checked:
    """A document's validation errors, and whether its cost depends on the variables (then it is
    measured again on every request; otherwise the first measure holds for every request)."""

    errors: list[GraphQLError]
    cost_reads_variables: bool


class CheckCache:
    """A bounded LRU of `Checked`, keyed by the query text the document was parsed from.

    graphql-core's syntax trees hash by value: a cache keyed by the document walks the whole tree
    on every look-up, and the text (whose hash Python keeps) says the same, since the document is
    `_cached_parse` of it.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.entries: OrderedDict[Hashable, Checked] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Checked | None:
        checked = self.entries.get(key)
        if checked is None:
            self.misses += 1
        else:
            self.hits += 1
            self.entries.move_to_end(key)
        return checked

    def put(self, key: Hashable, checked: Checked) -> None:
        self.entries[key] = checked
        if len(self.entries) > self.maxsize:
            self.entries.popitem(last=False)


checked_documents = CheckCache(CACHE_SIZE)


def too_complex(error: QueryTooComplex) -> GraphQLError:
    return GraphQLError(
        f"The query is too complex: it asks for more than {error.limit} {MEASURES[error.measure]}. "
        "Ask for less in one request, e.g. with smaller pages.",
        extensions={"code": "QUERY_TOO_COMPLEX", "limit": error.limit, "measure": error.measure},
    )


def too_many_tokens(limit: int) -> GraphQLError:
    """graphql-core's own refusal of a document over `max_tokens`, for one the scan refused unparsed."""
    return GraphQLError(f"Syntax Error: Document contains more than {limit} tokens. Parsing aborted.")


def refuse_an_unnamed_choice(document: DocumentNode) -> None:
    """A document of several operations needs an operationName (GraphQL's GetOperation: a request error).

    Strawberry falls back to the first operation's name when none is given and passes it on as if the
    client had chosen it, so `mutation A {…} query B {…}` ran A: the client never said which to run.
    """
    if sum(isinstance(d, OperationDefinitionNode) for d in document.definitions) > 1:
        raise GraphQLError("Must provide operation name if query contains multiple operations.")


async def _run(size: int, cached: Callable[..., T], uncached: Callable[..., T], *args: Any) -> T:
    """Small documents on the loop, through the cache; large ones in the document thread, never cached.

    A large document is most likely one of a kind (an attack names each operation anew), and cached
    syntax trees of thousands of nodes each would make every full garbage collection walk them all.
    """
    if size <= INLINE_BYTES:
        return cached(*args)
    return await asyncio.get_running_loop().run_in_executor(_document_thread, uncached, *args)


class DocumentChecks(SchemaExtension):
    """Pass as a factory (`lambda: DocumentChecks(...)`).

    It also does what strawberry's MaxTokensLimiter and AddValidationRules would (set the parse
    option `max_tokens`, add the `rules`), in its own hooks: each extension costs a request its
    construction and a wrapped hook per phase.
    """

    def __init__(
        self,
        *,
        max_tokens: int,
        rules: Sequence[type[ASTValidationRule]],
        max_selections: int,
        max_nodes: int,
        hide_suggestions: bool,
    ) -> None:
        super().__init__()
        self.max_tokens = max_tokens
        self.rules = tuple(rules)
        self.max_selections = max_selections
        self.max_nodes = max_nodes
        self.hide_suggestions = hide_suggestions
        self.parsed_from: tuple[str, int] | None = None
        """The query text and token limit of a document this extension parsed through the cache."""

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        if context.graphql_document is None and context.query:
            size = len(context.query)
            max_tokens = self.max_tokens
            scan = (_cached_prescan if size <= INLINE_BYTES else prescan)(
                context.query, max_tokens=max_tokens, max_selections=self.max_selections
            )
            if scan.tokens > max_tokens:
                raise too_many_tokens(max_tokens)
            if scan.selections > self.max_selections:
                raise too_complex(QueryTooComplex("selections", self.max_selections))
            context.graphql_document = await _run(size, _cached_parse, _parse, context.query, max_tokens)
            if size <= INLINE_BYTES:
                self.parsed_from = (context.query, max_tokens)
        if context.graphql_document is not None and context._provided_operation_name is None:
            refuse_an_unnamed_choice(context.graphql_document)
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, *self.rules)
        variables = context.variables if isinstance(context.variables, dict) else None
        schema, document, rules = context.schema._schema, context.graphql_document, context.validation_rules
        if self.parsed_from is not None and document is not None:
            context.pre_execution_errors = self._check_cached(schema, document, variables, rules)
        else:
            context.pre_execution_errors = await _run(
                len(context.query or ""), self._check, self._check, schema, document, variables, rules
            )
        yield

    def _measure(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any] | None
    ) -> QueryCost | GraphQLError:
        try:
            return measure(schema, document, variables, max_selections=self.max_selections, max_nodes=self.max_nodes)
        except QueryTooComplex as error:
            return too_complex(error)

    def _check(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        cost = self._measure(schema, document, variables)
        if isinstance(cost, GraphQLError):
            return [cost]
        return _validate(schema, document, rules, self.hide_suggestions)

    def _check_cached(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        """`_check` of a document parsed from `parsed_from`: validated once, measured once unless
        its cost reads the variables."""
        key = (self.parsed_from, schema, rules, self.max_selections, self.max_nodes, self.hide_suggestions)
        checked = checked_documents.get(key)
        if checked is None or checked.cost_reads_variables:
            cost = self._measure(schema, document, variables)
            if isinstance(cost, GraphQLError):
                return [cost]
            if checked is None:
                checked = Checked(_validate(schema, document, rules, self.hide_suggestions), cost.reads_variables)
                checked_documents.put(key, checked)
        return checked.errors
