"""Results → verdicts, the printed table, the JSON file and the README's markdown table.

A benchmark hands back a `Result`: its value, the baseline measured in the same run, the
`Target` (a comparison on the ratio value/baseline, or on the difference value − baseline) and
any further `Check`s. `entry()` computes the ratio, the difference and `meets` from those: no
verdict is ever typed in by a benchmark. A benchmark that failed to measure is an entry with an
`error` and `meets: false`, so the file always has one entry per benchmark.
"""

import json
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Op = Literal[">=", ">", "<=", "<", "=="]
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}


@dataclass(frozen=True)
class Target:
    """`on` value/baseline ("ratio") or value − baseline ("difference"), compared with `limit`."""

    on: Literal["ratio", "difference"]
    op: Op
    limit: float
    unit: str = ""

    def text(self) -> str:
        what = "ratio" if self.on == "ratio" else "growth"
        return f"{what} {_SYMBOL[self.op]} {_number(self.limit)}{(' ' + self.unit) if self.unit else ''}"


@dataclass(frozen=True)
class Check:
    """A further condition of a row (e.g. zero database queries); None means it could not be measured."""

    label: str
    value: float | None
    op: Op
    limit: float
    unit: str = ""
    note: str = ""

    @property
    def meets(self) -> bool:
        return self.value is not None and _OPS[self.op](self.value, self.limit)

    def text(self) -> str:
        got = "not measured" if self.value is None else f"{_number(self.value)}{self.unit}"
        return f"{self.label} {_SYMBOL[self.op]} {_number(self.limit)}{self.unit} (measured: {got})"


@dataclass
class Result:
    name: str
    title: str
    unit: str
    value: float | None
    baseline: float | None
    target: Target
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # shown in the table (e.g. p99 latencies)
    details: dict[str, Any] = field(default_factory=dict)  # absolute numbers, counts, settings
    error: str | None = None


def ratio_of(value: float | None, baseline: float | None) -> float | None:
    if value is None or baseline is None or baseline == 0:
        return None
    return value / baseline


def entry(result: Result) -> dict[str, Any]:
    """The JSON entry of one benchmark, with `ratio` and `meets` computed here."""
    ratio = ratio_of(result.value, result.baseline)
    difference = None if result.value is None or result.baseline is None else result.value - result.baseline
    judged = ratio if result.target.on == "ratio" else difference
    target_met = judged is not None and _OPS[result.target.op](judged, result.target.limit)
    meets = result.error is None and target_met and all(check.meets for check in result.checks)
    return {
        "name": result.name,
        "title": result.title,
        "unit": result.unit,
        "value": result.value,
        "baseline": result.baseline,
        "ratio": None if ratio is None else round(ratio, 4),
        "difference": difference,
        "target": result.target.text()
        + "".join(f"; {check.label} {_SYMBOL[check.op]} {_number(check.limit)}{check.unit}" for check in result.checks),
        "target_spec": {
            "on": result.target.on,
            "op": result.target.op,
            "limit": result.target.limit,
            "unit": result.target.unit,
        },
        "checks": [
            {
                "label": c.label,
                "value": c.value,
                "op": c.op,
                "limit": c.limit,
                "unit": c.unit,
                "meets": c.meets,
                **({"note": c.note} if c.note else {}),
            }
            for c in result.checks
        ],
        "meets": meets,
        "notes": result.notes,
        "details": result.details,
        **({"error": result.error} if result.error else {}),
    }


def recompute_meets(item: dict[str, Any]) -> bool:
    """`meets` of a stored entry, from its value, baseline, target_spec and checks alone (tests use it)."""
    spec = item["target_spec"]
    checks = [Check(c["label"], c["value"], c["op"], c["limit"], c.get("unit", "")) for c in item["checks"]]
    target = Target(spec["on"], spec["op"], spec["limit"], spec.get("unit", ""))
    result = Result(
        item["name"],
        item.get("title", ""),
        item.get("unit", ""),
        item["value"],
        item["baseline"],
        target,
        checks,
        error=item.get("error"),
    )
    return bool(entry(result)["meets"])


def document(results: Sequence[Result], *, machine: str, date: str, **extra: Any) -> dict[str, Any]:
    return {"machine": machine, "date": date, **extra, "benchmarks": [entry(r) for r in results]}


def write(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)


# ---- rendering -----------------------------------------------------------------------------------


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def _with_unit(value: float | None, unit: str) -> str:
    return _number(value) if value is None else f"{_number(value)} {unit}".strip()


def rows(doc: dict[str, Any]) -> list[list[str]]:
    out = []
    for item in doc["benchmarks"]:
        others = [
            f"{c['label']}: {'not measured' if c['value'] is None else _number(c['value']) + c.get('unit', '')} "
            f"({_SYMBOL[c['op']]} {_number(c['limit'])}{c.get('unit', '')})"
            for c in item["checks"]
        ]
        notes = others + list(item.get("notes", []))
        if item.get("error"):
            notes.insert(0, f"ERROR: {item['error'].splitlines()[0][:120]}")
        out.append(
            [
                item.get("title") or item["name"],
                _with_unit(item["value"], item.get("unit", "")),
                _with_unit(item["baseline"], item.get("unit", "")),
                "–" if item["ratio"] is None else f"{item['ratio']:.3g}",
                Target(**item["target_spec"]).text(),
                "yes" if item["meets"] else "**no**",
                "; ".join(notes),
            ]
        )
    return out


HEADER = ["benchmark", "value", "baseline", "ratio", "target", "meets", "other checks and notes"]


def text_table(doc: dict[str, Any]) -> str:
    body = [[cell.replace("**", "") for cell in row] for row in rows(doc)]
    widths = [max(len(r[i]) for r in [HEADER, *body]) for i in range(len(HEADER) - 1)]
    lines = []
    for row in [HEADER, *body]:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
        if row is HEADER:
            lines.append("-" * (sum(widths) + 2 * len(widths) + len(HEADER[-1])))
    return f"{doc['machine']}\n{doc['date']}\n\n" + "\n".join(lines)


def markdown_table(doc: dict[str, Any]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows(doc)]
    return f"Measured {doc['date']} on {doc['machine']} (`{doc.get('profile', 'full')}` profile).\n\n" + "\n".join(
        lines
    )


README_START = "<!-- bench:table:start (written by python -m bench) -->"
README_END = "<!-- bench:table:end -->"


def update_readme(readme: Path, doc: dict[str, Any]) -> None:
    """Replace the table between the markers in README.md with the one `doc` backs."""
    text = readme.read_text()
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(text):
        raise RuntimeError(f"README markers not found: add {README_START} … {README_END}")
    block = f"{README_START}\n{markdown_table(doc)}\n{README_END}"
    readme.write_text(pattern.sub(lambda _: block, text))
