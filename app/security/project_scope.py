"""A management token's project scope as its `project_ids` column stores it: a JSON list of ids.

NULL is every project of the workspace; `[]` is no project at all (what a scope becomes when its
last project is deleted: it never widens to every project).
"""

import orjson


def decode_scope(stored: str | None) -> frozenset[int] | None:
    return None if stored is None else frozenset(int(pk) for pk in orjson.loads(stored))


def encode_scope(project_ids: frozenset[int] | None) -> str | None:
    return None if project_ids is None else orjson.dumps(sorted(project_ids)).decode()
