"""`keyward stale-report` output: a table for people, JSON and CSV for scripts.

The table and the JSON show a report's expiring API keys too; the CSV stays one row per token (its columns
are a token's), so scripts that need the keys read the JSON.
"""

import csv
import io
from collections.abc import Sequence

import orjson

from app.graphql.ids import pk_of, to_global_id
from app.services.stale_reports import ReportView

WORKSPACE_ID_HELP = "give a workspace number (e.g. 3) or its GraphQL ID."

CSV_COLUMNS = [
    "workspaceId",
    "workspaceName",
    "reportId",
    "generatedAt",
    "staleAfterDays",
    "tokenId",
    "tokenName",
    "keyPrefix",
    "reason",
    "lastUsedAt",
    "idleDays",
    "autoRevoked",
]


def parse_workspace_id(value: str) -> int | None:
    """A workspace number (1 to 2**63 - 1, the key's range) or its GraphQL ID; None for anything else."""
    if value.isascii() and value.isdigit():
        number = int(value)
        return number if 0 < number < 2**63 else None
    return pk_of(value, "Workspace")


def _iso(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]


def as_dicts(reports: Sequence[ReportView]) -> list[dict[str, object]]:
    return [
        {
            "workspaceId": to_global_id("Workspace", r.workspace_id),
            "workspaceName": r.workspace_name,
            "reportId": to_global_id("StaleTokenReport", r.id),
            "generatedAt": _iso(r.generated_at),
            "staleAfterDays": r.stale_after_days,
            "entries": [
                {
                    "tokenId": to_global_id("ManagementToken", e.token_id),
                    "tokenName": e.token_name,
                    "keyPrefix": e.key_prefix,
                    "reason": e.reason,
                    "lastUsedAt": _iso(e.last_used_at),
                    "idleDays": e.idle_days,
                    "autoRevoked": e.auto_revoked,
                }
                for e in r.entries
            ],
            "expiringApiKeys": [
                {
                    "apiKeyId": to_global_id("ApiKey", k.key_id),
                    "apiKeyName": k.key_name,
                    "keyPrefix": k.key_prefix,
                    "projectId": to_global_id("Project", k.project_id),
                    "projectName": k.project_name,
                    "expiresAt": _iso(k.expires_at),
                    "lastUsedAt": _iso(k.last_used_at),
                }
                for k in r.expiring_api_keys
            ],
        }
        for r in reports
    ]


# A cell a spreadsheet would read as a formula (OWASP, "CSV Injection"): such text gets a leading
# apostrophe, which spreadsheets show as text and do not evaluate.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """One value as a CSV cell: booleans and nulls as in the JSON output, text never as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    return str(value)


def _csv(reports: Sequence[ReportView]) -> str:
    out = io.StringIO()
    # RFC 4180 line ends: a CR inside a value is then quoted like a LF (with "\n" it was written bare).
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for report in as_dicts(reports):
        head = {k: v for k, v in report.items() if k not in ("entries", "expiringApiKeys")}
        for entry in report["entries"]:  # type: ignore[attr-defined]
            writer.writerow({column: csv_cell(value) for column, value in {**head, **entry}.items()})
    return out.getvalue()


def _table(reports: Sequence[ReportView]) -> str:
    if not reports:
        return "No stale-token report yet.\n"
    lines: list[str] = []
    for r in reports:
        lines.append(
            f"Workspace {r.workspace_name} ({r.workspace_id}): report of {r.generated_at:%Y-%m-%d %H:%M} UTC, "
            f"stale after {r.stale_after_days} days, {len(r.entries)} token(s), "
            f"{len(r.expiring_api_keys)} API key(s) expiring soon"
        )
        rows = [("NAME", "KEY PREFIX", "REASON", "LAST USED", "IDLE DAYS", "AUTO-REVOKED")]
        for e in r.entries:
            last = f"{e.last_used_at:%Y-%m-%d %H:%M}" if e.last_used_at else "never"
            rows.append(
                (
                    e.token_name,
                    e.key_prefix + "…",
                    e.reason,
                    last,
                    str(e.idle_days),
                    "yes" if e.auto_revoked else "no",
                )
            )
        if r.entries or not r.expiring_api_keys:
            lines += _aligned(rows)
        if r.expiring_api_keys:
            lines.append("  API keys expiring soon:")
            keys = [("KEY PREFIX", "PROJECT", "EXPIRES")]
            keys += [
                (k.key_prefix + "…", k.project_name, f"{k.expires_at:%Y-%m-%d %H:%M}") for k in r.expiring_api_keys
            ]
            lines += _aligned(keys)
        lines.append("")
    return "\n".join(lines)


def _aligned(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def render(reports: Sequence[ReportView], fmt: str) -> str:
    if fmt == "json":
        return orjson.dumps(as_dicts(reports), option=orjson.OPT_INDENT_2).decode() + "\n"
    if fmt == "csv":
        return _csv(reports)
    return _table(reports)
