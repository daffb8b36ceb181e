"""One self-contained HTML page that shows a coordinator what a run produced.

The page has no external CSS, scripts, fonts or images (a Content-Security-Policy
forbids fetching anything), so it can be mailed or archived as one file.  Plots
are inline SVG drawn here.  Every piece of table or summary text goes through
:func:`html.escape`.  Output is deterministic: the same tables and summary give
the same bytes (rows are sorted by their key columns; nothing reads the clock).
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from buddymatch.errors import InputError
from buddymatch.io.writers import os_errors, read_results, write_atomic

MAX_ROWS = 5000
"""Rows shown per table; the results folder always has every row."""

_TABLE_TITLES = {
    "matches": "Matches",
    "groups": "Group members",
    "group_summary": "Groups",
    "unmatched": "Left unmatched",
}
_SORT_KEYS = {
    "matches": ["round", "mentor_id", "mentee_id", "member_a", "member_b", "member_c"],
    "groups": ["round", "group", "participant_id"],
    "group_summary": ["round", "group"],
    "unmatched": ["round", "participant_id"],
}
_NOT_CRITERIA = {"locked", "explanation"}
_ROUND_COLUMNS = ["round", "status", "objective_value", "bound", "gap", "units", "repeats"]
_ACCENT = "#2b6c9e"
_MUTED = "#5f6b7a"
_GRID = "#e3e7ec"
_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f5f7f9;color:#1d2733;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0 8px 0 0;display:inline-block}
h2{font-size:18px;margin:32px 0 10px}
.sub{color:#5f6b7a;margin:6px 0 18px}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;
font-size:13px;vertical-align:middle}
.good{background:#dff3e4;color:#1e6b34}.warn{background:#fff1cc;color:#7a5300}
.bad{background:#fbe0e0;color:#8f1f1f}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.fact{background:#fff;border:1px solid #e3e7ec;border-radius:8px;padding:10px 12px}
.fact b{display:block;font-size:20px}.fact span{color:#5f6b7a;font-size:12px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:14px}
figure{margin:0;background:#fff;border:1px solid #e3e7ec;border-radius:8px;padding:12px 14px}
figcaption{font-weight:600;margin-bottom:2px}.note{color:#5f6b7a;font-size:12px;margin:0 0 6px}
svg{display:block;width:100%;height:auto}
.scroll{overflow:auto;max-height:640px;background:#fff;border:1px solid #e3e7ec;
border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:5px 9px;text-align:left;vertical-align:top;border-bottom:1px solid #eef1f4}
th{position:sticky;top:0;background:#eef2f6;font-weight:600;white-space:nowrap}
tr.alt td{background:#f8fafb}
tr.noted td{border-bottom:none}
tr.why td{color:#5f6b7a;font-size:12.5px;padding-top:0}
tr.why div{max-width:1080px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.long{min-width:320px}
figure.wide{grid-column:1/-1}
.empty{color:#5f6b7a;font-style:italic;margin:6px 0}
details{margin-top:28px}summary{cursor:pointer;font-weight:600}
footer{margin-top:36px;color:#5f6b7a;font-size:12px}
"""


# ------------------------------------------------------------------ small helpers


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _number(value: float) -> str:
    """Display form: thousands separators, at most 3 decimals, no trailing zeros."""
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _display(value: Any) -> str:
    if _missing(value):
        return ""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _f(x: float) -> str:
    return f"{x:.1f}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _numeric(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("float64")


# --------------------------------------------------------------------- SVG plots


