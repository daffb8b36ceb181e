"""Pieces every scheme's orchestration shares."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import InputError, Issue
from ..model import Problem


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
