"""What the review page shows of a finished run: rows, filters, labels and charts.

Everything here reads the run's tables (as the library wrote them) and the
stored sign-up sheets; it computes no match, score or rule — those come from
the library's output columns (score, criterion values, explanation, reason).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from buddymatch.errors import BuddymatchError
from buddymatch.io.readers import ReadLimits, read_tables

from . import inputs

ID_COLUMNS = ("mentor_id", "mentee_id", "member_a", "member_b", "member_c", "participant_id")
_NOT_CRITERIA = {"round", "score", "locked", "explanation", "group"}
_PHRASES = {
    "same": "same {a}",
    "overlap": "{a} in common",
    "closeness": "{a} close to target",
    "availability": "shared {a}",
    "preference": "named preferences",
    "diversity": "mix of {a}",
    "similarity": "similar {a}",
    "balance": "{a} balanced",
    "pairwise": "custom pair score",
}
PAGE_SIZE = 50
_BLUE, _GREY, _TEXT = "#1d5f91", "#d9dee4", "#1d2733"


def main_table(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    for name in ("matches", "groups"):
        if name in tables:
            return tables[name]
    return pd.DataFrame()


def _column_of(scheme: Mapping[str, Any], attribute: str) -> str:
    spec = ((scheme.get("participants") or {}).get("attributes") or {}).get(attribute) or {}
    return str(spec.get("column", attribute)) if isinstance(spec, dict) else attribute


def _criterion_phrase(crit: Any, scheme: Mapping[str, Any]) -> str:
    attrs = [getattr(crit, k, None) for k in ("attribute", "mentee", "mentor")]
    attrs = [a for a in attrs if a] + list(getattr(crit, "attributes", ()) or ())
    heads = [_column_of(scheme, a) for a in attrs]
    phrase = _PHRASES.get(crit.kind, crit.kind).format(a=" / ".join(heads) or crit.kind)
    if crit.kind == "overlap" and getattr(crit, "mentee", None):
        phrase = f"“{heads[0]}” covered by “{heads[1]}”"
    return phrase[:1].upper() + phrase[1:]


def criterion_labels(scheme: Mapping[str, Any], frame: pd.DataFrame) -> dict[str, str]:
    """Criterion column -> a phrase in the sheet's own headings.

    The output contract puts one column per criterion right after ``score``, in
    the scheme's order, so the columns are matched to the criteria by position.
    """
    from buddymatch.config import validate_scheme

    criteria = validate_scheme(dict(scheme)).criteria
    columns = list(frame.columns)
    if "score" not in columns:
        return {}
    after = columns[columns.index("score") + 1 :][: len(criteria)]
    return {c: _criterion_phrase(k, scheme) for c, k in zip(after, criteria, strict=False)}


def criterion_columns(frame: pd.DataFrame, labels: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(c, labels.get(c, c.replace("_", " "))) for c in frame.columns if c in labels]


def id_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in ID_COLUMNS if c in frame.columns]


def filtered(frame: pd.DataFrame, q: str = "", min_score: float | None = None) -> pd.DataFrame:
    """Rows whose ids, carried columns or explanation contain ``q`` (any case)."""
    out = frame
    if q.strip():
        needle = q.strip().casefold()
        text = out.astype(str).apply(
            lambda col: col.str.casefold().str.contains(needle, regex=False)
        )
        out = out[text.any(axis=1)]
    if min_score is not None and "score" in out.columns:
        out = out[pd.to_numeric(out["score"], errors="coerce") >= min_score]
    return out


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    number: int
    pages: int
    total: int


def paged(frame: pd.DataFrame, number: int, size: int = PAGE_SIZE) -> Page:
    pages = max(1, math.ceil(len(frame) / size))
    number = min(max(1, number), pages)
    part = frame.iloc[(number - 1) * size : number * size]
    rows = [{str(k): _cell(v) for k, v in r.items()} for r in part.to_dict(orient="records")]
    return Page(rows, number, pages, len(frame))


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


# ------------------------------------------------------------------------ profiles


def profile_frame(files: Sequence[inputs.StoredFile], limits: ReadLimits) -> pd.DataFrame:
    """The stored sign-up sheets as one string table (for charts by organisation etc.)."""
    with inputs.workspace() as folder:
        paths = [folder / p for p in inputs.materialise(folder, files, None)]
        try:
            tables = read_tables(paths, limits=limits)
        except BuddymatchError:
            return pd.DataFrame()
    return pd.concat([t.frame for t in tables], ignore_index=True).fillna("")


def scale_of(scheme: Mapping[str, Any], attribute: str) -> list[str]:
    spec = ((scheme.get("participants") or {}).get("attributes") or {}).get(attribute) or {}
    return [str(v) for v in spec.get("scale") or []] if isinstance(spec, dict) else []


def chart_attributes(scheme: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(attribute, heading) worth a match-rate chart: organisation, profession, band first."""
    attrs = (scheme.get("participants") or {}).get("attributes") or {}
    single = [n for n, s in attrs.items() if isinstance(s, dict) and not s.get("multi")]
    preferred = [n for n in ("organisation", "org_type", "profession", "band") if n in single]
    chosen = preferred or single[:3]
    return [(n, _column_of(scheme, n)) for n in chosen[:4]]


