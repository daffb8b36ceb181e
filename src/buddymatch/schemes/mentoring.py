"""The mentoring scheme: mentees (rows) × mentors (columns) with capacities.

Each round: weights from scoring and hard rules, the exact assignment solver,
the independent check, then explanations.  Later rounds forbid pairs already
made.  Locked pairs apply to the first round.
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
from ..model import BOTH, MENTEE, MENTOR, Problem, criterion_name
from ..scoring import pair_layers, pair_scores
from ..solvers import WEIGHT_SCALE, Status
from ..solvers.assignment import solve_assignment
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
class MentoringRun:
    tables: dict[str, pd.DataFrame]
    rounds: list[RoundOutcome]
    explain: Callable[[str, str], str]


def run(problem: Problem, *, time_limit: float | None) -> MentoringRun:
    scheme = problem.scheme
    mentees, mentors = problem.mentees(), problem.mentors()
    used = np.zeros((0, 2), dtype=np.int64)
    outcomes: list[RoundOutcome] = []
    made: list[np.ndarray] = []  # per round: (k, 2) global (mentor, mentee)
    for r in range(scheme.rounds):
        weights = weight_matrix(problem, mentees, mentors, extra_forbidden=used)
        locked = local_locks(problem, mentees, mentors, weights, mentoring=True) if r == 0 else None
        out = solve_assignment(
            weights,
            problem.wants[mentees],
            problem.capacity[mentors],
            objective=scheme.objective,
            locked=locked,
            time_limit=time_limit,
        )
        if out.status in (Status.INFEASIBLE, Status.UNKNOWN):
            reason = str(out.stats.get("reason", "the solver found no valid result"))
            raise InfeasibleError(f"round {r + 1}: {reason}")
        pairs = np.stack([mentors[out.pairs[:, 1]], mentees[out.pairs[:, 0]]], axis=1).reshape(
            -1, 2
        )
        made.append(pairs)
        used = np.concatenate([used, pairs])
        # max-score is in weight units (score × WEIGHT_SCALE); the others count people.
        unit = WEIGHT_SCALE if scheme.objective == "max-score" else 1
        outcomes.append(
            RoundOutcome(
                status=out.status.value,
                objective_value=float(out.objective) / unit,
                bound=None if out.bound is None else float(out.bound) / unit,
                units=len(pairs),
                solver=str(out.stats.get("solver", "min-cost-flow")),
            )
        )
    scores = [pair_scores(problem, p[:, 1], p[:, 0]) for p in made]
    check_pairs(
        problem,
        [[tuple(x) for x in p.tolist()] for p in made],
        scores=[s.tolist() for s in scores],
    )
    tables = {
        "matches": _matches_table(problem, made, scores),
        "unmatched": _unmatched_table(problem, made, mentees, mentors),
    }
    tables["history"] = history_table(problem, tables["matches"], ["mentor_id", "mentee_id"])
    return MentoringRun(tables, outcomes, lambda a, b: explain_pair(problem, made, a, b))


def _people_columns(problem: Problem, idx: np.ndarray, prefix: str) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    if problem.carry is not None:
        for c in problem.carry.columns:
            cols[f"{prefix}_{c}"] = problem.carry[c].to_numpy()[idx]
    return cols


def _matches_table(
    problem: Problem, made: list[np.ndarray], scores: list[np.ndarray]
) -> pd.DataFrame:
    names = [criterion_name(c) for c in problem.scheme.criteria]
    frames = []
    locked = {tuple(x) for x in problem.locked.tolist()}
    for r, (pairs, score) in enumerate(zip(made, scores, strict=True)):
        mentor, mentee = pairs[:, 0], pairs[:, 1]
        layers = pair_layers(problem, mentee, mentor)
        data: dict[str, Any] = {
            "round": round_numbers(problem)[r],
            "mentor_id": [problem.ids[i] for i in mentor],
            "mentee_id": [problem.ids[i] for i in mentee],
            "score": np.round(score, 2),
        }
        for name in names:
            data[name] = np.round(layers[name].astype(np.float64), 3)
        data["locked"] = [r == 0 and (int(a), int(b)) in locked for a, b in pairs]
        data["explanation"] = [
            pair_sentence(problem, int(b), int(a), {n: float(layers[n][k]) for n in names})
            for k, (a, b) in enumerate(pairs)
        ]
        data.update(_people_columns(problem, mentor, "mentor"))
        data.update(_people_columns(problem, mentee, "mentee"))
        frames.append(pd.DataFrame(data))
    columns = ["round", "mentor_id", "mentee_id", "score", *names, "locked", "explanation"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)


def _unmatched_table(
    problem: Problem, made: list[np.ndarray], mentees: np.ndarray, mentors: np.ndarray
) -> pd.DataFrame:
    rows = []
    numbers = round_numbers(problem)
    for i in np.flatnonzero(problem.excluded).tolist():
        rows.append((numbers[0], problem.ids[i], _role(problem, i), excluded_reason(problem, i)))
    for r, pairs in enumerate(made):
        got_mentors = np.bincount(pairs[:, 1], minlength=problem.n)
        got_mentees = np.bincount(pairs[:, 0], minlength=problem.n)
        earlier = np.concatenate(made[:r]) if r else np.zeros((0, 2), dtype=np.int64)
        short = [
            int(i)
            for i in mentees
            if got_mentors[i] < problem.wants[i]
            and not (problem.role[i] == BOTH and got_mentees[i] > 0)  # mentoring this round
        ]
        zero = [i for i in short if problem.wants[i] == 0]
        short = [i for i in short if problem.wants[i] > 0]
        for i in zero:
            if problem.role[i] == MENTEE:
                rows.append((numbers[r], problem.ids[i], "mentee", "wants no mentor (0 requested)"))
        reasons = _reasons(
            problem, np.asarray(short, dtype=np.int64), mentors, True, pairs, earlier
        )
        for i, reason in zip(short, reasons, strict=True):
            if got_mentors[i] > 0:
                reason = f"got {got_mentors[i]} of {problem.wants[i]} mentors wanted: {reason}"
            rows.append((numbers[r], problem.ids[i], _role(problem, i), reason))
        idle = [
            int(j)
            for j in mentors
            if got_mentees[j] == 0 and problem.role[j] != BOTH  # both: reported as mentee
        ]
        full = [j for j in idle if problem.capacity[j] > 0]
        for j in idle:
            if problem.capacity[j] == 0:
                rows.append(
                    (
                        numbers[r],
                        problem.ids[j],
                        "mentor",
                        "capacity is 0: takes no mentees this time",
                    )
                )
        reasons = _reasons(
            problem, np.asarray(full, dtype=np.int64), mentees, False, pairs, earlier
        )
        rows += [
            (numbers[r], problem.ids[j], "mentor", x) for j, x in zip(full, reasons, strict=True)
        ]
    frame = pd.DataFrame(rows, columns=["round", "participant_id", "role", "reason"])
    return frame.sort_values(["round"], kind="stable").reset_index(drop=True)


def _role(problem: Problem, i: int) -> str:
    return {MENTOR: "mentor", MENTEE: "mentee", BOTH: "both"}.get(int(problem.role[i]), "member")


def _reasons(
    problem: Problem,
    people: np.ndarray,
    others: np.ndarray,
    are_mentees: bool,
    pairs: np.ndarray,
    earlier: np.ndarray,
) -> list[str]:
    """The concrete reason each person has no (or too few) partners this round."""
    if len(people) == 0:
        return []
    other_role = "mentor" if are_mentees else "mentee"
    objective = problem.scheme.objective
    cuts = rule_cuts(problem, people, others, people_are_rows=are_mentees)
    met_before = {frozenset(p) for p in earlier.tolist()}
    load = np.bincount(pairs[:, 0], minlength=problem.n)  # mentees per mentor
    taken = np.bincount(pairs[:, 1], minlength=problem.n)  # mentors per mentee
    out = []
    for k, person in enumerate(people.tolist()):
        not_self = others != person
        hard = no_partner_reason(cuts, k, int(not_self.sum()), other_role)
        if hard is not None:
            out.append(hard)
            continue
        eligible = others[cuts.eligible[k]]
        fresh = eligible
        if met_before:
            fresh = np.array(
                [o for o in eligible.tolist() if frozenset((o, person)) not in met_before],
                dtype=np.int64,
            )
        if len(fresh) == 0:
            out.append(
                all_of(len(eligible), "eligible " + other_role, "was", "were")
                + " already met in earlier rounds"
            )
            continue
        min_score = problem.scheme.min_score
        if min_score is not None:
            me = np.full(len(fresh), person)
            s = pair_scores(problem, me, fresh) if are_mentees else pair_scores(problem, fresh, me)
            if (s < min_score - 1e-4).all():
                out.append(
                    all_of(len(fresh), "eligible " + other_role, "scores", "score")
                    + f" below the minimum score {min_score:g} (best {s.max():.1f})"
                )
                continue
            fresh = fresh[s >= min_score - 1e-4]
        if are_mentees and (load[fresh] >= problem.capacity[fresh]).all():
            out.append(
                all_of(len(fresh), "eligible mentor", "is", "are") + " at full capacity "
                f"(objective {objective}: their places went where they matched more people "
                "or scored higher)"
            )
        elif not are_mentees and (taken[fresh] >= problem.wants[fresh]).all():
            out.append(
                all_of(len(fresh), "eligible mentee", "has", "have") + " the mentors they wanted"
            )
        else:
            out.append(
                f"not chosen: the objective {objective} gains nothing from the pairs still open"
            )
    return out


def explain_pair(problem: Problem, made: list[np.ndarray], a: str, b: str) -> str:
    """Why (a, b) was or was not made: rules, score breakdown, competition."""
    ia, ib = lookup_id(problem, a), lookup_id(problem, b)
    if problem.role[ia] in (MENTOR, BOTH) and problem.role[ib] in (MENTEE, BOTH):
        mentor, mentee = ia, ib
    else:
        mentor, mentee = ib, ia
    lines = [f"Mentor {problem.ids[mentor]}, mentee {problem.ids[mentee]}"]
    numbers = round_numbers(problem)
    rounds_made = [
        numbers[r] for r, p in enumerate(made) if ((p[:, 0] == mentor) & (p[:, 1] == mentee)).any()
    ]
    score, breakdown = score_breakdown(problem, mentee, mentor)
    lines += breakdown
    if problem.role[mentor] not in (MENTOR, BOTH) or problem.role[mentee] not in (MENTEE, BOTH):
        lines.append("Not made: these two are not a mentor and a mentee.")
        return "\n".join(lines)
    if rounds_made:
        lines.append("Made in round " + ", ".join(map(str, rounds_made)) + ".")
        return "\n".join(lines)
    why = not_allowed(problem, mentor, mentee, score)
    if why:
        lines.append("Not allowed: " + "; ".join(why) + ".")
        return "\n".join(lines)
    first = made[0] if made else np.zeros((0, 2), dtype=np.int64)
    theirs = first[first[:, 1] == mentee][:, 0]
    load = first[first[:, 0] == mentor][:, 1]
    parts = []
    if len(theirs):
        s = pair_scores(problem, np.full(len(theirs), mentee), theirs)
        parts.append(
            f"the mentee has {len(theirs)} mentor(s) already (wanted {problem.wants[mentee]}), "
            f"scoring {', '.join(f'{x:.2f}' for x in s)}"
        )
    if len(load) >= problem.capacity[mentor]:
        s = pair_scores(problem, load, np.full(len(load), mentor))
        parts.append(
            f"the mentor is at capacity {problem.capacity[mentor]} with mentees scoring "
            f"{', '.join(f'{x:.2f}' for x in s) or 'nothing'}"
        )
    if not parts:
        parts.append(f"the objective {problem.scheme.objective} preferred other pairs")
    lines.append("Allowed but not made: " + "; ".join(parts) + ".")
    return "\n".join(lines)


def made_from_table(problem: Problem, tables: dict[str, pd.DataFrame]) -> list[np.ndarray]:
    """Per-round (mentor, mentee) index arrays from a written matches table."""
    matches = tables.get("matches", pd.DataFrame())
    numbers = round_numbers(problem)
    out = []
    lookup = id_lookup(problem)
    for r in numbers:
        rows = matches[matches["round"].astype(int) == r] if len(matches) else matches
        pairs = [
            (lookup_id(problem, str(m), lookup), lookup_id(problem, str(e), lookup))
            for m, e in zip(rows.get("mentor_id", []), rows.get("mentee_id", []), strict=True)
        ]
        out.append(np.asarray(pairs, dtype=np.int64).reshape(-1, 2))
    return out
