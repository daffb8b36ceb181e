"""One run, as a Dask task: match, write the run's folder atomically, return its row.

Runs on a worker process (local or remote), so it takes and returns plain data.
A run's own problem (bad input, rules that cannot hold) is caught and returned
as a failed row with the library's message, which names files, rows and
columns but never a person; anything else is reported by its type only.  The
folder is written with :meth:`MatchResult.write` (staged, then renamed into
place), so a worker lost mid-write leaves no partial folder, and a retry
writes the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import buddymatch
from buddymatch.errors import BuddymatchError
from buddymatch.io.inputs import describe_inputs, run_inputs

from .plan import RunSpec

COLUMNS = (
    "run",
    "entry",
    "split",
    "settings",
    "status",
    "scheme",
    "participants",
    "matched",
    "unmatched",
    "pairs_or_groups",
    "mean_score",
    "lowest_score",
    "cross_org_share",
    "runtime_s",
    "error",
)
"""The columns of OUT/batch.csv, in order."""

FAILED = "failed"
_ID_COLUMNS = ("mentor_id", "mentee_id", "member_a", "member_b", "member_c")


def execute_run(spec: RunSpec) -> dict[str, Any]:
    """Run ``spec`` and write ``spec.out_dir``; return its batch.csv row (never raises)."""
    started = time.perf_counter()
    try:
        result = buddymatch.match(list(spec.profiles), spec.scheme, **spec.options)
        files = run_inputs(
            [Path(p) for p in spec.profiles], Path(spec.scheme), result.problem.scheme
        )
        # names, paths relative to the run's folder and hashes: no absolute path is recorded
        result.summary["inputs"] = describe_inputs(Path(spec.out_dir), files)
        result.write(spec.out_dir, fmt=spec.fmt, force=True)
    except BuddymatchError as exc:
        return failed_row(spec, " | ".join(exc.lines))
    except Exception as exc:  # a bug; its text could quote data, so only its type
        return failed_row(spec, f"internal error ({type(exc).__name__})")
    row = ok_row(spec, result.summary, cross_org_share(result, spec.organisation))
    row["runtime_s"] = round(time.perf_counter() - started, 3)
    return row


def base_row(spec: RunSpec) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(run=spec.name, entry=spec.entry, split=spec.split, settings=spec.settings_text)
    return row


def failed_row(spec: RunSpec, error: str) -> dict[str, Any]:
    return {**base_row(spec), "status": FAILED, "error": error}


def ok_row(spec: RunSpec, summary: Mapping[str, Any], share: float | None) -> dict[str, Any]:
    row = base_row(spec)
    row.update(
        status=summary["status"],
        scheme=summary["scheme"],
        participants=summary["participants"],
        matched=summary["matched"],
        unmatched=summary["unmatched"],
        pairs_or_groups=summary["units"],
        mean_score=summary["mean_score"],
        lowest_score=summary["lowest_score"],
        cross_org_share=share,
    )
    return row


def cross_org_share(result: buddymatch.MatchResult, attribute: str) -> float | None:
    """Share of the people put together (each pair; each two members of a group or trio)
    whose ``attribute`` values differ; pairs with a blank value are not counted."""
    data = result.problem.attributes.get(attribute)
    if data is None or data.kind not in ("categorical", "ordinal"):
        return None
    index = {pid: i for i, pid in enumerate(result.problem.ids)}
    values = np.asarray(data.values)
    cross = known = 0
    for unit in _units(result.tables):
        codes = [int(values[index[m]]) for m in unit if m in index]
        for a, b in combinations(codes, 2):
            if a >= 0 and b >= 0:
                known += 1
                cross += a != b
    return round(cross / known, 4) if known else None


def _units(tables: Mapping[str, pd.DataFrame]) -> list[list[str]]:
    """The members of every pair, trio or group, as ids."""
    groups = tables.get("groups")
    if groups is not None and len(groups):
        keys = [c for c in ("round", "group") if c in groups.columns]
        grouped = groups.groupby(keys, sort=True)["participant_id"]
        return [[str(v) for v in members] for _, members in grouped]
    matches = tables.get("matches", pd.DataFrame())
    columns = [c for c in _ID_COLUMNS if c in matches.columns]
    rows = matches[columns].itertuples(index=False, name=None) if columns else []
    return [[str(v) for v in row if isinstance(v, str) and v] for row in rows]
