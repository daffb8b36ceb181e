"""Column-generation pricing for one very large pool: the cost of pricing one block.

docs/scaling.md describes how a national peer pool too large for one machine
would run on the batch cluster: the master solves the matching LP over the
pairs it holds; workers score blocks of the pair space against the current
duals and return only the pairs whose reduced cost is positive
(``w_ij - u_i - u_j > 0``); the master adds them and re-solves until no block
returns a pair, which certifies the LP optimum over *every* pair.

This simulation measures the worker's side on one core: for square blocks of
a sampler pool, the time to compute the integer weights (every score and hard
rule, ``candidates.weight_matrix``) and the reduced costs and pick out the
violating pairs, and how many pairs (and bytes) go back.  Duals are a
mid-run stand-in: each person's ``u_i`` is half of their best weight over 200
random partners (the optimum's duals pay each person about half their
partner's weight), so a realistic share of pairs violates.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "pricing"
SEED = 3
PAIR_BYTES = 12  # two int32 indices and an int32 weight per returned pair


def _problem(size: int):  # type: ignore[no-untyped-def]
    import yaml

    import buddymatch

    WORK.mkdir(parents=True, exist_ok=True)
    profiles, scheme = WORK / f"pool-{size}.csv", WORK / "peer.yaml"
    if not profiles.exists():
        buddymatch.sample_profiles("peer", size, seed=SEED).to_csv(profiles, index=False)
    scheme.write_text(yaml.safe_dump(buddymatch.sample_scheme("peer"), sort_keys=False))
    return buddymatch.load_problem(profiles, scheme)


def _duals(problem, rng: np.random.Generator) -> np.ndarray:  # type: ignore[no-untyped-def]
    from buddymatch.candidates import weight_matrix

    people = problem.pool()
    sample = rng.choice(people, size=min(200, len(people)), replace=False)
    w = weight_matrix(problem, people, sample).astype(np.float64)
    return 0.5 * np.maximum(w.max(axis=1), 0.0)


def _price(problem, duals: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Seconds to price one block, and the number of violating pairs it returns."""
    from buddymatch.candidates import weight_matrix

    t0 = time.perf_counter()
    w = weight_matrix(problem, rows, cols)
    reduced = w - duals[rows][:, None] - duals[cols][None, :]
    found = np.nonzero((w >= 0) & (reduced > 0))
    return time.perf_counter() - t0, len(found[0])


def run(quick: bool) -> str:
    size, blocks = (2_000, (250, 500)) if quick else (8_000, (500, 1_000, 2_000))
    problem = _problem(size)
    rng = np.random.default_rng(SEED)
    duals = _duals(problem, rng)
    people = problem.pool()
    lines = [
        "## Column-generation pricing (docs/scaling.md): the cost of one block",
        "",
        f"Sampler pool of {size:,} (peer scheme of `sample_scheme('peer')`), one core. "
        "Per block: integer weights with every score and rule, reduced costs against the "
        "duals, violating pairs picked out. Mean of 3 blocks at random positions.",
        "",
        "| block | pairs priced | seconds | ns per pair | violating pairs returned "
        "| bytes returned |",
        "|---|---|---|---|---|---|",
    ]
    per_pair = []
    for b in blocks:
        times, found = [], []
        for _ in range(3):
            rows, cols = (np.sort(rng.choice(people, b, replace=False)) for _ in range(2))
            seconds, count = _price(problem, duals, rows, cols)
            times.append(seconds)
            found.append(count)
        t, f = float(np.mean(times)), float(np.mean(found))
        per_pair.append(t / (b * b))
        lines.append(
            f"| {b:,} × {b:,} | {b * b:,} | {t:.3f} | {t / (b * b) * 1e9:.0f} | "
            f"{f:,.0f} ({f / (b * b):.2%}) | {f * PAIR_BYTES / 1e3:,.1f} kB |"
        )
    ns = min(per_pair)
    national = 200_000
    total = national * (national - 1) / 2
    lines += [
        "",
        f"At the best rate ({ns * 1e9:.0f} ns a pair), one full pricing round over a national "
        f"pool of {national:,} ({total:,.0f} pairs) is {total * ns / 3600:.1f} core-hours: "
        f"{total * ns / 60 / 16:.1f} minutes on 16 worker cores, and only the violating "
        "pairs travel back to the master.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
