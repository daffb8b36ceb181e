"""Whole mentoring run vs scipy's dense assignment, including its scoring, cold and warm.

Profiles come from the sampler (seed fixed): 2,500 mentors of capacity 4 and
10,000 mentees (quick mode: 500 and 2,000).  Rules: different organisation,
mentor 0–3 bands above the mentee, and 20,000 forbidden mentor–mentee pairs
(quick: 2,000) from a file — about half of all pairs are allowed.  Criteria:
the sampler's (interests/expertise overlap, same region).  Objective
max-matched.

Side by side, each in a fresh subprocess:

- ``buddymatch``: ``buddymatch.match(...)`` then ``result.write(...)`` — read,
  validate, score, rules, certified min-cost flow, independent check,
  explanations and reasons, write the folder;
- ``scipy``: read and validate the same inputs (``load_problem``), score and
  apply the rules (``candidates.weight_matrix``: the same integer weights),
  expand each mentor ``capacity`` times and run ``linear_sum_assignment``
  (max-matched through a pair bonus larger than any total weight).  No check,
  no explanations, nothing written.

*Cold*: the first run in a fresh process, imports included (numba kernels
load from their on-disk cache); *warm*: the same run again in that process.
Objectives (pairs, total weight) must be equal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "mentoring-run"
SEED = 20261128


def _paths(n_mentees: int, n_mentors: int) -> tuple[Path, Path]:
    folder = WORK / f"{n_mentees}x{n_mentors}"
    return folder / "profiles.csv", folder / "scheme.yaml"


def prepare(n_mentees: int, n_mentors: int, capacity: int) -> tuple[Path, Path]:
    """Profiles, scheme and forbid list on disk (made once)."""
    import yaml

    import buddymatch

    profiles, scheme = _paths(n_mentees, n_mentors)
    if profiles.exists() and scheme.exists():
        return profiles, scheme
    profiles.parent.mkdir(parents=True, exist_ok=True)
    df = buddymatch.sample_profiles("mentoring", n_mentees + n_mentors, seed=SEED)
    df["I want to be a"] = ["Mentor"] * n_mentors + ["Mentee"] * n_mentees
    df["How many mentees can you take?"] = [str(capacity)] * n_mentors + [""] * n_mentees
    df.to_csv(profiles, index=False)
    rng = np.random.default_rng(SEED)
    n_forbid = 2 * n_mentees
    ids = df["Email"].to_numpy()
    forbid = np.stack(
        [
            ids[rng.integers(0, n_mentors, n_forbid)],
            ids[n_mentors + rng.integers(0, n_mentees, n_forbid)],
        ],
        axis=1,
    )
    (profiles.parent / "forbid.csv").write_text(
        "mentor,mentee\n" + "".join(f"{a},{b}\n" for a, b in forbid.tolist()), encoding="utf-8"
    )
    data = buddymatch.sample_scheme("mentoring")
    data["rules"] = [
        {"different": "organisation"},
        {"gap": {"attribute": "band", "min": 0, "max": 3}},
        {"forbid": {"file": "forbid.csv"}},
    ]
    scheme.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return profiles, scheme


_WORKER = r"""
import json, resource, sys, time
from benchmarks.memory import peak_mb
t_start = time.perf_counter()
method, profiles, scheme, out = sys.argv[1:5]

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

def run():
    if method == "buddymatch":
        import buddymatch
        result = buddymatch.match(profiles, scheme)
        result.write(out, force=True)
        return len(result.matches), result.summary["status"]
    import numpy as np
    from scipy.optimize import linear_sum_assignment
    from buddymatch.api import load_problem
    from buddymatch.candidates import weight_matrix
    problem = load_problem(profiles, scheme)
    mentees, mentors = problem.mentees(), problem.mentors()
    w = weight_matrix(problem, mentees, mentors)
    cap = problem.capacity[mentors]
    bonus = int(w.max()) * int(min(len(mentees), cap.sum())) + 1
    cost = np.repeat(np.where(w >= 0, -(w.astype(np.float64) + bonus), 0.0), cap, axis=1)
    rows, cols = linear_sum_assignment(cost)
    made = w[rows, np.repeat(np.arange(len(mentors)), cap)[cols]]
    made = made[made >= 0]
    return int(made.size), int(made.astype(np.int64).sum())

