"""A GraphQL request's JSON (the POST body, GET's `variables` and `extensions`), read without changing a number.

orjson reads an integer past 64 bits as a float, without a word: `2**70` in an API key's `meta`, sent in
variables, was stored as 1.1805916207174113e+21, while the same number written in the document is refused
(graphql-core keeps it exact, and JSON storage cannot hold it). orjson stays the parser, and the judge of
what is JSON; a text with a run of 20 digits or more (2**64 has 20) is then read again by the standard
library, which keeps integers exact, so a field refuses such a number in variables as it refuses it in
the document.
"""

import json
import re
from typing import Any

import orjson

_MAY_PASS_64_BITS = re.compile(rb"[0-9]{20}")


def loads(data: bytes | str) -> Any:
    """The JSON value of `data`; raises `orjson.JSONDecodeError` (a `json.JSONDecodeError`) when it is not JSON."""
    value = orjson.loads(data)
    raw = data.encode() if isinstance(data, str) else data
    if _MAY_PASS_64_BITS.search(raw):
        return json.loads(raw)
    return value
