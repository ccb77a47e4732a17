"""The committed SDL is the contract clients read: it must match the code, and keep the contract's names."""

import re
from pathlib import Path

from app.graphql.export import COMMITTED_SDL, sdl

# The public contract, kept in the repository: the base, and each addition once an issue built it.
CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "contract.graphql"


def test_committed_schema_matches_code() -> None:
    # given the SDL printed from the schema object
    # then it equals the committed file (run scripts/export-schema after a schema change)
    assert COMMITTED_SDL.read_text() == sdl()


def test_protected_fields_show_their_directive_in_the_sdl() -> None:
    text = sdl()
    assert (
        "projects(first: Int = null, after: String = null): ProjectConnection! @requiresPermission(permission: VIEW_PROJECTS)"
        in text
    )
    assert re.search(
        r"apiKeys\(first: Int = null, after: String = null\): ApiKeyConnection! @requiresPermission\(permission: VIEW_API_KEYS\)",
        text,
    )
    assert re.search(
        r"createManagementToken\(input: CreateManagementTokenInput!\): CreateManagementTokenPayload! @requiresRole\(role: ADMIN\)",
        text,
    )


def _contract_fields(text: str) -> dict[str, set[str]]:
    """Type name -> field/argument names of every `type`, `input` and `enum` block in an SDL text."""
    text = re.sub(r'"""[\s\S]*?"""', "", text)
    text = re.sub(r"#[^\n]*", "", text)
    found: dict[str, set[str]] = {}
    for _kind, name, body in re.findall(r"\b(type|input|enum|interface)\s+(\w+)[^{]*\{([^}]*)\}", text):
        names = set()
        for line in body.splitlines():
            line = line.strip()
            for part in re.split(r",\s*(?![^()]*\))", line):
                match = re.match(r"(\w+)", part.strip())
                if match:
                    names.add(match.group(1))
        found[name] = names
    return found


def test_every_contract_name_is_in_the_schema() -> None:
    contract = _contract_fields(CONTRACT.read_text())
    ours = _contract_fields(sdl())
    missing = {t: sorted(names - ours.get(t, set())) for t, names in contract.items() if names - ours.get(t, set())}
    assert missing == {}
