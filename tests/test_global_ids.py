"""Relay global IDs on their own (no server): base64 of "<Type>:<pk>", anything else is "not found"."""

import base64

import pytest

from app.graphql.ids import from_global_id, pk_of, require_pk, stored_ref_to_global_id, to_global_id
from app.services import global_ids
from app.services.errors import NotFound


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("type_name", ["Project", "ApiKey", "ManagementToken", "Workspace"])
@pytest.mark.parametrize("pk", [1, 42, 2**63 - 1])
def test_an_id_decodes_to_its_type_and_key(type_name: str, pk: int) -> None:
    # when
    value = to_global_id(type_name, pk)
    # then
    assert value == global_ids.global_id(type_name, pk) == _b64(f"{type_name}:{pk}")
    assert from_global_id(value) == (type_name, pk)
    assert pk_of(value, type_name) == pk


def test_an_id_of_another_type_is_not_that_types_key() -> None:
    project = to_global_id("Project", 7)
    assert pk_of(project, "ApiKey") is None
    assert pk_of(project, "project") is None  # type names are case-sensitive
    with pytest.raises(NotFound) as refused:
        require_pk(project, "ApiKey", "API key", ("input", "id"))
    assert refused.value.code == "NOT_FOUND" and refused.value.field == ("input", "id")
    assert refused.value.message == "API key not found."
    assert require_pk(project, "Project", "Project") == 7


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        _b64("Project:12").rstrip("="),  # without its padding
        _b64("Project:12") + "\n",
        _b64("Project:12").replace("=", "-"),
        _b64("Project"),  # no separator
        _b64("Project:"),
        _b64(":7"),  # no type
        _b64("Project:0"),
        _b64("Project:-7"),
        _b64("Project:7.0"),
        _b64("Project:seven"),
        _b64(f"Project:{2**63}"),  # one past the largest key
        _b64(f"Project:{10**30}"),
        base64.b64encode(b"Project:\xff7").decode(),  # not UTF-8
        "A" * 10_000,
    ],
)
def test_garbage_is_no_id_at_all(value: str) -> None:
    assert from_global_id(value) is None
    assert pk_of(value, "Project") is None
    with pytest.raises(NotFound):
        require_pk(value, "Project", "Project")


def test_stored_references_become_global_ids_and_broken_ones_none() -> None:
    assert stored_ref_to_global_id("ManagementToken:5") == to_global_id("ManagementToken", 5)
    assert global_ids.stored_ref_to_global_id("ManagementToken:5") == to_global_id("ManagementToken", 5)
    for broken in (None, "", "ManagementToken", "ManagementToken:", "ManagementToken:x", "ManagementToken:-5"):
        assert stored_ref_to_global_id(broken) is None
