"""Re-matching a running mentoring programme vs matching everyone again.

A sampler programme of N people (2,000; quick mode 500) is matched once.  The
next intake loses 10 % of the people, gains 5 % new ones and 3 % change band
(one step up).  Side by side in one process (imports and numba compilation
warmed up first, so every run pays the same):

- ``original``: the first ``match`` (the run a re-match avoids repeating);
- ``match again``: ``match`` on the new intake — what every tool does today;
- ``rematch``: ``rematch`` of the first result on the new intake, ``--max-changes 0``;
- ``rematch K=5``: the same with ``max_changes=5``.

Reported: seconds (best of 3), pairs made, pairs kept from the first result,
and how many of the first result's still-valid pairs ``match again``
reshuffles.  The re-match's new pairs are checked against an independent
maximum flow (networkx) on the free places: it places the rest optimally.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "rematch"
SEED = 7


def make_scenario(size: int, folder: Path, seed: int = SEED) -> tuple[Path, Path, Path]:
    """(first intake, scheme, next intake) for a programme of ``size`` people.

    Next intake: 10 % gone, 5 % joined (new ids after the first intake's), 3 %
    of the rest one band up (the top band one down).  Deterministic.
    """
    import buddymatch

    folder.mkdir(parents=True, exist_ok=True)
    first, scheme, later = folder / "profiles.csv", folder / "scheme.yaml", folder / "later.csv"
    if first.exists() and scheme.exists() and later.exists():
        return first, scheme, later
    df = buddymatch.sample_profiles("mentoring", size, seed=seed)
    df.to_csv(first, index=False)
    scheme.write_text(yaml.safe_dump(buddymatch.sample_scheme("mentoring"), sort_keys=False))
    rng = np.random.default_rng(seed)
    gone = rng.choice(size, size=size // 10, replace=False)
    rest = df.drop(index=gone).copy()
    bands = list(
        buddymatch.sample_scheme("mentoring")["participants"]["attributes"]["band"]["scale"]
    )
    moved = rng.choice(rest.index.to_numpy(), size=max(1, size * 3 // 100), replace=False)
    for i in moved.tolist():
        k = bands.index(rest.at[i, "Band"])
        rest.at[i, "Band"] = bands[k + 1] if k + 1 < len(bands) else bands[k - 1]
    joiners = buddymatch.sample_profiles("mentoring", max(1, size // 20), seed=seed + 1)
    joiners["Email"] = [f"p{size + 1 + k:05d}@example.nhs.uk" for k in range(len(joiners))]
    pd.concat([rest, joiners], ignore_index=True).to_csv(later, index=False)
    return first, scheme, later


def reference_new_pairs(first, result) -> int:  # type: ignore[no-untyped-def]
    """Most new pairs the free places allow, by networkx maximum flow (independent of buddymatch's
    solvers): kept pairs use their places; previous pairs not kept are not allowed again."""
    import networkx as nx

    from buddymatch.candidates import weight_matrix

    problem = result.problem
    index = {v: i for i, v in enumerate(problem.ids)}
    rows = result.matches[["mentor_id", "mentee_id", "kept"]].to_numpy().tolist()
    kept = [(index[a], index[b]) for a, b, k in rows if k]
    banned = {(index.get(a), index.get(b)) for a, b in _pairs(first.matches)} - set(kept)
    mentees, mentors = problem.mentees(), problem.mentors()
    cap = problem.capacity.astype(int).copy()
    want = problem.wants.astype(int).copy()
    for a, b in kept:
        cap[a] -= 1
        want[b] -= 1
    w = weight_matrix(problem, mentees, mentors)
    g = nx.DiGraph()
    for r, c in zip(*np.nonzero(w >= 0), strict=True):
        i, j = int(mentees[r]), int(mentors[c])
        if want[i] > 0 and cap[j] > 0 and (j, i) not in banned:
            g.add_edge(("e", i), ("m", j), capacity=1)
    for i in mentees.tolist():
        if want[i] > 0 and g.has_node(("e", i)):
            g.add_edge("s", ("e", i), capacity=int(want[i]))
    for j in mentors.tolist():
        if cap[j] > 0 and g.has_node(("m", j)):
            g.add_edge(("m", j), "t", capacity=int(cap[j]))
    if "s" not in g or "t" not in g:
        return 0
    return int(nx.maximum_flow_value(g, "s", "t"))


def _best_of(n: int, func) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, out = float("inf"), None
    for _ in range(n):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(map(tuple, frame[["mentor_id", "mentee_id"]].to_numpy().tolist()))


def measure(size: int, repeats: int = 3) -> dict[str, float | int | str]:
    import buddymatch

    first_csv, scheme, later_csv = make_scenario(size, WORK / str(size))
    buddymatch.match(first_csv, scheme)  # warm-up: imports, numba compilation
    t_first, first = _best_of(repeats, lambda: buddymatch.match(first_csv, scheme))
    t_again, again = _best_of(repeats, lambda: buddymatch.match(later_csv, scheme))
    t_re, re = _best_of(repeats, lambda: buddymatch.rematch(first, later_csv, scheme))
    t_k, rek = _best_of(
        repeats, lambda: buddymatch.rematch(first, later_csv, scheme, max_changes=5)
    )
    kept = set(map(tuple, re.matches[re.matches["kept"]][["mentor_id", "mentee_id"]].to_numpy()))
    reshuffled = len(kept - _pairs(again.matches))
    reference = reference_new_pairs(first, re)
    new = int((~re.matches["kept"]).sum())
    if new != reference:
        raise AssertionError(f"rematch made {new} new pairs, the maximum flow allows {reference}")
    return {
        "size": size,
        "first_s": t_first,
        "again_s": t_again,
        "rematch_s": t_re,
        "rematch_k5_s": t_k,
        "pairs_first": len(first.matches),
        "pairs_again": len(again.matches),
        "pairs_rematch": len(re.matches),
        "pairs_rematch_k5": len(rek.matches),
        "changes_k5": rek.summary["rematch"]["changes_used"],
        "kept": len(kept),
        "ended": re.summary["rematch"]["ended"],
        "new": new,
        "reshuffled": reshuffled,
        "status": re.summary["status"],
    }


def scale_worker(size: int, step: str) -> dict[str, float | int | str]:
    """One step of the programme at ``size`` in this (fresh) process: ``first`` writes the
    first result's folder, ``again`` matches the later intake, ``rematch`` re-matches the
    folder on it.  Seconds include reading and writing; peak RSS is this process's."""
    import shutil

    import buddymatch
    from benchmarks.memory import peak_mb

    folder = WORK / f"scale-{size}"
    first_csv, scheme, later_csv = make_scenario(size, folder)
    out = folder / f"out-{step}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    if step == "first":
        result = buddymatch.match(first_csv, scheme)
    elif step == "again":
        result = buddymatch.match(later_csv, scheme)
    else:
        result = buddymatch.rematch(folder / "out-first", later_csv, scheme)
    result.write(out, force=True)
    s = result.summary
    return {
        "seconds": time.perf_counter() - t0,
        "peak_mb": peak_mb(),
        "status": s["status"],
        "pairs": len(result.matches),
        "kept": int(result.matches["kept"].sum()) if "kept" in result.matches else 0,
    }


def _scale(size: int) -> list[dict[str, float | int | str]]:
    from benchmarks.memory import in_fresh_process

    return [
        {
            "step": step,
            **in_fresh_process("benchmarks.scenario_rematch", "scale_worker", size, step),
        }
        for step in ("first", "again", "rematch")
    ]


def run(quick: bool) -> str:
    sizes = [500] if quick else [500, 2000]
    rows = [measure(n) for n in sizes]
    big = 5_000 if quick else 100_000
    scaled = _scale(big)
    lines = [
        "## Re-matching a running programme (scenario_rematch)",
        "",
        "Mentoring programme from the sampler; next intake: 10 % left, 5 % joined, 3 % "
        "changed band. Best of 3 in one warmed-up process. `match again` is what tools "
        "do today; `reshuffled` counts the first result's pairs that are still valid "
        "(the re-match keeps them) but that matching again breaks. The re-match's new "
        "pairs equal an independent networkx maximum flow on the free places.",
        "",
        "| people | original match s | match again s | rematch s | rematch K=5 s | "
        "rematch / match again | pairs (again / rematch / K=5) | kept | ended | new | "
        "reshuffled by match again | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']:,} | {r['first_s']:.2f} | {r['again_s']:.2f} | {r['rematch_s']:.2f} | "
            f"{r['rematch_k5_s']:.2f} | {float(r['rematch_s']) / float(r['again_s']):.2f} | "
            f"{r['pairs_again']} / {r['pairs_rematch']} / {r['pairs_rematch_k5']} "
            f"({r['changes_k5']} broken) | {r['kept']} | {r['ended']} | {r['new']} | "
            f"{r['reshuffled']} | {r['status']} |"
        )
    names = {
        "first": "first match",
        "again": "match again (later intake)",
        "rematch": "rematch (later intake)",
    }
    lines += [
        "",
        f"At scale: {big:,} people, each step in a fresh process (start-up, reading and "
        "writing included; the re-match reads the first result's folder). The pair space "
        "is stored by profile class in all three (`candidates.pair_weights`).",
        "",
        "| step | seconds | peak RSS MB | pairs | kept | status |",
        "|---|---|---|---|---|---|",
    ]
    for r in scaled:
        lines.append(
            f"| {names[str(r['step'])]} | {float(r['seconds']):.1f} | "
            f"{float(r['peak_mb']):,.0f} | {r['pairs']:,} | {r['kept']:,} | {r['status']} |"
        )
    lines += [
        "",
        f"Command: `.venv/bin/python -m benchmarks.run rematch{' --quick' if quick else ''}`.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick=True))
