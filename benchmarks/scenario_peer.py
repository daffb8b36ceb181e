"""Peer buddy pairing: buddymatch vs rustworkx.max_weight_matching, large pools, rounds.

Scores are structured (seeded): each person has an organisation, a region, a
profession and a latent interest vector; a pair's score mixes "same region",
"same profession" and interest similarity (0..100 -> weight x1000).  About
half of all pairs are allowed: pairs inside one organisation are forbidden
plus a seeded random share of conflicts.  The big (n, n) int32 matrix is
filled in row blocks so generating it never needs more than the matrix.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

from benchmarks.memory import peak_mb
from buddymatch.solvers import NOT_ALLOWED
from buddymatch.solvers.pairing import solve_pairing


def make_weights(n: int, seed: int, allowed: float = 0.5) -> np.ndarray:
    """Structured random weights; about ``allowed`` of all pairs allowed."""
    rng = np.random.default_rng(seed)
    n_org = 6
    org = rng.integers(0, n_org, size=n)
    region = rng.integers(0, 7, size=n)
    prof = rng.integers(0, 12, size=n)
    z = rng.normal(size=(n, 6)).astype(np.float32)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    # With 6 organisations ~1/6 of pairs are same-organisation; top up with conflicts.
    p_conflict = max(0.0, 1.0 - allowed / (1.0 - 1.0 / n_org))
    w = np.empty((n, n), dtype=np.int32)
    step = max(1, 2_000_000 // max(n, 1))
    for s in range(0, n, step):
        e = min(n, s + step)
        sim = (z[s:e] @ z.T + 1.0) / 2.0
        score = 45.0 * sim + 30.0 * (region[s:e, None] == region[None, :])
        score += 25.0 * (prof[s:e, None] == prof[None, :])
        w[s:e] = np.rint(score * 1000.0).astype(np.int32)
    # Symmetric forbidden pairs: same organisation or a hash-seeded conflict.
    for s in range(0, n, step):
        e = min(n, s + step)
        i = np.arange(s, e, dtype=np.uint64)[:, None]
        j = np.arange(n, dtype=np.uint64)[None, :]
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        h = (lo * np.uint64(2654435761) + hi * np.uint64(40503) + np.uint64(seed)) % np.uint64(
            1_000_003
        )
        conflict = h.astype(np.float64) / 1_000_003 < p_conflict
        bad = (org[s:e, None] == org[None, :]) | conflict
        w[s:e][bad] = NOT_ALLOWED
    np.fill_diagonal(w, NOT_ALLOWED)
    return w


def _rustworkx(w: np.ndarray, max_cardinality: bool) -> tuple[float, float]:
    import rustworkx as rx

    iu, ju = np.nonzero(np.triu(w >= 0, 1))
    g = rx.PyGraph()
    g.add_nodes_from(range(w.shape[0]))
    g.extend_from_weighted_edge_list(
        list(zip(iu.tolist(), ju.tolist(), w[iu, ju].astype(int).tolist(), strict=True))
    )
    t = time.perf_counter()
    m = rx.max_weight_matching(g, max_cardinality=max_cardinality, weight_fn=lambda x: x)
    dt = time.perf_counter() - t
    return float(sum(int(w[a, b]) for a, b in m)), dt


def _child_peak_mb(code: str) -> tuple[str, float]:
    """Run ``code`` in a fresh interpreter; return its stdout and peak RSS (MB)."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = proc.stdout.strip().splitlines()
    return lines[-2], float(lines[-1]) / 1024.0


def _big_run(n: int) -> str:
    code = f"""
import resource, time
from benchmarks.scenario_peer import make_weights
from buddymatch.solvers.pairing import solve_pairing
w = make_weights({n}, seed=7)
t = time.perf_counter()
out = solve_pairing(w, objective="max-matched")
dt = time.perf_counter() - t
gap = (out.bound - out.objective) / out.bound
print(f"{{dt:.1f}}|{{gap:.2e}}|{{out.status.value}}|{{out.stats['people_placed']}}|"
      f"{{out.stats.get('candidate_pairs')}}|{{out.stats.get('pricing_rounds')}}")
from benchmarks.memory import peak_mb
print(int(peak_mb() * 1024))
"""
    line, peak = _child_peak_mb(code)
    dt, gap, status, placed, cand, rounds = line.split("|")
    return (
        f"| {n:,} | {dt} s | {float(gap) * 100:.4f} % | {status} | {placed} | {cand} | "
        f"{rounds} | {peak:,.0f} MB |"
    )