def _nice_step(raw: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least ``raw``."""
    step = 1
    while step < raw:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2
    return step


def column_chart(labels: Sequence[str], counts: Sequence[int], x_title: str) -> str:
    """Vertical bars of counts (a histogram when labels are bins)."""
    width, height, left, right, top, bottom = 520, 230, 44, 12, 16, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    step = _nice_step(max(counts, default=0) / 4)
    ceiling = step * max(1, math.ceil(max(counts, default=0) / step))
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img">']
    for tick in range(0, ceiling + 1, step):
        y = top + plot_h - plot_h * tick / ceiling
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_f(y)}" y2="{_f(y)}" '
            f'stroke="{_GRID}"/><text x="{left - 6}" y="{_f(y + 4)}" text-anchor="end" '
            f'font-size="11" fill="{_MUTED}">{tick}</text>'
        )
    slot = plot_w / max(1, len(labels))
    for i, (label, count) in enumerate(zip(labels, counts, strict=True)):
        bar_h = plot_h * count / ceiling
        x, y = left + i * slot + slot * 0.1, top + plot_h - bar_h
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(slot * 0.8)}" height="{_f(bar_h)}" '
            f'fill="{_ACCENT}" rx="2"><title>{_e(label)}: {count}</title></rect>'
        )
        if count:
            parts.append(
                f'<text x="{_f(x + slot * 0.4)}" y="{_f(y - 4)}" text-anchor="middle" '
                f'font-size="11">{count}</text>'
            )
        parts.append(
            f'<text x="{_f(x + slot * 0.4)}" y="{top + plot_h + 15}" text-anchor="middle" '
            f'font-size="10.5" fill="{_MUTED}">{_e(_clip(label, 12))}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
        f'font-size="11.5" fill="{_MUTED}">{_e(x_title)}</text></svg>'
    )
    return "".join(parts)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    scale: float | None = None,
    width: int = 520,
    label_w: int = 230,
) -> str:
    """Horizontal bars, one labelled row each; ``scale`` is the full-width value."""
    value_w, row_h, top = 54, 24, 6
    limit = label_w // 7
    bar_w = width - label_w - value_w
    full = scale if scale else max(max(values, default=0.0), 1e-12)
    height = top * 2 + row_h * len(labels)
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img">']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row_h
        length = bar_w * max(0.0, min(value, full)) / full
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12">'
            f"<title>{_e(label)}</title>{_e(_clip(label, limit))}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{_f(bar_w)}" height="16" fill="{_GRID}" '
            f'rx="2"/><rect x="{label_w}" y="{y + 4}" width="{_f(length)}" height="16" '
            f'fill="{_ACCENT}" rx="2"/><text x="{_f(label_w + bar_w + 6)}" y="{y + 16}" '
            f'font-size="12">{_e(_number(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _ticks(low: float, high: float) -> tuple[float, float, list[float]]:
    """A padded axis range and about five round tick values across it."""
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    raw = (high - low) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start, stop = math.floor(low / step) * step, math.ceil(high / step) * step
    count = round((stop - start) / step)
    return start, stop, [start + k * step for k in range(count + 1)]


def scatter_chart(
    points: Sequence[tuple[float, float, str]],
    x_title: str,
    y_title: str,
    *,
    width: int = 520,
    height: int = 300,
) -> str:
    """Labelled points (x, y, label) on two value axes: a trade-off between two measures.

    Labels go right of their point (left of it in the right part of the plot) and
    are moved down past labels already placed, so close points stay readable.
    """
    left, right, top, bottom = 56, 16, 14, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    x0, x1, xt = _ticks(min(p[0] for p in points), max(p[0] for p in points))
    y0, y1, yt = _ticks(min(p[1] for p in points), max(p[1] for p in points))

    def sx(x: float) -> float:
        return left + plot_w * (x - x0) / (x1 - x0)

    def sy(y: float) -> float:
        return top + plot_h - plot_h * (y - y0) / (y1 - y0)

    parts = [f'<svg viewBox="0 0 {width} {height}" role="img">']
    for y in yt:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_f(sy(y))}" y2="{_f(sy(y))}" '
            f'stroke="{_GRID}"/><text x="{left - 6}" y="{_f(sy(y) + 4)}" text-anchor="end" '
            f'font-size="11" fill="{_MUTED}">{_e(_number(y))}</text>'
        )
    for x in xt:
        parts.append(
            f'<text x="{_f(sx(x))}" y="{top + plot_h + 15}" text-anchor="middle" '
            f'font-size="11" fill="{_MUTED}">{_e(_number(x))}</text>'
        )
    placed: list[tuple[float, float]] = []
    for x, y, label in sorted(points, key=lambda p: (-p[1], p[0], p[2])):
        px, py = sx(x), sy(y)
        flip = px > left + plot_w * 0.6
        lx, ly = (px - 8, py + 4) if flip else (px + 8, py + 4)
        while any(abs(ly - oy) < 12 and abs(lx - ox) < 140 for ox, oy in placed):
            ly += 12
        placed.append((lx, ly))
        anchor = ' text-anchor="end"' if flip else ""
        parts.append(
            f'<circle cx="{_f(px)}" cy="{_f(py)}" r="4.5" fill="{_ACCENT}">'
            f"<title>{_e(label)}: {_e(_number(x))}, {_e(_number(y))}</title></circle>"
            f'<text x="{_f(lx)}" y="{_f(ly)}" font-size="11"{anchor}>{_e(_clip(label, 32))}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle" '
        f'font-size="11.5" fill="{_MUTED}">{_e(x_title)}</text>'
        f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" font-size="11.5" '
        f'fill="{_MUTED}" transform="rotate(-90 14 {top + plot_h / 2:.1f})">{_e(y_title)}</text>'
        "</svg>"
    )
    return "".join(parts)


def figure(caption: str, body: str | None, note: str = "", *, wide: bool = False) -> str:
    inner = body if body is not None else '<p class="empty">No data</p>'
    note_html = f'<p class="note">{_e(note)}</p>' if note else ""
    tag = '<figure class="wide">' if wide else "<figure>"
    return f"{tag}<figcaption>{_e(caption)}</figcaption>{note_html}{inner}</figure>"


def _score_histogram(matches: pd.DataFrame) -> str:
    scores = _numeric(matches["score"]).dropna() if "score" in matches else pd.Series([])
    if scores.empty:
        return figure("Match scores", None)
    bins = [min(9, max(0, math.floor(s / 10))) for s in scores.tolist()]
    counts = Counter(bins)
    labels = [f"{10 * b}–{10 * b + 10}" for b in range(10)]
    chart = column_chart(labels, [counts.get(b, 0) for b in range(10)], "score (0–100)")
    return figure("Match scores", chart, f"{len(scores)} matches; higher is a better fit")


def _criterion_columns(matches: pd.DataFrame) -> list[str]:
    """The criterion columns: numeric columns between ``score`` and ``locked``/``explanation``."""
    columns = [str(c) for c in matches.columns]
    if "score" not in columns:
        return []
    found = []
    for name in columns[columns.index("score") + 1 :]:
        if name in _NOT_CRITERIA:
            break
        if _numeric(matches[name]).notna().any():
            found.append(name)
    return found


def _criteria_bars(matches: pd.DataFrame) -> str:
    names = _criterion_columns(matches)
    if not names or matches.empty:
        return figure("Criteria met, on average", None)
    means = [float(_numeric(matches[n]).mean()) for n in names]
    scale = 1.0 if max(means) <= 1.0 else None
    note = "mean per-criterion value over all matches (1 = fully met)"
    return figure("Criteria met, on average", bar_chart(names, means, scale=scale), note)


def _reason_kind(reason: Any) -> str:
    """Reasons that differ only in counts or details after ``:`` are one kind."""
    text = _display(reason).strip()
    head = text.split(": ", 1)[0]
    return re.sub(r"\b[0-9]+(?:\.[0-9]+)?\b", "N", head) or "(no reason given)"


def _reason_bars(unmatched: pd.DataFrame) -> str:
    caption = "Why people were left unmatched"
    if unmatched.empty or "reason" not in unmatched:
        return figure(caption, '<p class="empty">Nobody was left unmatched.</p>', wide=True)
    reasons = Counter(_reason_kind(r) for r in unmatched["reason"].tolist())
    ranked = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) > 12:
        rest = ranked[11:]
        ranked = [*ranked[:11], (f"{len(rest)} other reasons", sum(n for _, n in rest))]
    chart = bar_chart(
        [r for r, _ in ranked], [float(n) for _, n in ranked], width=1080, label_w=620
    )
    note = f"{len(unmatched)} people; counts shown as N, details after ':' in the table below"
    return figure(caption, chart, note, wide=True)


def _group_sizes(tables: Mapping[str, pd.DataFrame]) -> str:
    summary, members = tables.get("group_summary"), tables.get("groups")
    if summary is not None and "size" in summary and not summary.empty:
        sizes = [int(s) for s in _numeric(summary["size"]).dropna().tolist()]
    elif members is not None and not members.empty and "group" in members:
        keys = [c for c in ("round", "group") if c in members]
        sizes = [int(n) for n in members.groupby(keys, sort=True).size().tolist()]
    else:
        return figure("Group sizes", None)
    counts = Counter(sizes)
    values = list(range(min(sizes), max(sizes) + 1)) if sizes else []
    chart = column_chart([str(v) for v in values], [counts[v] for v in values], "members")
    return figure("Group sizes", chart, f"{len(sizes)} groups")


# ------------------------------------------------------------------------- tables


def _sorted(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    keys = [k for k in _SORT_KEYS.get(name, []) if k in frame.columns]
    if not keys:
        return frame
    try:
        return frame.sort_values(keys, kind="mergesort", na_position="last")
    except TypeError:  # mixed types in a key column: keep the written order
        return frame


def html_table(frame: pd.DataFrame, *, note_column: str | None = "explanation") -> str:
    """Rows as an HTML table; ``note_column`` is shown as a full-width line under each row."""
    shown = frame.head(MAX_ROWS)
    notes = shown[note_column].tolist() if note_column in shown.columns else None
    if notes is not None:
        shown = shown.drop(columns=[note_column])
    numeric = [
        pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in shown.dtypes
    ]
    long = [str(c) == "reason" for c in shown.columns]
    heads = "".join(
        f"<th{' class=num' if num else ''}>{_e(c)}</th>"
        for c, num in zip(shown.columns, numeric, strict=True)
    )
    rows = []
    for k, record in enumerate(shown.itertuples(index=False, name=None)):
        cells = "".join(
            f"<td{' class=num' if num else ' class=long' if lg else ''}>{_e(_display(v))}</td>"
            for v, num, lg in zip(record, numeric, long, strict=True)
        )
        stripe = " alt" if k % 2 else ""
        if notes is None:
            rows.append(f'<tr class="row{stripe}">{cells}</tr>')
        else:
            note = _e(_display(notes[k]))
            rows.append(
                f'<tr class="row noted{stripe}">{cells}</tr><tr class="why{stripe}">'
                f'<td colspan="{len(numeric)}"><div>{note}</div></td></tr>'
            )
    more = ""
    if len(frame) > MAX_ROWS:
        more = f'<p class="note">First {MAX_ROWS:,} of {len(frame):,} rows shown.</p>'
    return (
        f'<div class="scroll"><table><thead><tr>{heads}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def _table_section(name: str, frame: pd.DataFrame) -> str:
    title = _TABLE_TITLES.get(name, name)
    head = f"<h2>{_e(title)} <small>({len(frame):,})</small></h2>"
    if frame.empty:
        text = "Everyone was matched." if name == "unmatched" else "No rows."
        return f'<section>{head}<p class="empty">{_e(text)}</p></section>'
    return f"<section>{head}{html_table(_sorted(name, frame))}</section>"


# ------------------------------------------------------------------------ header


def _status_class(status: str) -> str:
    return {"optimal": "good", "feasible": "warn"}.get(status, "bad")


def _facts(summary: Mapping[str, Any]) -> str:
    gap = summary.get("gap")
    items = [
        ("participants", "participants"),
        ("matched", "matched"),
        ("unmatched", "unmatched"),
        ("units", "pairs / groups"),
        ("mean_score", "mean score"),
        ("lowest_score", "lowest score"),
        ("objective_value", "objective value"),
        ("bound", "bound"),
    ]
    cards = [
        f"<div class=fact><b>{_e(_display(summary[k]) or '—')}</b><span>{_e(label)}</span></div>"
        for k, label in items
        if k in summary
    ]
    if "gap" in summary:
        numeric = isinstance(gap, int | float) and not _missing(gap)
        shown = f"{float(gap) * 100:.2f} %" if numeric and gap is not None else "—"
        cards.append(f"<div class=fact><b>{_e(shown)}</b><span>gap to bound</span></div>")
    if "runtime_s" in summary:
        shown = _display(summary["runtime_s"])
        cards.append(f"<div class=fact><b>{_e(shown)} s</b><span>runtime</span></div>")
    return f'<div class="facts">{"".join(cards)}</div>'


def _header(summary: Mapping[str, Any]) -> str:
    scheme = _display(summary.get("scheme")) or "unknown scheme"
    status = _display(summary.get("status")) or "unknown"
    details = [
        f"{label} {_display(summary[key])}"
        for key, label in (
            ("objective", "objective"),
            ("solver", "solver"),
            ("seed", "seed"),
            ("version", "buddymatch"),
        )
        if key in summary and not _missing(summary[key])
    ]
    return (
        f"<header><h1>buddymatch — {_e(scheme)}</h1>"
        f'<span class="badge {_status_class(status)}">{_e(status)}</span>'
        f'<p class="sub">{_e(" · ".join(details))}</p>{_facts(summary)}</header>'
    )


def _rounds(summary: Mapping[str, Any]) -> str:
    rounds = summary.get("rounds")
    if not isinstance(rounds, list) or len(rounds) < 2:
        return ""
    if not all(isinstance(r, Mapping) for r in rounds):
        return ""
    frame = pd.DataFrame(list(rounds))
    first = [c for c in _ROUND_COLUMNS if c in frame.columns]
    frame = frame[first + sorted(c for c in frame.columns if c not in first)]
    return f"<section><h2>Rounds</h2>{html_table(frame, note_column=None)}</section>"


def _run_details(summary: Mapping[str, Any]) -> str:
    rows = "".join(
        f'<tr class="row"><th>{_e(k)}</th><td>{_e(_display(summary[k]))}</td></tr>'
        for k in sorted(summary, key=str)
        if k != "rounds"
    )
    return (
        "<details><summary>Run details (for audit)</summary>"
        f'<div class="scroll"><table>{rows}</table></div></details>'
    )


# -------------------------------------------------------------------------- page


def _table_order(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    known = [n for n in ("matches", "group_summary", "groups", "unmatched") if n in tables]
    return known + sorted(n for n in tables if n not in known)


def render_report(tables: Mapping[str, pd.DataFrame], summary: Mapping[str, Any]) -> str:
    """The whole report as one HTML string (UTF-8, no external resources, no clock)."""
    figures = []
    matches = tables.get("matches")
    if matches is not None:
        figures += [_score_histogram(matches), _criteria_bars(matches)]
    if "groups" in tables or "group_summary" in tables:
        figures.append(_group_sizes(tables))
    figures.append(_reason_bars(tables.get("unmatched", pd.DataFrame())))
    sections = "".join(_table_section(n, tables[n]) for n in _table_order(tables))
    version = _display(summary.get("version"))
    made_by = f"buddymatch {version}" if version else "buddymatch"
    scheme = _display(summary.get("scheme"))
    body = (
        f"{_header(summary)}"
        f'<h2>Overview</h2><div class="charts">{"".join(figures)}</div>'
        f"{_rounds(summary)}{sections}{_run_details(summary)}"
        f"<footer>Made by {_e(made_by)}. The results folder holds every row "
        "as CSV/XLSX and summary.json.</footer>"
    )
    return html_page(f"buddymatch report — {scheme}", body)


def html_page(title: str, body: str) -> str:
    """A whole self-contained page: the report's style, a CSP that fetches nothing.

    ``body`` is trusted HTML (built with the helpers here); ``title`` is escaped.
    """
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def write_report(out_dir: str | Path, path: str | Path, *, force: bool = False) -> Path:
    """Read the results folder ``out_dir`` and write the report to ``path`` atomically.

    Refuses to replace an existing file unless ``force`` (:class:`InputError`).
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(f'Report path "{path}" is a folder — give a file name such as report.html')
    if os.path.lexists(target) and not force:
        raise InputError(
            f'Report file "{path}" already exists — '
            "choose another name or pass --force to replace it"
        )
    tables, summary = read_results(out_dir)
    page = render_report(tables, summary)
    with os_errors(f'Cannot write report "{path}"'):
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, page.encode("utf-8"))
    return target


__all__ = [
    "MAX_ROWS",
    "bar_chart",
    "column_chart",
    "figure",
    "html_page",
    "html_table",
    "render_report",
    "scatter_chart",
    "write_report",
]
