"""MDGPLIB: the grouping solver against the published state of the art (TPSDP, Yang et al. 2022).

Each instance is solved with a fixed time limit per size (full: 60 s at n = 120 and 240,
120 s at n = 480, the budgets of the literature; quick: the three ``ss_01`` instances at
n = 120 with 5 s each).  The gap is ``(reference - ours) / reference`` against
``reference_values.csv`` (negative: better than the reference).  Side by side, the same
instances get a plain baseline — steepest swap descent from random starts, best of ten —
which is what simple local search reaches.

All 54 large instances take about an hour; choose a subset with the environment variable
``MDGP_INSTANCES`` (comma-separated globs, e.g. ``"*_n120_ss_*,RanReal_n240_ss_*"``) and
scale limits with ``MDGP_TIME_SCALE`` (e.g. ``0.5``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from benchmarks.mdgplib import instance_paths, load_instance, reference_values
from benchmarks.memory import peak_mb
from buddymatch.solvers.groups import kernel as K
from buddymatch.solvers.groups import solve_groups

DATA = Path(
    os.environ.get(
        "MDGPLIB_DIR", Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mdgplib"
    )
)
LIMITS = {120: 60.0, 240: 60.0, 480: 120.0}


def baseline(benefit: np.ndarray, lower: np.ndarray, upper: np.ndarray, starts: int = 10) -> float:
    """Best of ``starts`` steepest-descent runs (one-moves and swaps) from random groupings."""
    n, G = benefit.shape[0], len(lower)
    rng = np.random.default_rng(0)
    ptr = np.zeros(n + 1, np.int64)
    idx = np.zeros(0, np.int64)
    none = np.zeros(0, np.int64)
    no_families = np.zeros((0, 3), np.int64)
    best = -np.inf
    for s in range(starts):
        a = np.repeat(np.arange(G), lower)
        extra = rng.permutation(np.repeat(np.arange(G), upper - lower))[: n - a.size]
        a = rng.permutation(np.concatenate([a, extra])).astype(np.int64)
        M, sizes, cnt, f = K.build_state(benefit, a, G, ptr, idx, 0)
        state = np.array([np.uint64(12345 + s)], np.uint64)
        out = np.empty_like(a)
        f, _ = K.tabu_search(
            benefit, a, M, sizes, cnt, f, lower, upper, ptr, idx, none, none, none,
            no_families, np.ones(n, np.bool_), 10**9, 1, 1, 0, state, out,
        )  # fmt: skip
        best = max(best, f)
    return float(best)


def run(quick: bool) -> str:
    if not (DATA / "reference_values.csv").exists():
        return f"## MDGPLIB (grouping solver)\n\nSkipped: no instances at {DATA}.\n"
    refs = reference_values(DATA)
    if quick:
        patterns = ["*_n120_ss_01"]
    else:
        patterns = os.environ.get("MDGP_INSTANCES", "*_n120_*,*_n240_*,*_n480_*").split(",")
    scale = float(os.environ.get("MDGP_TIME_SCALE", "1"))
    paths = sorted({p for pat in patterns for p in instance_paths(DATA, pat)})
    rows = []
    per_size: dict[int, list[tuple[float, float]]] = {}
    for path in paths:
        inst = load_instance(path)
        n = inst.benefit.shape[0]
        limit = (5.0 if quick else LIMITS.get(n, 60.0)) * scale
        t = time.perf_counter()
        out = solve_groups(inst.benefit, inst.lower, inst.upper, time_limit=limit, seed=1)
        took = time.perf_counter() - t
        ref = refs[inst.name][0]
        base = baseline(inst.benefit, inst.lower, inst.upper)
        gap = (ref - out.objective) / ref
        base_gap = (ref - base) / ref
        per_size.setdefault(n, []).append((gap, base_gap))
        rows.append(
            f"| {inst.name} | {limit:.0f} | {took:.1f} | {ref:,.2f} | {out.objective:,.2f} | "
            f"{gap:.4%} | {base_gap:.3%} | {out.stats.get('generations')} |"
        )
        print(rows[-1], flush=True)
    peak = peak_mb()
    summary = [
        f"| n = {n} | {len(v)} | {np.mean([g for g, _ in v]):.4%} | "
        f"{max(g for g, _ in v):.4%} | {np.mean([b for _, b in v]):.3%} |"
        for n, v in sorted(per_size.items())
    ]
    return (
        "\n".join(
            [
                "## MDGPLIB (grouping solver)",
                "",
                "Gap = (reference − ours) / reference against `reference_values.csv` (TPSDP best "
                "known); negative = better than the reference. Baseline: best of 10 steepest "
                "descents from random starts. Seed 1, one thread, machine shared with other jobs.",
                f"Instances: {', '.join(patterns)}; time scale {scale}.",
                "",
                "| size | instances | mean gap | worst gap | baseline mean gap |",
                "|---|---:|---:|---:|---:|",
                *summary,
                "",
                "| instance | limit (s) | time (s) | reference | ours | gap | baseline gap | "
                "generations |",
                "|---|---:|---:|---:|---:|---:|---:|---:|",
                *rows,
                "",
                f"Peak RSS {peak:,.0f} MiB.",
            ]
        )
        + "\n"
    )
