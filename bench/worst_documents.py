"""`python -m bench.worst_documents`: the CPU of the costliest documents still under the query-cost bounds.

For each shape that makes graphql-core work hard (repeated fields, fragments compared pairwise,
many operations, many aliases), the largest document the default bounds let through is parsed,
measured and validated as the API does (its rules, uncached), and its CPU time printed beside the
same work for an ordinary console query (the baseline, measured in the same run) and for the repeated-field
document (490 repeated fields), which is refused after parsing and measuring.
"""

import statistics
import time
from collections.abc import Callable

from graphql import parse, validate
from graphql.validation import specified_rules

from app.graphql.query_cost import QueryTooComplex, measure
from app.graphql.schema import build_schema, validation_guards
from app.settings import Settings

SETTINGS = Settings()
SCHEMA = build_schema(SETTINGS)._schema
RULES = (*specified_rules, *validation_guards(SETTINGS))
BASELINE = """query ApiKeys($projectId: ID, $first: Int, $after: String) {
  apiKeys(projectId: $projectId, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name keyPrefix createdAt lastUsedAt createdBy { kind label } } }
  }
}"""


def _braced(body: str) -> str:
    return "{ " + body + " }"


def _spreads(k: int) -> str:
    return " ".join(f"...F{i}" for i in range(k))


SHAPES: dict[str, Callable[[int], str]] = {
    "repeated viewer{kind}": lambda k: _braced(" ".join(["viewer{kind}"] * k)),
    "repeated __typename": lambda k: _braced(" ".join(["__typename"] * k)),
    "repeated viewer{workspace{name}}": lambda k: _braced(" ".join(["viewer{workspace{name}}"] * k)),
    "fragments spread side by side": lambda k: (
        _braced(_spreads(k)) + " ".join(f" fragment F{i} on Query {{ a{i}: __typename }}" for i in range(k))
    ),
    "repeated field through fragments": lambda k: (
        _braced(f"viewer {{ {_spreads(k)} }}") + " ".join(f" fragment F{i} on Viewer {{ kind }}" for i in range(k))
    ),
    "distinct aliases": lambda k: _braced(" ".join(f"a{i}: viewer{{kind}}" for i in range(k))),
    "many operations": lambda k: " ".join(f"query A{i} {{ viewer {{ kind }} }}" for i in range(k)),
}


def cpu_ms(document: str, repeat: int = 7) -> float:
    """Median CPU time of what the API does with a new document: parse, measure, validate (if under the bounds)."""
    samples = []
    for _ in range(repeat):
        started = time.process_time()
        ast = parse(document, max_tokens=SETTINGS.max_query_tokens)
        try:
            measure(SCHEMA, ast, None, max_selections=SETTINGS.max_query_selections, max_nodes=SETTINGS.max_query_nodes)
        except QueryTooComplex:
            pass
        else:
            validate(SCHEMA, ast, RULES)
        samples.append((time.process_time() - started) * 1000)
    return statistics.median(samples)


def under_bound(document: str) -> bool:
    try:
        measure(SCHEMA, parse(document), None, max_selections=SETTINGS.max_query_selections, max_nodes=10**9)
    except QueryTooComplex:
        return False
    return True


def main() -> None:
    baseline = cpu_ms(BASELINE)
    print(f"max_query_selections={SETTINGS.max_query_selections}; baseline (console ApiKeys query): {baseline:.2f} ms")
    issue = cpu_ms("query Q " + _braced(" ".join(["viewer{kind}"] * 490)))
    print(f"{'repeated-field document (490 repetitions, refused)':45s} {issue:8.2f} ms  {issue / baseline:6.1f}x")
    for name, make in SHAPES.items():
        k = 1
        while under_bound(make(k + 1)) and len(make(k + 1).split()) < SETTINGS.max_query_tokens:
            k += 1
        cost = cpu_ms(make(k))
        print(f"{name + f' (k={k})':45s} {cost:8.2f} ms  {cost / baseline:6.1f}x")


if __name__ == "__main__":
    main()
