"""Peer buddy pairs for a large pool through the whole pipeline (issue: 20,000 people).

Sampler profiles (seed fixed) with constraints/peer.yaml for one round, then
for its three rounds as shipped: read, score every pair (400M at 20,000),
rules, certified pairing per round, independent check, explanations, write.
Reports time, peak memory and the gap to the certified upper bound from
summary.json; the solver-level figures against rustworkx are in the "Peer
pairing (one pool)" section.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from benchmarks.memory import in_fresh_process

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "peer"
SEED = 5


def worker(size: int, rounds: int = 1) -> dict:
    import shutil

    import yaml

    import buddymatch
    from benchmarks.memory import peak_mb

    folder = WORK / str(size)
    folder.mkdir(parents=True, exist_ok=True)
    profiles, scheme = folder / "profiles.csv", folder / f"peer-{rounds}.yaml"
    if not profiles.exists():
        buddymatch.sample_profiles("peer", size, seed=SEED).to_csv(profiles, index=False)
    data = yaml.safe_load((HERE.parent / "constraints" / "peer.yaml").read_text())
    data["rounds"] = rounds
    data["rules"] = [r for r in data["rules"] if "forbid" not in r]
    scheme.write_text(yaml.safe_dump(data, sort_keys=False))
    out = folder / f"out-{rounds}"
    shutil.rmtree(out, ignore_errors=True)
    t0, c0 = time.perf_counter(), time.process_time()
    result = buddymatch.match(profiles, scheme)
    result.write(out, force=True)
    s = result.summary
    return {
        "seconds": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "peak_mb": peak_mb(),
        "status": s["status"],
        "gap": s["gap"],
        "matched": s["matched"],
        "units": s["units"],
        "rounds": [x["status"] for x in s.get("rounds", [])] or [s["status"]],
    }


def run(quick: bool) -> str:
    size = 2_000 if quick else 20_000
    rows = []
    for rounds in (1, 3):
        r = in_fresh_process("benchmarks.scenario_peer_run", "worker", size, rounds)
        gap = "–" if r["gap"] is None else f"{100 * r['gap']:.3f} %"
        rows.append(
            f"| {size:,} | {rounds} | {r['seconds']:.1f} | {r['cpu_s']:.1f} | "
            f"{r['peak_mb']:.0f} | {', '.join(r['rounds'])} | {gap} | {r['matched']:,} | "
            f"{r['units']:,} |"
        )
    return "\n".join(
        [
            "## Peer: a large pool through the whole pipeline",
            "",
            f"{size:,} sampler profiles (seed {SEED}), `constraints/peer.yaml` (different "
            "organisation, band gap ≤ 3, interests, region, availability, profession) for "
            "one round, then for its three rounds as shipped (no pair meets twice). Each "
            "whole run in a fresh subprocess: read, score every pair, rules, certified "
            "pairing per round, independent check, explanations, write. 2 shared cores.",
            "",
            "| people | rounds | seconds (whole run) | CPU s | peak RSS MB | status per round "
            "| gap to certified bound | matched | pairs + trios (all rounds) |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Load average (1 min) {os.getloadavg()[0]:.1f} after the runs. Command: "
            f"`.venv/bin/python -m benchmarks.run peer_run{' --quick' if quick else ''}`.",
            "",
        ]
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
