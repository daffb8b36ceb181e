"""Synthetic cohort sampler and CSV reader at 1,000,000 rows.

`buddymatch sample` must produce realistic sheets big enough to stress every
solver, in seconds.  Compared side by side, at the same size and in the same
run: the vectorised sampler against a straightforward per-row Python sampler
drawing the same columns with ``random.Random`` (what one writes first).  At
full size the vectorised sampler, ``write_sample`` (CSV + YAML on disk) and
``read_table`` on the written CSV are each timed in a fresh subprocess, so the
peak resident memory (``ru_maxrss``) belongs to that step alone.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

_STEP = textwrap.dedent(
    """
    import json, resource, sys, time
    from benchmarks.memory import peak_mb
    from pathlib import Path
    import numpy as np, pandas as pd
    from buddymatch.sample import sample_profiles, write_sample
    from buddymatch.io.readers import read_table

    step, size, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    base = int(peak_mb() * 1024)
    t = time.perf_counter()
    if step == "sample":
        rows = len(sample_profiles("mentoring", size, 1))
    elif step == "write":
        paths = write_sample("mentoring", size, 1, folder, force=True)
        rows = size
    else:
        rows = len(read_table(folder / "profiles.csv").frame)
    seconds = time.perf_counter() - t
    peak = int(peak_mb() * 1024)
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_kb": peak, "base_kb": base}))
    """
)


def _subprocess(step: str, size: int, folder: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _STEP, step, str(size), str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def naive_sample(size: int, seed: int) -> list[dict[str, str]]:
    """Per-row baseline: the same columns and distributions, one Python loop iteration per row."""
    from buddymatch import sample as s

    rnd = random.Random(seed)
    n_orgs = max(8, round(1.2 * max(size, 1) ** 0.6))
    types = rnd.choices(range(len(s.ORG_TYPES)), weights=list(s._ORG_SHARE), k=n_orgs)
    weights = [s._ORG_WEIGHT[t] * min(rnd.paretovariate(1.3), s._ORG_SPREAD[t]) for t in types]
    names = [f"Org {i}" for i in range(n_orgs)]
    regions = [rnd.randrange(len(s.REGIONS)) for _ in range(n_orgs)]
    rows = []
    for i in range(size):
        org = rnd.choices(range(n_orgs), weights=weights)[0]
        t = types[org]
        role = rnd.choices(range(3), weights=[0.3, 0.6, 0.1])[0]
        prof = rnd.choices(range(len(s.PROFESSIONS)), weights=list(s._PROF_W[t]))[0]
        band = rnd.choices(range(len(s.BANDS)), weights=list(s._BAND_W[role]))[0]
        topic_w = list(s._TOPIC_W[prof])
        needs = _pick(rnd, s.TOPICS, topic_w, rnd.randint(0, 4))
        offers = _pick(rnd, s.TOPICS, topic_w, rnd.randint(0, 5))
        slots = _pick(rnd, s.SLOTS, list(s._SLOT_W), rnd.randint(1, 4))
        rows.append(
            {
                s.EMAIL: f"p{i + 1:05d}@example.nhs.uk",
                s.NAME: f"{rnd.choice(s._FIRST)} {rnd.choice(s._LAST)}",
                s.ORGANISATION: names[org],
                s.ORG_TYPE: s.ORG_TYPES[t],
                s.ROLE: s.ROLES[role],
                s.CAPACITY: "" if role == 1 else str(rnd.randint(1, 4)),
                s.BAND: s.BANDS[band],
                s.PROFESSION: s.PROFESSIONS[prof],
                s.REGION: s.REGIONS[regions[org] if rnd.random() < 0.9 else rnd.randrange(5)],
                s.INTERESTS: needs,
                s.EXPERTISE: offers,
                s.AVAILABILITY: slots,
                s.FACILITATOR: "Yes" if rnd.random() < 0.15 else "No",
                s.YEARS: str(min(30, round(rnd.gammavariate(2.0, 3.0)))),
            }
        )
    return rows


def _pick(rnd: random.Random, items: tuple[str, ...], weights: list[float], k: int) -> str:
    chosen: set[int] = set()
    pool = list(range(len(items)))
    while len(chosen) < k:
        chosen.add(rnd.choices(pool, weights=weights)[0])
    return "; ".join(items[j] for j in sorted(chosen))


def run(quick: bool) -> str:
    from buddymatch.sample import sample_profiles

    load = os.getloadavg()[0]
    compare = 20_000 if quick else 100_000
    full = 50_000 if quick else 1_000_000

    t = time.perf_counter()
    sample_profiles("mentoring", compare, 1)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    import pandas as pd

    pd.DataFrame(naive_sample(compare, 1))
    naive = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        steps = {name: _subprocess(name, full, folder) for name in ("sample", "write", "read")}
        csv_mb = (folder / "profiles.csv").stat().st_size / 1024**2

    lines = [
        "## Synthetic cohort sampler",
        "",
        f"Per-row Python baseline vs vectorised sampler at {compare:,} rows (same columns and "
        "distributions, same process):",
        "",
        "| rows | per-row Python (s) | buddymatch (s) | speed-up |",
        "|---:|---:|---:|---:|",
        f"| {compare:,} | {naive:.2f} | {ours:.2f} | {naive / ours:.1f}x |",
        "",
        f"Full size, {full:,} rows, each step in a fresh subprocess (peak RSS of that process; "
        "'added' = peak minus RSS after imports):",
        "",
        "| step | seconds | rows/s | peak RSS (MB) | added (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    labels = {
        "sample": "`sample_profiles` (DataFrame in memory)",
        "write": f"`write_sample` (generate + {csv_mb:.0f} MB CSV + YAML, atomic)",
        "read": "`read_table` on that CSV",
    }
    for name, r in steps.items():
        lines.append(
            f"| {labels[name]} | {r['seconds']:.1f} | {r['rows'] / r['seconds']:,.0f} | "
            f"{r['peak_kb'] / 1024:.0f} | {(r['peak_kb'] - r['base_kb']) / 1024:.0f} |"
        )
    lines += [
        "",
        "Command: `.venv/bin/python -m benchmarks.run sampler"
        + (" --quick" if quick else "")
        + "`. Baseline and sampler run at the same size; nothing is extrapolated. "
        f"Machine load average at the start: {load:.1f} on {os.cpu_count()} cores (the machine "
        "is shared, so absolute seconds vary between runs; the ratio is the comparison).",
    ]
    return "\n".join(lines) + "\n"
