"""A document's validation and execution cost is bounded before either runs (`app/graphql/query_cost.py`).

The issue's document, `query Q<random> { viewer{kind} viewer{kind} … }` with 490 repetitions, is
inside the token limit but took graphql-core's overlapping-fields rule a second of CPU; these tests
send it, its fragment variants and nested connections, and check that what people really send
(every query of the console, GraphiQL's introspection query) stays under the defaults.
"""

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from graphql import get_introspection_query, parse

from app.graphql.query_cost import measure
from app.graphql.schema import build_schema
from app.settings import Settings
from tests.support.api import Account, Api
from tests.support.hostile_documents import repeated_viewer_document
from tests.support.running_app import running_api
from tests.test_hostile_queries import _clean_errors, _send

pytestmark = pytest.mark.asyncio(loop_scope="module")

DEFAULTS = Settings()
CONSOLE_QUERIES = Path(__file__).resolve().parent.parent / "app" / "console" / "js" / "queries.js"
# What GraphiQL asks for when it loads (graphql-js's getIntrospectionQuery with every option it can pass).
GRAPHIQL_INTROSPECTION = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
)


def console_documents() -> dict[str, str]:
    """Every document of the console's queries.js, with its `${CONSTANT}` parts filled in."""
    source = CONSOLE_QUERIES.read_text()
    constants: dict[str, str] = {}
    documents: dict[str, str] = {}
    for exported, name, _quote, body in re.findall(r'(export )?const (\w+) = ([`"])(.*?)\3;', source, re.S):
        text = re.sub(r"\$\{(\w+)\}", lambda match: constants[match.group(1)], body)
        constants[name] = text
        if exported:
            documents[name] = text
    return documents


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def setup(database_url: str) -> AsyncIterator[tuple[Api, Account]]:
    async with running_api(database_url) as api:
        yield api, await api.sign_up()


def _too_complex(response: Any, measure_name: str) -> None:
    errors = _clean_errors(response)
    assert response.json()["data"] is None
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", errors
    assert errors[0]["extensions"]["measure"] == measure_name, errors


async def test_the_issues_document_is_refused_before_validation(setup: tuple[Api, Account]) -> None:
    api, owner = setup
    document = repeated_viewer_document()
    tokens = len(re.findall(r"[{}]|\w+", document))
    assert tokens < DEFAULTS.max_query_tokens and len(document) > 6000  # inside every other limit
    # when
    response = await _send(api, json={"query": document}, headers={"Authorization": f"Bearer {owner.session}"})
    # then
    _too_complex(response, "selections")
    assert "too complex" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "document",
    [
        # Many fragments spread side by side: the overlap rule compares every pair of them.
        "{ "
        + " ".join(f"...F{i}" for i in range(120))
        + " } "
        + " ".join(f"fragment F{i} on Query {{ a{i}: __typename }}" for i in range(120)),
        # One field repeated through fragments.
        "{ viewer { "
        + " ".join(f"...V{i}" for i in range(60))
        + " } } "
        + " ".join(f"fragment V{i} on Viewer {{ kind }}" for i in range(60)),
        # Fragments that double at every level: 2^30 fields once expanded, a few hundred tokens.
        "{ ...F0 } "
        + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
        + " fragment F30 on Query { __typename }",
        # The repetition inside a fragment nobody spreads is validated all the same.
        "{ __typename } fragment Unused on Query { " + " ".join(["viewer{kind}"] * 100) + " }",
        # Many operations in one document, each validated.
        " ".join(f"query A{i} {{ viewer {{ kind }} }}" for i in range(200)),
    ],
    ids=["fragment-pairs", "fragment-repeats", "doubling-fragments", "unused-fragment", "many-operations"],
)
async def test_fragment_and_operation_variants_are_refused(setup: tuple[Api, Account], document: str) -> None:
    api, owner = setup
    # when
    response = await _send(api, json={"query": document}, headers={"Authorization": f"Bearer {owner.session}"})
    # then
    _too_complex(response, "selections")


NESTED_KEYS = """query($first: Int) { projects(first: $first) { edges { node {
  apiKeys(first: 100) { edges { node { id name } } } } } } }"""


