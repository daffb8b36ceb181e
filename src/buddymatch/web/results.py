"""Results of a finished run, as downloads, explanations and comparisons.

Downloads are produced by the library's writers (formula injection
neutralised) and :func:`buddymatch.report.render_report`; explanations by
:func:`buddymatch.explain_result`.  Comparing two runs lists the pairs (or
group placements) only one of them has, and what changed in between: the
scheme (a diff of the two stored versions) and the sign-up files.
"""

from __future__ import annotations

import difflib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

import buddymatch
from buddymatch.errors import BuddymatchError
from buddymatch.io.writers import csv_bytes, json_bytes, xlsx_bytes
from buddymatch.report import render_report

from .service import Invalid, RunResult

DOWNLOADS = {
    "csv": ("application/zip", "results-csv.zip"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "results.xlsx"),
    "html": ("text/html; charset=utf-8", "report.html"),
}


def download(result: RunResult, what: str) -> tuple[bytes, str, str]:
    """(bytes, media type, file name) of one download of a finished run."""
    if what not in DOWNLOADS:
        raise KeyError(what)
    media, name = DOWNLOADS[what]
    prefix = f"run-{result.run.number}-"
    if what == "xlsx":
        return xlsx_bytes(result.tables, result.summary), media, prefix + name
    if what == "html":
        return render_report(result.tables, result.summary).encode("utf-8"), media, prefix + name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for table, frame in sorted(result.tables.items()):
            zf.writestr(f"{table}.csv", csv_bytes(frame))
        zf.writestr("summary.json", json_bytes(result.summary))
    return buffer.getvalue(), media, prefix + name


def explain(folder: str, a: str, b: str) -> str:
    try:
        return buddymatch.explain_result(folder, a.strip(), b.strip())
    except BuddymatchError as exc:
        raise Invalid(list(exc.issues) or [buddymatch.Issue(str(exc))]) from None


def _units(tables: Mapping[str, pd.DataFrame]) -> dict[str, float | None]:
    """Each pair, trio or placement of a run as a text key -> its score (if any)."""
    out: dict[str, float | None] = {}
    if "matches" in tables:
        frame = tables["matches"]
        ids = [
            c for c in ("mentor_id", "mentee_id", "member_a", "member_b", "member_c") if c in frame
        ]
        for row in frame.to_dict(orient="records"):
            people = [str(row[c]) for c in ids if str(row.get(c, "") or "").strip()]
            key = " → ".join(people) if "mentor_id" in ids else " + ".join(sorted(people))
            out[f"round {row.get('round', 1)}: {key}"] = float(row.get("score") or 0.0)
    elif "groups" in tables:
        for row in tables["groups"].to_dict(orient="records"):
            key = f"round {row.get('round', 1)}: {row['participant_id']} in group {row['group']}"
            out[key] = None
    return out


@dataclass(frozen=True)
class Comparison:
    only_a: list[tuple[str, float | None]]
    only_b: list[tuple[str, float | None]]
    kept: int
    summary_rows: list[tuple[str, object, object]]
    scheme_diff: list[str]
    files_changed: bool


def compare(a: RunResult, b: RunResult, scheme_a: str, scheme_b: str) -> Comparison:
    ua, ub = _units(a.tables), _units(b.tables)
    keys = ("status", "matched", "unmatched", "units", "mean_score", "lowest_score", "seed")
    rows = [(k, a.summary.get(k), b.summary.get(k)) for k in keys]
    diff = list(
        difflib.unified_diff(
            scheme_a.splitlines(),
            scheme_b.splitlines(),
            f"scheme of run {a.run.number}",
            f"scheme of run {b.run.number}",
            lineterm="",
        )
    )
    return Comparison(
        only_a=sorted((k, v) for k, v in ua.items() if k not in ub),
        only_b=sorted((k, v) for k, v in ub.items() if k not in ua),
        kept=len(ua.keys() & ub.keys()),
        summary_rows=rows,
        scheme_diff=diff,
        files_changed=a.run.file_ids != b.run.file_ids,
    )
