"""Re-matching: repair the latest round of a written result against today's intake.

What every scheme's re-match shares (the scheme-specific parts are
``SchemeKind.rematch`` implementations):

- :class:`Previous`: a written result (its tables as read back, its summary),
  with the round being repaired (the latest) and the ids it knew;
- :func:`rematch_problem`: the problem a re-match solves — one round, numbered
  as the repaired round, with the history *before* it (the repaired round's
  own meetings are what is being kept, not history);
- :func:`change_rows`: ``changes.csv``, one row per person whose partners or
  group changed, with the reason;
- :func:`rematch_summary`: the ``rematch`` block of summary.json.

Definitions (repeated in docs/programme.md): a person of the previous result
who is not in the current profiles **dropped out**; a person of the current
profiles the previous result did not know **joined**; a previous unit is
**kept** when everyone in it is still in, not excluded, and it still passes
every rule (the checker's rules, feedback, min_score, history) and the
capacities; otherwise it **ended**, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, Issue
from ..model import History, Problem, text_key

CHANGE_COLUMNS = ["participant_id", "change", "before", "after", "why"]
"""changes.csv: who, what kind of change, partners (or group) before and after, why."""

ID_COLUMNS = ("mentor_id", "mentee_id", "member_a", "member_b", "member_c", "participant_id")


@dataclass(frozen=True)
class Previous:
    """A written result to repair: its tables as read back and its summary."""

    tables: Mapping[str, pd.DataFrame]
    summary: Mapping[str, Any] = field(default_factory=dict)

    @property
    def main(self) -> pd.DataFrame:
        """``groups`` when the result has groups, else ``matches``."""
        if "groups" in self.tables:
            return self.tables["groups"]
        if "matches" in self.tables:
            return self.tables["matches"]
        raise InputError(
            issues=[
                Issue(
                    "the previous result has no matches.csv or groups.csv",
                    fix="pass a folder written by `buddymatch match` or `buddymatch rematch`",
                )
            ]
        )

    @property
    def round(self) -> int:
        """The round being repaired: the latest round of the main table.

        A result with no pairs or groups at all gives the latest round of its
        ``unmatched`` table (1 when that is empty too): nothing is kept then.
        """
        for frame in (self.main, self.tables.get("unmatched")):
            if frame is not None and len(frame) and "round" in frame.columns:
                latest = pd.to_numeric(frame["round"], errors="coerce").max()
                if pd.notna(latest):
                    return int(latest)
        return 1

    def latest(self) -> pd.DataFrame:
        """Rows of the main table in the round being repaired."""
        main = self.main
        return main[pd.to_numeric(main["round"], errors="coerce") == self.round]

    @cached_property
    def known(self) -> dict[str, str]:
        """text_key -> id of everyone the previous result knew (computed once)."""
        return self.known_ids()

    def known_ids(self) -> dict[str, str]:
        """text_key -> id of everyone the previous result knew (placed or unmatched)."""
        out: dict[str, str] = {}
        frames = [self.latest()]
        unmatched = self.tables.get("unmatched")
        if unmatched is not None and len(unmatched):
            frames.append(unmatched[unmatched["round"].astype(int) == self.round])
        for frame in frames:
            for column in ID_COLUMNS:
                if column in frame.columns:
                    for value in frame[column].tolist():
                        if isinstance(value, str) and value:
                            out.setdefault(text_key(value), value)
        return out


def rematch_problem(problem: Problem, round_number: int) -> Problem:
    """The problem a re-match of ``round_number`` solves.

    One round, numbered ``round_number`` (so the output continues the
    previous files); the history keeps only meetings of earlier rounds, since
    the repaired round's pairs are what a re-match keeps or ends.
    """
    history = problem.history
    rounds = history.latest_round - history.rounds_ago + 1  # the round each meeting was in
    keep = rounds < round_number
    table = history.table
    if table is not None and len(table):
        numbers = pd.to_numeric(table["round"], errors="coerce")
        table = table[(numbers < round_number).to_numpy()].reset_index(drop=True)
    latest = round_number - 1
    earlier = History(
        history.pairs[keep],
        (latest - rounds[keep] + 1).astype(np.int64),
        latest,
        table,
    )
    scheme = problem.scheme.model_copy(update={"rounds": 1})
    return replace(problem, scheme=scheme, history=earlier)


def index_of(problem: Problem) -> dict[str, int]:
    """text_key of an id -> participant index."""
    return {text_key(v): i for i, v in enumerate(problem.ids)}


def joined(problem: Problem, previous: Previous) -> list[int]:
    """Indices of the people the previous result did not know."""
    known = previous.known
    return [i for i, v in enumerate(problem.ids) if text_key(v) not in known]


def dropped_out(problem: Problem, previous: Previous) -> list[str]:
    """Ids of the previous result that are not in the current profiles (as written before)."""
    current = index_of(problem)
    return sorted(v for k, v in previous.known.items() if k not in current)


def change_rows(
    before: Mapping[str, str],
    after: Mapping[str, str],
    *,
    ended: Mapping[str, str],
    left: Iterable[str],
    new: Iterable[str],
    unplaced: Mapping[str, str],
) -> pd.DataFrame:
    """changes.csv: one row per person whose partners (or group) changed.

    ``change`` is ``left`` (dropped out), ``joined`` (new since the previous
    result), ``placed`` (had nobody before, has someone now), ``changed``
    (partners changed), ``moved`` (another group) or ``unplaced`` (had
    someone, has nobody now).

    ``before`` / ``after`` map an id to the partners (``"p1; p2"``) or group
    (``"group 3"``) in the repaired round before and after the re-match
    (absent: none); ``ended`` gives the reason a person's previous unit ended,
    ``left`` the ids that dropped out, ``new`` those who joined, ``unplaced``
    the reason someone has nobody now.  People whose partners did not change
    are not listed.
    """
    rows: list[tuple[str, str, str, str, str]] = []
    left, new = set(left), set(new)
    for person in sorted(left):
        rows.append((person, "left", before.get(person, ""), "", "not in the current profiles"))
    for person in sorted(set(before) | set(after) | new):
        if person in left:
            continue
        was, now = before.get(person, ""), after.get(person, "")
        if was == now and person not in new:
            continue
        rows.append((person, *_change(person, was, now, ended, new, unplaced)))
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def _change(
    person: str,
    was: str,
    now: str,
    ended: Mapping[str, str],
    new: set[str],
    unplaced: Mapping[str, str],
) -> tuple[str, str, str, str]:
    if person in new:
        why = "joined since the previous match" + (
            "" if now else f"; not placed: {unplaced.get(person, 'no place found')}"
        )
        return "joined", "", now, why
    if not was:
        return "placed", was, now, "was not placed before"
    reason = ended.get(person, "had room for another partner")
    if now:
        return ("moved" if was.startswith("group ") else "changed"), was, now, reason
    return "unplaced", was, "", f"{reason}; not placed: {unplaced.get(person, 'no place found')}"


def rematch_summary(
    previous: Previous,
    *,
    kept: int,
    ended: Mapping[str, int],
    new: int,
    left: int,
    joined_count: int,
    max_changes: int,
    changes_used: int,
    trade_off: list[dict[str, Any]] | None = None,
    unit: str = "pairs",
) -> dict[str, Any]:
    """The ``rematch`` block of summary.json."""
    return {
        "rematch": {
            "round": previous.round,
            "unit": unit,
            "kept": kept,
            "ended": int(sum(ended.values())),
            "ended_by_reason": dict(sorted(ended.items())),
            "new": new,
            "dropped_out": left,
            "joined": joined_count,
            "max_changes": max_changes,
            "changes_used": changes_used,
            "trade_off": trade_off or [],
        }
    }


__all__ = [
    "CHANGE_COLUMNS",
    "Previous",
    "change_rows",
    "dropped_out",
    "index_of",
    "joined",
    "rematch_problem",
    "rematch_summary",
]