async def test_connection_nodes_are_counted_as_github_counts_them(setup: tuple[Api, Account]) -> None:
    api, owner = setup
    headers = {"Authorization": f"Bearer {owner.session}"}
    # when: 100 projects of 100 keys each (10,100 nodes), then 50 of 100
    over = await _send(api, json={"query": NESTED_KEYS, "variables": {"first": 100}}, headers=headers)
    under = await _send(api, json={"query": NESTED_KEYS, "variables": {"first": 50}}, headers=headers)
    aliased = await _send(
        api,
        json={"query": "{ " + " ".join(f"p{i}: projects(first: 100) {{ totalCount }}" for i in range(25)) + " }"},
        headers=headers,
    )
    # then
    _too_complex(over, "nodes")
    assert over.json()["errors"][0]["extensions"]["limit"] == DEFAULTS.max_query_nodes
    assert under.status_code == 200 and "errors" not in under.json(), under.text
    assert aliased.status_code == 200 and "errors" not in aliased.json(), aliased.text


TOKEN_PROJECT_KEYS = """{ managementTokens(first: 10) { edges { node {
  projects { apiKeys(first: 100) { edges { node { id } } } } } } } }"""
REPORT_KEYS = """{ staleTokenReports(first: 1) { edges { node { expiringApiKeys { apiKey { project {
  apiKeys(first: 10) { edges { node { id } } } } } } } } } }"""


async def test_a_connection_below_a_list_counts_every_item_the_list_may_hold(setup: tuple[Api, Account]) -> None:
    api, owner = setup
    headers = {"Authorization": f"Bearer {owner.session}"}
    # when: 10 tokens, each limited to as many as 1,000 projects of 100 keys (up to 1,000,000 nodes), and a
    # connection below a report's list of expiring keys, which nothing bounds
    bounded, unbounded = [
        await _send(api, json={"query": query}, headers=headers) for query in (TOKEN_PROJECT_KEYS, REPORT_KEYS)
    ]
    # and the console's list: the tokens' projects with no connection below them
    listed = await _send(
        api,
        json={"query": "{ managementTokens(first: 100) { edges { node { projects { id name } } } } }"},
        headers=headers,
    )
    # then
    _too_complex(bounded, "nodes")
    _too_complex(unbounded, "nodes")
    assert listed.status_code == 200 and "errors" not in listed.json(), listed.text


async def test_a_checked_document_is_measured_again_when_its_cost_reads_the_variables(
    setup: tuple[Api, Account],
) -> None:
    api, owner = setup
    headers = {"Authorization": f"Bearer {owner.session}"}
    # when: one document, checked (and cached) under the limit, then sent over it, then under again
    answers = [
        await _send(api, json={"query": NESTED_KEYS, "variables": {"first": first}}, headers=headers)
        for first in (50, 100, 50)
    ]
    # then: the variables decide every time, not the first check
    under, over, under_again = answers
    assert under.status_code == 200 and "errors" not in under.json(), under.text
    _too_complex(over, "nodes")
    assert under_again.status_code == 200 and "errors" not in under_again.json(), under_again.text


async def test_the_checks_of_one_document_are_never_served_for_another(setup: tuple[Api, Account]) -> None:
    api, owner = setup
    headers = {"Authorization": f"Bearer {owner.session}"}
    valid = "{ projects(first: 1) { edges { node { id } } } }"
    invalid = "{ projects(first: 1) { edges { node { idd } } } }"
    # when: each twice, in turn, so both are cached
    answers = [await _send(api, json={"query": query}, headers=headers) for query in (valid, invalid, valid, invalid)]
    # then
    for answer in answers[0::2]:
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    for answer in answers[1::2]:
        assert "Cannot query field 'idd'" in answer.json()["errors"][0]["message"], answer.text


async def test_every_console_query_and_graphiqls_introspection_stay_well_under_the_bounds() -> None:
    schema = build_schema(DEFAULTS)._schema
    documents = {**console_documents(), "GraphiQL introspection": GRAPHIQL_INTROSPECTION}
    assert len(documents) > 25  # the parser above found the console's documents
    for name, document in documents.items():
        # when: the largest page the console asks for
        cost = measure(
            schema,
            parse(document),
            {"first": 100},
            max_selections=DEFAULTS.max_query_selections,
            max_nodes=DEFAULTS.max_query_nodes,
        )
        # then: room to grow
        assert cost.selections <= DEFAULTS.max_query_selections * 0.8, (name, cost)
        assert cost.nodes <= DEFAULTS.max_query_nodes / 10, (name, cost)


async def test_graphiqls_introspection_query_runs(setup: tuple[Api, Account]) -> None:
    api, _ = setup
    # when
    response = await _send(api, json={"query": GRAPHIQL_INTROSPECTION, "operationName": "IntrospectionQuery"})
    # then
    assert response.status_code == 200 and "errors" not in response.json(), response.text[:500]
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
