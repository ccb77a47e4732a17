"""The committed SDL is the contract clients read: it must match the code, and keep the contract's names."""

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from app.graphql.export import COMMITTED_SDL, sdl

# The public contract, kept in the repository: the base, and each addition once an issue built it.
CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "contract.graphql"


def test_committed_schema_matches_code() -> None:
    # given the SDL printed from the schema object
    # then it equals the committed file (run scripts/export-schema after a schema change)
    assert COMMITTED_SDL.read_text() == sdl()


def _one_line_signatures(text: str) -> str:
    """The SDL without descriptions, each field's arguments on one line as `(a: X, b: Y)`."""
    text = re.sub(r'"""[\s\S]*?"""|"[^"\n]*"(?=\s*\n)', "", text)
    return re.sub(
        r"\(([^()]*)\)",
        lambda m: "(" + ", ".join(part.strip() for part in m.group(1).split("\n") if part.strip()) + ")",
        text,
    )


def test_protected_fields_show_their_directive_in_the_sdl() -> None:
    text = _one_line_signatures(sdl())
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
    """Type name -> field/argument names of every `type`, `input` and `enum` block in an SDL text (repeated
    blocks of one name add up)."""
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
        found.setdefault(name, set()).update(names)  # an addition may extend a type again (Query, Viewer)
    return found


def test_every_contract_name_is_in_the_schema() -> None:
    contract = _contract_fields(CONTRACT.read_text())
    ours = _contract_fields(sdl())
    missing = {t: sorted(names - ours.get(t, set())) for t, names in contract.items() if names - ours.get(t, set())}
    assert missing == {}


# ---- the published enums hold every value the code produces --------------------------------
# (here, because every change that lands runs this file: a new code or action fails it until
# it is added to its enum, instead of failing a request at run time)

APP = Path(__file__).resolve().parents[1] / "app"


def _calls(predicate: Callable[[ast.Call, list[ast.ClassDef]], bool]) -> Iterator[tuple[str, ast.Call]]:
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for cls_or_module in [tree, *[n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]]:
            classes = [cls_or_module] if isinstance(cls_or_module, ast.ClassDef) else []
            body = cls_or_module.body if classes else [n for n in tree.body if not isinstance(n, ast.ClassDef)]
            for statement in body:
                for node in ast.walk(statement):
                    if isinstance(node, ast.Call) and predicate(node, classes):
                        yield f"{path.relative_to(APP.parent)}:{node.lineno}", node


def _name(func: ast.expr) -> str | None:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _raises_user_error(call: ast.Call, classes: list[ast.ClassDef]) -> bool:
    if _name(call.func) == "UserInputError":
        return True
    in_error_class = any(_name(base) in ("UserInputError", "NotFound") for c in classes for base in c.bases)
    return in_error_class and _name(call.func) == "__init__"


def test_every_user_error_code_raised_is_in_the_published_enum() -> None:
    from app.services.credential_state import CredentialState
    from app.services.errors import UserErrorCode

    codes: dict[str, str] = {}
    for where, call in _calls(_raises_user_error):
        code = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "code"), None)
        assert code is not None, where
        if isinstance(code, ast.Constant):
            codes[where] = code.value
        elif isinstance(code, ast.Attribute) and _name(code.value) == "UserErrorCode":
            codes[where] = code.attr
        else:  # computed: only the credential states' names are (rotating a token that is not ACTIVE)
            assert ast.unparse(code) == "state.value", where
    unknown = {where: code for where, code in codes.items() if code not in UserErrorCode.__members__}
    assert unknown == {}
    assert {s.value for s in CredentialState} - {"ACTIVE"} <= set(UserErrorCode.__members__)
    assert len(codes) > 20  # the scan finds the raises


def test_every_audit_action_recorded_is_in_the_published_enum() -> None:
    from app.services.audit import AuditAction
    from app.services.stale_sweep import AUTO_REVOKE, FLAG

    def records(call: ast.Call, classes: list[ast.ClassDef]) -> bool:
        return _name(call.func) == "record" and len(call.args) >= 2 and isinstance(call.args[1], ast.Constant)

    actions = {where: call.args[1].value for where, call in _calls(records)}  # type: ignore[attr-defined]
    actions.update({"stale sweep flag": FLAG.action, "stale sweep revoke": AUTO_REVOKE.action})
    values = {a.value for a in AuditAction}
    assert {where: action for where, action in actions.items() if action not in values} == {}
    assert len(actions) > 20


def test_every_principal_that_can_call_is_a_published_actor_kind() -> None:
    from app.security.principal import PrincipalKind
    from app.services.actors import ActorKind

    assert {PrincipalKind.USER.value, PrincipalKind.MANAGEMENT_TOKEN.value, PrincipalKind.SYSTEM.value} <= {
        k.value for k in ActorKind
    }


def test_every_type_field_argument_and_enum_value_has_a_description() -> None:
    # GraphiQL's docs pane shows these; a new field without one fails here
    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

    from app.graphql.schema import schema

    undescribed = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        if not graphql_type.description:
            undescribed.append(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    undescribed.append(f"{name}.{field_name}")
                for arg_name, argument in getattr(field, "args", {}).items():
                    if not argument.description:
                        undescribed.append(f"{name}.{field_name}({arg_name})")
        if isinstance(graphql_type, GraphQLEnumType):
            undescribed += [f"{name}.{value}" for value, v in graphql_type.values.items() if not v.description]
    assert undescribed == []
