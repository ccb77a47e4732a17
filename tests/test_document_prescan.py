"""The scan before parsing (`app.graphql.document_prescan`) may only refuse what parsing or the measure would.

It counts at most what graphql-core's parser counts against `max_tokens`, and at most what
`app.graphql.query_cost.measure` counts as selections: checked here on schema-valid documents
hypothesis-graphql writes, and on hand-written ones with every construct the scan has to read
(aliases, directives, arguments with braces and strings in them, inline fragments, spreads,
comments, block strings). Then the documents it exists for are refused without a parse.
"""

import pytest
from graphql import GraphQLError, parse
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import queries

from app.graphql.document_prescan import prescan
from app.graphql.query_cost import measure
from app.graphql.schema import schema as keyward_schema
from tests.support.hostile_documents import long_argument_document, repeated_viewer_document
from tests.support.schema_calls import SDL

UNBOUNDED = 10**9
GRAPHQL_SCHEMA = keyward_schema._schema

HAND_WRITTEN = [
    "{ viewer { kind } }",
    'query Q($first: Int = 5, $ids: [ID!]! = ["a", "b"]) @skip(if: false) {'
    " a: viewer @include(if: true) { kind ... on Viewer { kind } ...V } viewer { kind } }"
    " fragment V on Viewer { kind # a comment with { braces } and ( parens\n }",
    '{ projects(first: 3, after: """a block "string" with \\""" and { ( braces""") { edges { node { id name } } } }',
    '{ projects(after: "a \\" string with } and )") { pageInfo { hasNextPage } edges { cursor } } }',
    "{ viewer { kind } viewer { kind } viewer { kind } v: viewer { kind } }",
    "{ ... on Query { viewer { kind } } ... @include(if: true) { viewer { kind } } ... { viewer { kind } } }",
    "query A { ...Q ...Q } query B { viewer { kind } } fragment Q on Query { viewer { kind } viewer { kind } }",
    "fragment Loop on Query { ...Loop viewer { kind } } { ...Loop }",
    "{\ufeff viewer,,,{ kind },, }",
]


def parser_tokens(document: str) -> int:
    """The fewest `max_tokens` graphql-core's parser accepts the document with (it counts comments too)."""
    low, high = 1, 10 * len(document) + 10
    while low < high:
        middle = (low + high) // 2
        try:
            parse(document, max_tokens=middle)
        except GraphQLError:
            low = middle + 1
        else:
            high = middle
    return low


def assert_a_lower_bound(document: str) -> None:
    scan = prescan(document, max_tokens=UNBOUNDED, max_selections=UNBOUNDED)
    cost = measure(GRAPHQL_SCHEMA, parse(document), None, max_selections=UNBOUNDED, max_nodes=UNBOUNDED)
    assert scan.tokens <= parser_tokens(document), document
    assert scan.selections <= cost.selections, (document, scan, cost.selections)


@pytest.mark.parametrize("document", HAND_WRITTEN)
def test_the_scan_counts_no_more_than_the_parser_and_the_measure(document: str) -> None:
    assert_a_lower_bound(document)


@pytest.mark.parametrize("document", HAND_WRITTEN)
def test_the_token_count_is_the_parsers(document: str) -> None:
    count = prescan(document, max_tokens=UNBOUNDED, max_selections=UNBOUNDED).tokens
    parse(document, max_tokens=count)  # within the parser's limit at exactly this count
    with pytest.raises(GraphQLError, match="more than"):
        parse(document, max_tokens=count - 1)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(document=queries(SDL))
def test_schema_valid_documents_are_never_counted_over(document: str) -> None:
    assert_a_lower_bound(document)


def test_repeated_fields_are_refused_by_the_scan_alone() -> None:
    scan = prescan(repeated_viewer_document(), max_tokens=2000, max_selections=300)
    assert scan.selections > 300
    assert scan.tokens <= 2000  # inside the token limit: the selections alone refuse it


def test_a_document_over_the_token_limit_is_refused_by_the_scan_alone() -> None:
    document = long_argument_document(2100)
    assert prescan(document, max_tokens=2000, max_selections=300).tokens > 2000
    assert prescan(long_argument_document(), max_tokens=2000, max_selections=300).tokens <= 2000


def test_the_token_limit_is_judged_before_the_selections_as_the_parser_comes_first() -> None:
    document = "{ " + " ".join(["__typename"] * 2001) + " }"
    scan = prescan(document, max_tokens=2000, max_selections=300)
    assert scan.tokens > 2000
