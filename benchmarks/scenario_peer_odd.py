"""Odd peer pools cost about what even ones do (issue: 2,001 people took 240 s vs 6.4 s).

The sampler's peer scheme (``constraints/peer.yaml``, one round) with an even
pool and a pool one person larger, each through the whole pipeline in a
fresh subprocess (see ``scenario_peer_run``): the odd pool needs a trio,
chosen from the pairs' duals and certified.  Reports both runs side
by side and the ratio, plus the solver alone on the structured weights of
``scenario_peer`` (same seed, odd vs even).
"""

from __future__ import annotations

import os
import sys
import time

from benchmarks.memory import in_fresh_process
from benchmarks.scenario_peer import make_weights


def _whole_run(size: int) -> dict:
    return in_fresh_process("benchmarks.scenario_peer_run", "worker", size)


def _solver_only(n: int) -> tuple[float, str, int]:
    from buddymatch.solvers.pairing import solve_pairing

    solve_pairing(make_weights(31, seed=2), leftover="trio")  # compiled kernels loaded
    w = make_weights(n, seed=7)
    t = time.process_time()
    out = solve_pairing(w, objective="max-matched", leftover="trio")
    return time.process_time() - t, out.status.value, len(out.trios)


def _row(size: int, r: dict) -> str:
    gap = "–" if r["gap"] is None else f"{100 * r['gap']:.4f} %"
    return (
        f"| {size:,} | {r['seconds']:.1f} | {r['cpu_s']:.1f} | {r['peak_mb']:.0f} | "
        f"{r['status']} | {gap} | "
        f"{r['matched']:,} | {r['units']:,} |"
    )


def run(quick: bool) -> str:
    sizes = (300, 2_000) if quick else (2_000, 20_000)
    lines = [
        "## Peer: odd pools vs even pools",
        "",
        "Whole runs (sampler profiles seed 5, `constraints/peer.yaml` for one round, forbid "
        "rule left out; read, score, rules, certified pairing, independent check, "
        "explanations, write), each in a fresh subprocess; the odd pool (one more sampled "
        "person) gets a trio. 2 shared cores.",
        "",
        "| people | seconds (whole run) | CPU s | peak RSS MB | status | gap | matched "
        "| pairs + trio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ratios = []
    for size in sizes:
        load = os.getloadavg()[0]
        even, odd = _whole_run(size), _whole_run(size + 1)
        lines += [_row(size, even), _row(size + 1, odd)]
        ratios.append(
            f"{size + 1:,} vs {size:,}: {odd['seconds'] / even['seconds']:.2f}× wall, "
            f"{odd['cpu_s'] / even['cpu_s']:.2f}× CPU (load average {load:.1f} before)"
        )
    lines += ["", "Odd / even (whole run): " + "; ".join(ratios) + ".", ""]
    n = sizes[0]
    t_even, s_even, _ = _solver_only(n)
    t_odd, s_odd, trios = _solver_only(n + 1)
    lines += [
        f"Solver alone (structured weights of the one-pool section, seed 7, max-matched, "
        f"trio allowed; CPU seconds): {n:,} people {t_even:.2f} s ({s_even}), {n + 1:,} people "
        f"{t_odd:.2f} s ({s_odd}, {trios} trio): {t_odd / t_even:.2f}×.",
        "",
        f"Command: `.venv/bin/python -m benchmarks.run peer_odd{' --quick' if quick else ''}`.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
