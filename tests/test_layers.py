"""The layers depend one way: graphql → services → models; app never imports workers.

The test reads every module's imports (top-level and inside functions) from its source.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def _imports(path: Path) -> set[str]:
    """Every module a source file imports, as dotted names (`from a import b` counts as a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _offenders(package: str, forbidden: str) -> dict[str, list[str]]:
    offenders = {}
    for name, path in _modules(package):
        bad = sorted(i for i in _imports(path) if i == forbidden or i.startswith(forbidden + "."))
        if bad:
            offenders[name] = bad
    return offenders


def test_graphql_modules_never_import_models() -> None:
    # graphql reaches the database only through services, scoped to the caller's workspace
    assert _offenders("app/graphql", "app.models") == {}


def test_services_never_import_graphql_or_strawberry() -> None:
    assert _offenders("app/services", "app.graphql") == {}
    assert _offenders("app/services", "strawberry") == {}


def test_app_never_imports_workers() -> None:
    # workers/ depends on app; the CLI that starts both lives outside app
    assert _offenders("app", "workers") == {}


def test_workers_never_import_graphql() -> None:
    assert _offenders("workers", "app.graphql") == {}


def test_nothing_imports_the_command_line() -> None:
    # keyward/ (the CLI) starts the API and the worker: it sits above both
    assert _offenders("app", "keyward") == {}
    assert _offenders("workers", "keyward") == {}


def test_leaves_import_no_upper_layer() -> None:
    for leaf in ("app/security", "app/usage"):
        for upper in ("app.services", "app.graphql", "app.http"):
            assert _offenders(leaf, upper) == {}, (leaf, upper)


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    # given a module that imports lazily
    source = tmp_path / "lazy.py"
    source.write_text("def f():\n    from app.models import Project\n    import workers.jobs\n")
    # then both imports count
    assert {"app.models", "app.models.Project", "workers.jobs"} <= _imports(source)
