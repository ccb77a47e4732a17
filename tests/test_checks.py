"""The checks people run before a push are the ones CI runs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_scripts_check_and_it_lints_formats_and_type_checks() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    check = (ROOT / "scripts" / "check").read_text()
    assert "scripts/check" in ci
    assert 'ruff check "${paths[@]}"' in check
    assert 'ruff format --check "${paths[@]}"' in check
    assert ".venv/bin/mypy" in check


def test_pre_commit_runs_the_same_script() -> None:
    assert "entry: scripts/check" in (ROOT / ".pre-commit-config.yaml").read_text()


def test_the_type_checker_is_configured_for_every_package() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '[tool.mypy]\npython_version = "3.11"\nfiles = ["app", "workers", "keyward"]' in pyproject
