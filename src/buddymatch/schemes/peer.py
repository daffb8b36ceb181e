"""The peer (buddy) scheme: one pool, pairs plus one trio for odd numbers, in rounds.

Each round is an exact (or certified) maximum-weight pairing
(``solvers.pairing.solve_rounds``).  Pairs made in earlier rounds of the run
are not allowed again unless that is the only way to place someone (then the
repeat is reported); history pairs within the cooldown are cut and older ones
penalised by ``candidates.weight_matrix``.  Whoever sat out or was in the trio
before is pushed down the queue, so nobody is always the odd one out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..candidates import rule_cuts, weight_matrix
from ..check import check_pairs
from ..errors import InfeasibleError
from ..explain import all_of, no_partner_reason, pair_sentence
from ..model import Problem, criterion_name
from ..scoring import pair_layers, pair_scores
from ..solvers import WEIGHT_SCALE, Status
from ..solvers.pairing import solve_rounds
from .common import (
    RoundOutcome,
    excluded_reason,
    history_table,
    id_lookup,
    local_locks,
    lookup_id,
    not_allowed,
    round_numbers,
    score_breakdown,
)


@dataclass(frozen=True)
class PeerRun:
    tables: dict[str, pd.DataFrame]
    rounds: list[RoundOutcome]
    explain: Callable[[str, str], str]
    fairness: dict[str, Any]


def run(problem: Problem, *, time_limit: float | None) -> PeerRun:
    scheme = problem.scheme
    pool = problem.pool()
    base = weight_matrix(problem, pool, pool)
    locked = local_locks(problem, pool, pool, base, mentoring=False)
    results = solve_rounds(
        base,
        scheme.rounds,
        objective=scheme.objective,
        leftover=scheme.leftover,
        seed=scheme.solver.seed,
        time_limit=time_limit,
        locked=locked,
    )
    units_per_round: list[list[tuple[int, ...]]] = []
    outcomes: list[RoundOutcome] = []
    repeats: set[frozenset[int]] = set()
    for r, out in enumerate(results):
        if out.status in (Status.INFEASIBLE, Status.UNKNOWN):
            raise InfeasibleError(f"round {r + 1}: {out.stats.get('reason', 'no valid pairing')}")
        local = sorted(tuple(int(x) for x in u) for u in (*out.pairs.tolist(), *out.trios.tolist()))
        units_per_round.append([tuple(int(pool[i]) for i in u) for u in local])
        for pair in str(out.stats.get("repeated_pairs", "")).split(";"):
            if pair:
                a, b = (int(pool[int(x)]) for x in pair.split("-"))
                repeats.add(frozenset((a, b)))
        outcomes.append(
            RoundOutcome(
                status=out.status.value,
                objective_value=float(out.objective) / WEIGHT_SCALE,
                bound=None if out.bound is None else float(out.bound) / WEIGHT_SCALE,
                units=len(local),
                solver=str(out.stats.get("method", "blossom")),
                repeats=int(out.stats.get("repeats", 0)),
            )
        )
    scores = [[_unit_score(problem, u) for u in units] for units in units_per_round]
    check_pairs(problem, units_per_round, scores=scores, allowed_repeats=repeats)
    tables = {
        "matches": _matches_table(problem, units_per_round, scores),
        "unmatched": _unmatched_table(problem, pool, units_per_round),
    }
    tables["history"] = history_table(
        problem, tables["matches"], ["member_a", "member_b", "member_c"]
    )
    return PeerRun(
        tables,
        outcomes,
        lambda a, b: explain_pair(problem, units_per_round, a, b),
        _fairness(problem, pool, units_per_round, scores),
    )


def _fairness(
    problem: Problem,
    pool: np.ndarray,
    rounds: list[list[tuple[int, ...]]],
    scores: list[list[float]],
) -> dict[str, Any]:
    """Per-person spread across rounds: who sits out, who is in trios, score range."""
    left_out = np.zeros(problem.n, dtype=np.int64)
    trio = np.zeros(problem.n, dtype=np.int64)
    total = np.zeros(problem.n)
    count = np.zeros(problem.n, dtype=np.int64)
    for units, unit_scores in zip(rounds, scores, strict=True):
        placed = np.zeros(problem.n, dtype=bool)
        for unit, s in zip(units, unit_scores, strict=True):
            idx = list(unit)
            placed[idx] = True
            total[idx] += s
            count[idx] += 1
            if len(unit) == 3:
                trio[idx] += 1
        left_out[pool[~placed[pool]]] += 1
    mean = total[pool][count[pool] > 0] / count[pool][count[pool] > 0]
    return {
        "rounds_left_out_max": int(left_out[pool].max(initial=0)),
        "people_left_out_more_than_once": int((left_out[pool] > 1).sum()),
        "rounds_in_trio_max": int(trio[pool].max(initial=0)),
        "mean_score_per_person_min": round(float(mean.min()), 2) if len(mean) else None,
        "mean_score_per_person_max": round(float(mean.max()), 2) if len(mean) else None,
    }


def _unit_pairs(unit: tuple[int, ...]) -> list[tuple[int, int]]:
    return [(unit[i], unit[j]) for i in range(len(unit)) for j in range(i + 1, len(unit))]


def _unit_score(problem: Problem, unit: tuple[int, ...]) -> float:
    """A pair's score; a trio's is the mean of its three pair scores."""
    pairs = np.asarray(_unit_pairs(unit), dtype=np.int64)
    return float(pair_scores(problem, pairs[:, 0], pairs[:, 1]).mean())


def _matches_table(
    problem: Problem, rounds: list[list[tuple[int, ...]]], scores: list[list[float]]
) -> pd.DataFrame:
    names = [criterion_name(c) for c in problem.scheme.criteria]
    numbers = round_numbers(problem)
    records: list[dict[str, Any]] = []
    for r, units in enumerate(rounds):
        for unit, score in zip(units, scores[r], strict=True):
            pairs = np.asarray(_unit_pairs(unit), dtype=np.int64)
            layers = pair_layers(problem, pairs[:, 0], pairs[:, 1])
            record: dict[str, Any] = {
                "round": numbers[r],
                "member_a": problem.ids[unit[0]],
                "member_b": problem.ids[unit[1]],
                "member_c": problem.ids[unit[2]] if len(unit) == 3 else "",
                "score": round(score, 2),
            }
            for name in names:
                record[name] = round(float(layers[name].astype(np.float64).mean()), 3)
            sentences = [
                # pair_sentence reads (first, second) as "second → first"; keep a before b
                pair_sentence(problem, b, a, {n: float(layers[n][k]) for n in names})
                for k, (a, b) in enumerate(pairs.tolist())
            ]
            record["explanation"] = (
                sentences[0] if len(unit) == 2 else "Trio: " + " | ".join(sentences)
            )
            if problem.carry is not None:
                for c in problem.carry.columns:
                    values = problem.carry[c].to_numpy()
                    for slot, k in (("a", 0), ("b", 1), ("c", 2)):
                        record[f"member_{slot}_{c}"] = values[unit[k]] if k < len(unit) else ""
            records.append(record)
    columns = ["round", "member_a", "member_b", "member_c", "score", *names, "explanation"]
    return pd.DataFrame(records, columns=None if records else columns)


def _unmatched_table(
    problem: Problem, pool: np.ndarray, rounds: list[list[tuple[int, ...]]]
) -> pd.DataFrame:
    numbers = round_numbers(problem)
    rows = [
        (numbers[0], problem.ids[i], "member", excluded_reason(problem, i))
        for i in np.flatnonzero(problem.excluded).tolist()
    ]
    met: set[frozenset[int]] = set()
    for r, units in enumerate(rounds):
        placed = {m for u in units for m in u}
        left = np.array([i for i in pool.tolist() if i not in placed], dtype=np.int64)
        for i, reason in zip(left.tolist(), _reasons(problem, left, pool, met), strict=True):
            rows.append((numbers[r], problem.ids[i], "member", reason))
        met |= {frozenset(p) for u in units for p in _unit_pairs(u)}
    return pd.DataFrame(rows, columns=["round", "participant_id", "role", "reason"])


def _reasons(
    problem: Problem, people: np.ndarray, pool: np.ndarray, met: set[frozenset[int]]
) -> list[str]:
    if len(people) == 0:
        return []
    cuts = rule_cuts(problem, people, pool, people_are_rows=True)
    out = []
    for k, i in enumerate(people.tolist()):
        hard = no_partner_reason(cuts, k, len(pool) - 1, "partner")
        if hard is not None:
            out.append(hard)
            continue
        eligible = pool[cuts.eligible[k]]
        fresh = [o for o in eligible.tolist() if frozenset((i, o)) not in met]
        if not fresh:
            out.append(
                all_of(len(eligible), "eligible partner", "was", "were")
                + " already met in earlier rounds"
            )
            continue
        min_score = problem.scheme.min_score
        if min_score is not None:
            s = pair_scores(problem, np.full(len(fresh), i), np.asarray(fresh))
            if (s < min_score - 1e-4).all():
                out.append(
                    all_of(len(fresh), "eligible partner", "scores", "score")
                    + f" below the minimum score {min_score:g} (best {s.max():.1f})"
                )
                continue
        if problem.scheme.leftover == "exclude":
            out.append(
                "odd number of people who can be paired: one sits out (leftover: exclude); "
                "chosen to serve the objective, preferring someone who has not sat out before"
            )
        else:
            out.append(
                all_of(len(fresh), "eligible partner", "is", "are")
                + " paired with others: no trio "
                "could include this person under the rules"
            )
    return out


def made_from_table(
    problem: Problem, tables: dict[str, pd.DataFrame]
) -> list[list[tuple[int, ...]]]:
    """Per-round units (participant indices) from a written matches table."""
    matches = tables.get("matches", pd.DataFrame())
    lookup = id_lookup(problem)
    out = []
    for r in round_numbers(problem):
        rows = matches[matches["round"].astype(int) == r] if len(matches) else matches
        units = []
        for rec in rows.to_dict(orient="records"):
            ids = [rec.get(k) for k in ("member_a", "member_b", "member_c")]
            units.append(
                tuple(lookup_id(problem, str(x), lookup) for x in ids if isinstance(x, str) and x)
            )
        out.append(units)
    return out


def explain_pair(problem: Problem, rounds: list[list[tuple[int, ...]]], a: str, b: str) -> str:
    ia, ib = lookup_id(problem, a), lookup_id(problem, b)
    lines = [f"Members {problem.ids[ia]} and {problem.ids[ib]}"]
    score, breakdown = score_breakdown(problem, ia, ib)
    lines += breakdown
    numbers = round_numbers(problem)
    together = [
        numbers[r] for r, units in enumerate(rounds) if any({ia, ib} <= set(u) for u in units)
    ]
    if together:
        lines.append("Together in round " + ", ".join(map(str, together)) + ".")
        return "\n".join(lines)
    why = not_allowed(problem, ia, ib, score)
    if why:
        lines.append("Not allowed: " + "; ".join(why) + ".")
        return "\n".join(lines)
    first = rounds[0] if rounds else []
    partners = []
    for person in (ia, ib):
        unit = next((u for u in first if person in u), None)
        if unit is None:
            partners.append(f"{problem.ids[person]} was not paired in round {numbers[0]}")
        else:
            others = [o for o in unit if o != person]
            s = pair_scores(problem, np.full(len(others), person), np.asarray(others))
            partners.append(
                f"{problem.ids[person]} was paired with "
                + ", ".join(
                    f"{problem.ids[o]} (score {x:.2f})" for o, x in zip(others, s, strict=True)
                )
            )
    lines.append(
        "Allowed but not made: "
        + "; ".join(partners)
        + f" — the objective {problem.scheme.objective} preferred these pairs overall."
    )
    return "\n".join(lines)