c0 = cpu()
first = run()
cold, cold_cpu = time.perf_counter() - t_start, cpu()
t1 = time.perf_counter()
second = run()
warm, warm_cpu = time.perf_counter() - t1, cpu() - cold_cpu
peak = peak_mb()
print(json.dumps({"cold": cold, "cold_cpu": cold_cpu, "warm": warm, "warm_cpu": warm_cpu,
                  "peak_mb": peak, "first": first, "second": second}))
"""


def _sub(method: str, profiles: Path, scheme: Path) -> dict:
    out = profiles.parent / f"out-{method}"
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, method, str(profiles), str(scheme), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _weight_of(profiles: Path, scheme: Path) -> tuple[int, int, float]:
    """(pairs, total weight) of buddymatch's written result on the same integer weights, and
    the share of pairs allowed (-1 when too large to count densely)."""
    import pandas as pd

    from buddymatch.api import load_problem
    from buddymatch.candidates import pair_weights

    problem = load_problem(profiles, scheme)
    mentees, mentors = problem.mentees(), problem.mentors()
    pw = pair_weights(problem, mentees, mentors)
    ids = {v: i for i, v in enumerate(problem.ids)}
    pos_e = {int(x): k for k, x in enumerate(mentees)}
    pos_o = {int(x): k for k, x in enumerate(mentors)}
    m = pd.read_csv(profiles.parent / "out-buddymatch" / "matches.csv")
    rows = np.array([pos_e[ids[e]] for e in m["mentee_id"]], np.int64)
    cols = np.array([pos_o[ids[o]] for o in m["mentor_id"]], np.int64)
    allowed = float((pw.dense() >= 0).mean()) if len(mentees) * len(mentors) <= 4e7 else -1.0
    return len(m), int(pw.at(rows, cols).astype(np.int64).sum()), allowed


def run(quick: bool) -> str:
    n, m, cap = (2_000, 500, 4) if quick else (10_000, 2_500, 4)
    profiles, scheme = prepare(n, m, cap)
    load = os.getloadavg()[0]
    ours = _sub("buddymatch", profiles, scheme)
    pairs, weight, allowed = _weight_of(profiles, scheme)
    base = _sub("scipy", profiles, scheme)
    same = (pairs, weight) == tuple(base["first"])
    lines = [
        "## Mentoring: the whole buddymatch run vs scipy's dense assignment (with its scoring)",
        "",
        f"Sampler profiles (seed {SEED}): {n:,} mentees, {m:,} mentors of capacity {cap}; rules "
        f"different organisation, band gap 0–3, {2 * n:,} forbidden pairs from a file "
        f"({allowed:.1%} of pairs allowed); the sampler's criteria; objective max-matched. "
        "buddymatch's time is the whole run (read, validate, score, rules, certified "
        "min-cost flow, independent check, explanations and reasons, write the folder); "
        f"scipy's is reading and validating, scoring and rules (the same weights), expanding "
        f"the {n:,} × {m * cap:,} matrix and `linear_sum_assignment`. *Cold* = a fresh "
        "process, imports included; *warm* = the same run again in it. CPU seconds are "
        f"this process's own (the machine has 2 shared cores; load average {load:.1f} at "
        "the start).",
        "",
        "| method | cold s | cold CPU s | warm s | warm CPU s | peak RSS MB | pairs "
        "| total weight |",
        "|---|---|---|---|---|---|---|---|",
        f"| buddymatch (whole run) | {ours['cold']:.2f} | {ours['cold_cpu']:.2f} | "
        f"{ours['warm']:.2f} | {ours['warm_cpu']:.2f} | {ours['peak_mb']:.0f} | {pairs:,} | "
        f"{weight:,} |",
        f"| scipy (score + solve) | {base['cold']:.2f} | {base['cold_cpu']:.2f} | "
        f"{base['warm']:.2f} | {base['warm_cpu']:.2f} | {base['peak_mb']:.0f} | "
        f"{base['first'][0]:,} | {base['first'][1]:,} |",
        "",
        f"scipy ÷ buddymatch: cold {base['cold'] / ours['cold']:.1f}× "
        f"(CPU {base['cold_cpu'] / ours['cold_cpu']:.1f}×), "
        f"warm {base['warm'] / ours['warm']:.1f}× "
        f"(CPU {base['warm_cpu'] / ours['warm_cpu']:.1f}×); goal ≥ 10× cold and warm. "
        f"Same pairs and total weight: {'yes' if same else 'NO'}; buddymatch status "
        f"{ours['first'][1]}. Command: `.venv/bin/python -m benchmarks.run mentoring_run`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
