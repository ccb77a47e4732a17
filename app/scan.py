"""`keyward scan PATH…`: find checksum-valid Keyward secrets in files and folders (what a pre-commit hook runs).

Prints `file:line: <kind> <display prefix>…` for each one (never the whole value) and exits 1 when it
found any, 0 when none, 2 when a path does not exist. `--report URL` sends what it found to a
Keyward server's `POST /v1/leaks`, which revokes (or flags) the live ones.
"""

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.security import tokens

# The token format: kind, "_", 30 random and 6 checksum base62 characters; the checksum decides.
CANDIDATE = re.compile(rb"(?<![0-9A-Za-z_])(kw[mskh]_[0-9A-Za-z]{36})(?![0-9A-Za-z_])")
SKIPPED_FOLDERS = frozenset({".git", ".hg", ".svn"})
REPORT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: tokens.TokenKind
    value: str

    @property
    def prefix(self) -> str:
        return tokens.ParsedToken(self.kind, self.value).display_prefix

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind.label} {self.prefix}…"


def files_under(paths: list[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for folder, subfolders, files in os.walk(path):
                subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS)
                for file in sorted(files):
                    candidate = Path(folder) / file
                    if candidate.is_file() and not candidate.is_symlink():
                        yield candidate
        elif path.is_file():
            yield path


def scan_file(path: Path) -> Iterator[Finding]:
    """Line by line, in bytes: binary files and any encoding are scanned too."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if b"kw" not in line:
                continue
            for match in CANDIDATE.finditer(line):
                value = match.group(1).decode("ascii")
                try:
                    parsed = tokens.parse(value)
                except tokens.MalformedToken:
                    continue  # the right shape by chance: the checksum says it is not ours
                yield Finding(str(path), number, parsed.kind, value)


def scan(paths: list[str]) -> tuple[list[Finding], list[str]]:
    """(findings, problems): unreadable files are problems, not reasons to stop."""
    findings: list[Finding] = []
    problems: list[str] = []
    for path in files_under(paths):
        try:
            findings.extend(scan_file(path))
        except OSError as exc:
            problems.append(f"{path}: cannot read ({exc.strerror or exc})")
    return findings, problems


def report(url: str, findings: list[Finding]) -> list[dict[str, str]]:
    """POST the distinct values to `url` (a Keyward server's /v1/leaks); GitHub's verdict format back."""
    import httpx

    seen: dict[str, Finding] = {}
    for finding in findings:
        seen.setdefault(finding.value, finding)
    entries = [
        {
            "token": f.value,
            "type": f"keyward_{f.kind.name.lower()}",
            "url": f"{Path(f.path).resolve().as_uri()}#L{f.line}",
            "source": "keyward-scan",
        }
        for f in seen.values()
    ]
    response = httpx.post(url, json=entries, timeout=REPORT_TIMEOUT_SECONDS, follow_redirects=False)
    response.raise_for_status()
    verdicts = response.json()
    return verdicts if isinstance(verdicts, list) else []


def run(paths: list[str], report_url: str | None) -> int:
    missing = [p for p in paths if not Path(p).exists()]
    for path in missing:
        print(f"{path}: no such file or folder", file=sys.stderr)
    findings, problems = scan([p for p in paths if p not in missing])
    for problem in problems:
        print(problem, file=sys.stderr)
    for finding in findings:
        print(finding)
    if findings:
        print(
            f"{len(findings)} Keyward secret(s) found: remove them, then revoke or rotate each one "
            "(or run with --report URL to have the server revoke them).",
            file=sys.stderr,
        )
    if findings and report_url:
        try:
            verdicts = report(report_url, findings)
        except Exception as exc:  # the scan's answer stands; the report is an extra
            print(f"--report: could not report to the server ({type(exc).__name__}).", file=sys.stderr)
            return 1
        live = sum(v.get("label") == "true_positive" for v in verdicts if isinstance(v, dict))
        print(f"--report: the server recognised {live} of {len(verdicts)} as its credentials.", file=sys.stderr)
    if missing:
        return 2
    return 1 if findings else 0