def _key(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def matched_ids(tables: Mapping[str, pd.DataFrame]) -> set[str]:
    frame = main_table(tables)
    out: set[str] = set()
    for c in id_columns(frame):
        out.update(_key(v) for v in frame[c].tolist() if str(v).strip())
    return out


def match_rates(
    profiles: pd.DataFrame,
    id_heading: str,
    heading: str,
    matched: set[str],
    excluded: set[str],
    scale: Sequence[str] = (),
) -> list[tuple[str, int, int]]:
    """(value, matched, taking part) per value of ``heading``: in scale order when the
    attribute has a scale, else largest groups first."""
    if profiles.empty or heading not in profiles.columns or id_heading not in profiles.columns:
        return []
    keys = profiles[id_heading].map(_key)
    part = ~keys.isin(excluded)
    values = profiles[heading].map(lambda v: " ".join(str(v).split()) or "(blank)")
    frame = pd.DataFrame({"value": values[part], "matched": keys[part].isin(matched)})
    grouped = frame.groupby("value")["matched"].agg(["sum", "count"]).reset_index()
    grouped = grouped.sort_values(["count", "value"], ascending=[False, True])
    rows = [(str(r.value), int(r["sum"]), int(r["count"])) for _, r in grouped.iterrows()]
    if scale:
        rank = {_key(v): i for i, v in enumerate(scale)}
        rows.sort(key=lambda r: rank.get(_key(r[0]), len(rank)))
    return rows


def flows(
    tables: Mapping[str, pd.DataFrame], profiles: pd.DataFrame, id_heading: str, heading: str
) -> list[tuple[str, str, int]]:
    """(from, to, pairs) between values of ``heading``: mentor -> mentee, or a -> b."""
    frame = tables.get("matches")
    if frame is None or frame.empty or heading not in profiles.columns:
        return []
    lookup = dict(zip(profiles[id_heading].map(_key), profiles[heading], strict=False))
    cols = ["mentor_id", "mentee_id"] if "mentor_id" in frame.columns else ["member_a", "member_b"]
    pairs = [
        (str(lookup.get(_key(a), "")) or "(blank)", str(lookup.get(_key(b), "")) or "(blank)")
        for a, b in zip(frame[cols[0]], frame[cols[1]], strict=True)
    ]
    counts: dict[tuple[str, str], int] = {}
    for pair in pairs:
        counts[pair] = counts.get(pair, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(a, b, n) for (a, b), n in ranked]


# --------------------------------------------------------------------------- SVG


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def score_histogram(scores: Sequence[float], title: str) -> str:
    """Counts of scores in bins of 10 points, as an accessible inline SVG."""
    counts = [0] * 10
    for s in scores:
        counts[min(9, max(0, int(float(s) // 10)))] += 1
    top = max(counts) or 1
    w, h, left, base = 520, 200, 36, 170
    bars = []
    for i, c in enumerate(counts):
        bh = 140 * c / top
        x = left + i * 48
        label = f"{i * 10}–{i * 10 + 10}"
        bars.append(
            f'<rect x="{x}" y="{base - bh:.1f}" width="40" height="{bh:.1f}" fill="{_BLUE}">'
            f"<title>{label}: {c}</title></rect>"
            f'<text x="{x + 20}" y="{base + 14}" font-size="11" text-anchor="middle" '
            f'fill="{_TEXT}">{label}</text>'
            f'<text x="{x + 20}" y="{base - bh - 4:.1f}" font-size="11" text-anchor="middle" '
            f'fill="{_TEXT}">{c}</text>'
        )
    desc = ", ".join(f"{i * 10} to {i * 10 + 10}: {c}" for i, c in enumerate(counts))
    return (
        f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="{_e(title)}: {_e(desc)}">'
        f'<line x1="{left - 4}" x2="{w - 4}" y1="{base}" y2="{base}" stroke="{_TEXT}"/>'
        + "".join(bars)
        + f'<text x="{w // 2}" y="{h - 2}" font-size="11" text-anchor="middle" fill="{_TEXT}">'
        "score (0–100)</text></svg>"
    )


def rate_bars(rates: Sequence[tuple[str, int, int]], title: str, limit: int = 12) -> str:
    """One bar per value: the share matched, with 'matched of taking part' as text."""
    shown = list(rates[:limit])
    row, label_w, bar_w = 22, 240, 200
    h = row * len(shown) + 8
    parts = [f'<svg viewBox="0 0 {label_w + bar_w + 90} {h}" role="img" aria-label="{_e(title)}">']
    for i, (value, m, n) in enumerate(shown):
        y = 4 + i * row
        share = m / n if n else 0.0
        name = value if len(value) <= 30 else value[:29] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" font-size="12" text-anchor="end" '
            f'fill="{_TEXT}">{_e(name)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="14" fill="{_GREY}"/>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w * share:.1f}" height="14" '
            f'fill="{_BLUE}"><title>{_e(value)}: {m} of {n} matched</title></rect>'
            f'<text x="{label_w + bar_w + 6}" y="{y + 14}" font-size="12" '
            f'fill="{_TEXT}">{m} of {n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
