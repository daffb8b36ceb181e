"""Objectives on one input: fair and priorities against max-matched (the whole run).

The input of ``scenario_mentoring_run`` (10,000 mentees × 2,500 mentors of
capacity 4, different organisation + band gap + forbidden pairs; quick: 2,000 ×
500).  Each objective runs in a fresh subprocess, after a tiny warm-up match
that loads the compiled kernels: ``max-matched``, ``fair``, and the Civil
Service priorities ``[mentees-covered, mentors-covered, pairs, score]``.  The
whole run (read, score, rules, certified solve, check, explanations, write) is
timed; CPU seconds are the process's own (the machine is shared).

Also on the sampler's own mentoring scheme at 10,000 people (quick: 2,000),
the input of ``scenario_mentoring_scale``.  Goal (issue 11): fair ≤ 3×
max-matched on the same input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks.scenario_mentoring_run import prepare

OBJECTIVES = {
    "max-matched": "max-matched",
    "fair": "fair",
    "priorities": {"priorities": ["mentees-covered", "mentors-covered", "pairs", "score"]},
}

_WORKER = r"""
import json, resource, sys, time
import yaml
import buddymatch
profiles, scheme, objective, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
tiny = buddymatch.sample_profiles("mentoring", 40, seed=1)
buddymatch.match(tiny, buddymatch.sample_scheme("mentoring"))  # load the compiled kernels
data = yaml.safe_load(open(scheme, encoding="utf-8"))
data["objective"] = objective
scheme = scheme.replace("scheme.yaml", "scheme-objective.yaml")  # next to forbid.csv
with open(scheme, "w", encoding="utf-8") as f:
    yaml.safe_dump(data, f, sort_keys=False)

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

c0, t0 = cpu(), time.perf_counter()
result = buddymatch.match(profiles, scheme)
result.write(out, force=True)
seconds, cpu_s = time.perf_counter() - t0, cpu() - c0
s = result.summary
print(json.dumps({"seconds": seconds, "cpu": cpu_s, "status": s["status"],
                  "value": s["objective_value"], "pairs": s["units"], "matched": s["matched"],
                  "lowest": s["lowest_score"], "priorities": s.get("priorities")}))
"""


def _sub(profiles, scheme, objective) -> dict:  # type: ignore[no-untyped-def]
    out = profiles.parent / "out-objective"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _WORKER,
            str(profiles),
            str(scheme),
            json.dumps(objective),
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _rows(results: dict[str, dict]) -> list[str]:
    base = results["max-matched"]
    lines = []
    for name, r in results.items():
        levels = ""
        if r["priorities"]:
            levels = ", ".join(
                f"{p['name']} {p['value']:,.0f}" + ("" if p["value"] == p["bound"] else " (!)")
                for p in r["priorities"]
            )
        lines.append(
            f"| {name} | {r['seconds']:.2f} | {r['cpu']:.2f} | {r['cpu'] / base['cpu']:.2f} | "
            f"{r['status']} | {r['pairs']:,} | {r['matched']:,} | {r['lowest']} | {levels} |"
        )
    return lines


def _ratios(results: dict[str, dict]) -> str:
    base = results["max-matched"]
    fair = results["fair"]
    ratio = fair["cpu"] / base["cpu"]
    return (
        f"fair ÷ max-matched: {ratio:.2f}× CPU "
        f"({fair['seconds'] / base['seconds']:.2f}× wall; goal ≤ 3×: "
        f"{'met' if ratio <= 3 else 'NOT met'}); priorities ÷ max-matched: "
        f"{results['priorities']['cpu'] / base['cpu']:.2f}× CPU."
    )


HEAD = [
    "| objective | seconds | CPU s | × max-matched (CPU) | status | pairs | people matched "
    "| lowest score | levels (value = bound) |",
    "|---|---|---|---|---|---|---|---|---|",
]


def run(quick: bool) -> str:
    from benchmarks.scenario_mentoring_scale import prepare as sampler

    size = 2_000 if quick else 10_000
    folder = sampler(size)
    load_s = os.getloadavg()[0]
    on_sampler = {
        name: _sub(folder / "profiles.csv", folder / "scheme.yaml", obj)
        for name, obj in OBJECTIVES.items()
    }
    n, m, cap = (2_000, 500, 4) if quick else (10_000, 2_500, 4)
    profiles, scheme = prepare(n, m, cap)
    load = os.getloadavg()[0]
    results = {name: _sub(profiles, scheme, obj) for name, obj in OBJECTIVES.items()}
    lines = [
        "## Mentoring objectives on one input: fair and priorities vs max-matched",
        "",
        "Whole run (read, score, rules, certified solve, check, explanations, write), each "
        "objective in a fresh subprocess after a warm-up; CPU seconds are the process's own "
        "(2 shared cores). Goal (issue 11): fair ≤ 3× max-matched on the same input "
        "(the sampler's mentoring scheme unless said).",
        "",
        f"**The sampler's mentoring scheme, {size:,} people** (seed 1, as in the scale "
        f"scenario); load average {load_s:.1f} at the start.",
        "",
        *HEAD,
        *_rows(on_sampler),
        "",
        _ratios(on_sampler),
        "",
        f"**The input of `scenario_mentoring_run`** ({n:,} mentees × {m:,} mentors of capacity "
        f"{cap}, different organisation, band gap 0–3, forbidden pairs: half the pairs "
        f"allowed, many tied weights); load average {load:.1f} at the start.",
        "",
        *HEAD,
        *_rows(results),
        "",
        _ratios(results),
        "",
        "Command: `.venv/bin/python -m benchmarks.run mentoring_objectives`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
