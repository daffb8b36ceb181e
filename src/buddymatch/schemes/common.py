"""Pieces every scheme's orchestration shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..check import pair_violations
from ..errors import InputError, Issue
from ..model import Problem, criterion_name
from ..scoring import pair_layers, pair_scores, total_weight
from ..solvers import NOT_ALLOWED


@dataclass(frozen=True)
class RoundOutcome:
    """What the solver proved for one round (goes into summary.json)."""

    status: str
    objective_value: float
    bound: float | None
    units: int
    solver: str
    repeats: int = 0

    @property
    def gap(self) -> float | None:
        if self.bound is None:
            return None
        if self.bound == 0:
            return 0.0
        return max(0.0, (self.bound - self.objective_value) / abs(self.bound))


def round_numbers(problem: Problem) -> list[int]:
    """Round labels: continue the history's numbering so files can be appended."""
    start = problem.history.latest_round + 1
    return list(range(start, start + problem.scheme.rounds))


def id_lookup(problem: Problem) -> dict[str, int]:
    """Normalised id -> participant index (case and spacing ignored)."""
    return {" ".join(v.split()).casefold(): i for i, v in enumerate(problem.ids)}


def lookup_id(problem: Problem, value: str, lookup: dict[str, int] | None = None) -> int:
    """Index of a user-supplied id (case and spacing ignored)."""
    key = " ".join(str(value).split()).casefold()
    found = (lookup if lookup is not None else id_lookup(problem)).get(key)
    if found is not None:
        return found
    raise InputError(
        issues=[Issue("an id given is not in the profiles", fix="check the spelling of the id")]
    )


def excluded_reason(problem: Problem, i: int) -> str:
    """Which exclude rule took person i out."""
    for rule in problem.scheme.rules:
        if rule.kind == "exclude":
            att = problem.attributes[rule.attribute]
            shown = att.display(i)
            wanted = {" ".join(v.split()).casefold() for v in rule.values}
            values = {v.strip().casefold() for v in shown.split(";")} if shown else set()
            if values & wanted:
                return f"excluded by rule: {rule.attribute} is {shown}"
    return "excluded from matching"


HISTORY_COLUMNS = ["round", "member_a", "member_b", "member_c"]


def history_table(problem: Problem, matches: pd.DataFrame, id_columns: list[str]) -> pd.DataFrame:
    """Past meetings plus this run's, in the form ``history: {file: ...}`` reads.

    Rows of the old history are kept as they were (people who have left
    included), this run's rounds are appended with their continued numbers.
    """
    new = pd.DataFrame({"round": matches["round"].astype(int).astype(str)})
    for slot, column in zip(HISTORY_COLUMNS[1:], id_columns, strict=False):
        new[slot] = matches[column].astype(str) if column in matches else ""
    old = problem.history.table
    frames = [f for f in (old, new) if f is not None and len(f)]
    if not frames:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    out = pd.concat(frames, ignore_index=True).reindex(columns=HISTORY_COLUMNS)
    out = out.astype(object).where(out.notna(), "")
    return out.astype(str)


def cooldown_block(problem: Problem, a: int, b: int) -> str | None:
    """Why history forbids (a, b) now, if it does."""
    spec = problem.scheme.history
    if spec is None or not len(problem.history.pairs):
        return None
    key = (min(a, b), max(a, b))
    hits = [
        int(ago)
        for (x, y), ago in zip(
            problem.history.pairs.tolist(), problem.history.rounds_ago.tolist(), strict=True
        )
        if (x, y) == key and ago <= spec.cooldown
    ]
    if not hits:
        return None
    ago = min(hits)
    return (
        f"they met {ago} round{'s' if ago > 1 else ''} ago, within the history cooldown "
        f"of {spec.cooldown}"
    )


def score_breakdown(problem: Problem, first: int, second: int) -> tuple[float, list[str]]:
    """The pair's score and one line per criterion (value × weight = points).

    Mentoring: first = mentee, second = mentor.
    """
    a, b = np.array([first]), np.array([second])
    score = float(pair_scores(problem, a, b)[0])
    layers = pair_layers(problem, a, b)
    total = total_weight(problem)
    lines = [f"Score {score:.2f} of 100:"]
    for crit in problem.scheme.criteria:
        name = criterion_name(crit)
        value = float(layers[name][0])
        points = 100 * crit.weight * value / total if total else 0.0
        lines.append(f"  {name}: {value:.3f} × weight {crit.weight:g} = {points:.2f} points")
    return score, lines


def not_allowed(problem: Problem, a: int, b: int, score: float) -> list[str]:
    """Every reason the pair (a, b) may not be made (mentoring: a = mentor)."""
    why = pair_violations(problem, a, b)
    recent = cooldown_block(problem, a, b)
    if recent:
        why.append(recent)
    if problem.excluded[a] or problem.excluded[b]:
        why.append("one of them is excluded from matching")
    if problem.scheme.min_score is not None and score < problem.scheme.min_score:
        why.append(f"score is below the minimum score {problem.scheme.min_score:g}")
    return why


def local_locks(
    problem: Problem, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, *, mentoring: bool
) -> np.ndarray | None:
    """Locked pairs as (row, column) positions of the weight matrix, checked first.

    Mentoring locks are (mentor, mentee) and rows are mentees; peer locks are
    unordered pairs of the pool.  A lock that cannot be honoured is an input
    error naming its rows and the rule it breaks.
    """
    if not len(problem.locked):
        return None
    pos_r = {int(x): k for k, x in enumerate(rows)}
    pos_c = {int(x): k for k, x in enumerate(cols)}
    issues, local = [], []
    for a, b in problem.locked.tolist():
        row_person, col_person = (b, a) if mentoring else (a, b)
        i, j = pos_r.get(row_person), pos_c.get(col_person)
        who = f"locked pair ({problem.where(a)}, {problem.where(b)})"
        if i is None or j is None:
            issues.append(Issue(f"{who} involves someone excluded from matching"))
        elif weights[i, j] == NOT_ALLOWED:
            why = not_allowed(problem, a, b, 100.0) or ["is below the minimum score"]
            issues.append(Issue(f"{who} {'; '.join(why)}", fix="unlock it or relax the rule"))
        else:
            local.append((i, j))
    if issues:
        raise InputError(issues=issues)
    return np.asarray(local, dtype=np.int64).reshape(-1, 2)