def run(quick: bool) -> str:
    from buddymatch.solvers.pairing import solve_rounds

    n1 = 300 if quick else 2_000
    n2 = 3_000 if quick else 20_000
    n3, rounds = (200, 6) if quick else (1_000, 12)
    load = os.getloadavg()[0]
    lines = ["## Peer pairing (one pool)", ""]
    w = make_weights(n1, seed=1)
    allowed = float((w >= 0).sum()) / (n1 * (n1 - 1))
    lines += [
        f"Structured scores, n = {n1:,}, {allowed:.0%} of pairs allowed "
        f"({int((w >= 0).sum()) // 2:,} edges). Same objective asserted; `optimal` means "
        "a dual certificate over every allowed pair (see docs/peer.md).",
        "",
        "| objective | buddymatch | status | rustworkx | speed-up |",
        "|---|---|---|---|---|",
    ]
    solve_pairing(make_weights(31, seed=2), objective="fair")  # compiled kernels loaded
    seconds = {}
    for objective, mc in (("max-score", False), ("max-matched", True)):
        t = time.perf_counter()
        out = solve_pairing(w, objective=objective, leftover="exclude")
        ours = seconds[objective] = time.perf_counter() - t
        ref, theirs = _rustworkx(w, mc)
        assert out.objective == ref, (objective, out.objective, ref)
        lines.append(
            f"| {objective} | {ours:.2f} s | {out.status.value} | {theirs:.2f} s | "
            f"{theirs / ours:.1f}x |"
        )
    t = time.perf_counter()
    fair = solve_pairing(w, objective="fair", leftover="exclude")
    ours = time.perf_counter() - t
    lines.append(
        f"| fair | {ours:.2f} s | {fair.status.value} | – | "
        f"{ours / seconds['max-matched']:.1f}× max-matched's time (bottleneck "
        f"{fair.stats['bottleneck']:,}) |"
    )
    lines += [
        "",
        f"Large pool (dense int32 matrix; generated in the child process, its "
        f"{n2 * n2 * 4 / 1e9:.1f} GB included in peak RSS), objective max-matched:",
        "",
        "| n | time | gap to bound | status | placed | candidate pairs | pricing rounds "
        "| peak RSS |",
        "|---|---|---|---|---|---|---|---|",
        _big_run(n2),
        "",
    ]
    w3 = make_weights(n3, seed=3)
    t = time.perf_counter()
    outs = solve_rounds(w3, rounds, objective="max-matched")
    dt = time.perf_counter() - t
    seen: set[tuple[int, int]] = set()
    repeats = 0
    for o in outs:
        met = [tuple(p) for p in o.pairs.tolist()]
        for a, b, c in o.trios.tolist():
            met += [(a, b), (a, c), (b, c)]
        for p in met:
            repeats += p in seen
            seen.add(p)
    placed = min(int(o.stats["people_placed"]) for o in outs)
    lines += [
        f"Rounds: {rounds} rounds x {n3:,} people in {dt:.1f} s; repeated pairs: {repeats}; "
        f"fewest placed in a round: {placed}; status of each round: "
        f"{', '.join(sorted({o.status.value for o in outs}))}.",
        "",
        f"Peak RSS of this process: {peak_mb():.0f}"
        f" MB. Load average (1 min) {load:.1f} before, {os.getloadavg()[0]:.1f} after (2 shared "
        f"cores). Command: `.venv/bin/python -m benchmarks.run peer{' --quick' if quick else ''}`.",
    ]
    return "\n".join(lines) + "\n"
