"""OUT/sweep.html: what each rule setting of a sweep costs, on one self-contained page.

One section per manifest entry with a ``sweep``: people matched against mean
score, one labelled point per setting (the trade-off a coordinator weighs),
bars of matched people and of mean score per setting, and a table of every
run.  Built from the batch rows with :mod:`buddymatch.report`'s helpers, so
it looks like (and is as safe as) the run report: inline SVG, escaped text,
no external resources, and no clock (same rows, same bytes).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from buddymatch import __version__
from buddymatch.io.writers import os_errors, write_atomic
from buddymatch.report import bar_chart, figure, html_page, html_table, scatter_chart

from .manifest import Entry, Manifest
from .plan import Plan
from .worker import FAILED

SWEEP_HTML = "sweep.html"
_TABLE_COLUMNS = [
    "run",
    "split",
    "status",
    "participants",
    "matched",
    "unmatched",
    "pairs_or_groups",
    "mean_score",
    "lowest_score",
    "cross_org_share",
    "error",
]


def write_sweep_report(
    out: Path, manifest: Manifest, plan: Plan, rows: Mapping[str, Mapping[str, Any]]
) -> Path | None:
    """Write OUT/sweep.html when the manifest has a sweep; return its path (else None)."""
    sections = [
        _section(
            entry,
            [rows[s.name] for s in plan.runs if s.entry == entry.name and s.name in rows],
            plan,
        )
        for entry in manifest.entries
        if entry.sweep
    ]
    if not sections:
        return None
    body = (
        "<header><h1>buddymatch — what-if sweep</h1>"
        f'<p class="sub">{html.escape(manifest.path.name)} · buddymatch {__version__}</p></header>'
        + "".join(sections)
        + "<footer>Every run's folder holds its matches, unmatched people with reasons and "
        "summary.json; batch.csv has one row per run.</footer>"
    )
    target = out / SWEEP_HTML
    with os_errors(f'Cannot write "{target}"'):
        write_atomic(target, html_page("buddymatch sweep", body).encode("utf-8"))
    return target


def _section(entry: Entry, rows: list[Mapping[str, Any]], plan: Plan) -> str:
    keys = [k for k, _ in entry.sweep]
    specs = {s.name: s for s in plan.runs}
    frame = pd.DataFrame([_table_row(r, dict(specs[r["run"]].settings), keys) for r in rows])
    ok = [r for r in rows if r["status"] != FAILED and r["mean_score"] is not None]
    labels = [_label(r, dict(specs[r["run"]].settings), keys) for r in ok]
    figures = []
    if ok:
        points = [
            (float(r["matched"]), float(r["mean_score"]), lab)
            for r, lab in zip(ok, labels, strict=True)
        ]
        figures = [
            figure(
                "Matched people against mean score",
                scatter_chart(
                    points, "people matched", "mean score (0–100)", width=1080, height=380
                ),
                "one point per setting: up is better fit, right is more people matched",
                wide=True,
            ),
            figure("People matched", bar_chart(labels, [float(r["matched"]) for r in ok])),
            figure(
                "Mean score", bar_chart(labels, [float(r["mean_score"]) for r in ok], scale=100.0)
            ),
        ]
    failed = len(rows) - len(ok)
    note = f" {failed} setting(s) failed; see the table." if failed else ""
    return (
        f"<section><h2>{html.escape(entry.name)}</h2>"
        f'<p class="note">Sweep over {html.escape(", ".join(keys))} of '
        f"{html.escape(entry.scheme.name)}: {len(rows)} runs.{html.escape(note)}</p>"
        f'<div class="charts">{"".join(figures)}</div>'
        f"{html_table(frame, note_column=None)}</section>"
    )


def _table_row(row: Mapping[str, Any], settings: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    shown: dict[str, Any] = {k: _text(settings.get(k)) for k in keys}
    shown.update({c: row.get(c) for c in _TABLE_COLUMNS if c != "split" or row.get("split")})
    return shown


def _label(row: Mapping[str, Any], settings: dict[str, Any], keys: list[str]) -> str:
    text = ", ".join(f"{k.split('.')[-1]}={_text(settings.get(k))}" for k in keys)
    return f"{row['split']}: {text}" if row.get("split") else text


def _text(value: Any) -> str:
    """A setting as the manifest wrote it: 4, 2.5, true, [a, b]."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
