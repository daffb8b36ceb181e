"""What the pair schemes (mentoring, peer) share: one implementation of the run's
check, the matches table, the unmatched reasons and the explanations.

A round's result is a list of units (:data:`~buddymatch.model.Unit`): a
mentoring pair is (mentor, mentee), a peer pair or trio is sorted.  A pair
scheme implements :meth:`PairScheme.solve` (the rounds, from its solver) and
the few things that really differ: who can be left out and why
(:meth:`PairScheme.unmatched_rows`), and why an allowed pair was not made
(:meth:`PairScheme.not_made`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..candidates import rule_cuts
from ..check import check_pairs
from ..explain import Displays, all_of, no_partner_reason, pair_sentence
from ..model import SCORE_TOLERANCE, Pairs, Problem, Unit, criterion_name
from ..scoring import pair_layers, pair_scores
from .base import RoundOutcome, SchemeKind, SchemeRun, round_numbers
from .common import (
    UNMATCHED_COLUMNS,
    flat_pairs,
    history_table,
    id_lookup,
    lookup_id,
    not_allowed,
    score_breakdown,
    unit_pairs,
    unit_scores,
)
from .pair_rematch import Ending, Placement, kept_note, rematch_pairs
from .rematch import Previous

Rounds = list[list[Unit]]


@dataclass(frozen=True)
class Solved:
    """A pair scheme's solver output: units per round, outcomes, unavoidable repeats."""

    rounds: Rounds
    outcomes: list[RoundOutcome]
    repeats: set[frozenset[int]]


def met_pairs(rounds: Rounds) -> set[frozenset[int]]:
    """Every pair that met in these rounds."""
    return {frozenset(p) for units in rounds for u in units for p in unit_pairs(u)}


class PairScheme(SchemeKind):
    """A scheme whose result is pairs (and trios): tables, reasons and explanations."""

    id_columns: ClassVar[tuple[str, ...]]
    """matches.csv id columns, in unit order (a trio fills a third)."""
    carry_prefixes: ClassVar[tuple[str, ...]]
    """Prefix of each unit member's carry columns, in unit order."""
    locked_column: ClassVar[bool] = False
    made_word: ClassVar[str] = "Made"

    # --- what each pair scheme implements --------------------------------------

    @abstractmethod
    def solve(self, problem: Problem) -> Solved:
        """Every round's units from the scheme's solver (no check, no tables)."""

    @abstractmethod
    def unmatched_rows(self, problem: Problem, rounds: Rounds) -> list[tuple[Any, ...]]:
        """unmatched.csv rows (round, participant_id, role, reason)."""

    @abstractmethod
    def explain_header(self, problem: Problem, ia: int, ib: int) -> tuple[int, int, str]:
        """The pair in (a, b) orientation and the first line of its explanation."""

    @abstractmethod
    def not_made(self, problem: Problem, rounds: Rounds, a: int, b: int) -> str:
        """Why an allowed pair (a, b) was not made."""

    def explain_guard(self, problem: Problem, a: int, b: int) -> str | None:
        """A reason the pair cannot be a pair at all (e.g. two mentees), or None."""
        return None

    # --- re-matching (the shared work is in pair_rematch.py) ---------------------

    def rematch(
        self,
        problem: Problem,
        previous: Previous,
        *,
        max_changes: int = 0,
        progress: Any = None,
    ) -> SchemeRun:
        return rematch_pairs(self, problem, previous, max_changes=max_changes)

    @abstractmethod
    def rematch_trim(self, problem: Problem, kept: list[Unit]) -> tuple[list[Unit], list[Ending]]:
        """Kept units the capacities or a lock no longer allow, as (unit, category, reason)."""

    @abstractmethod
    def rematch_place(
        self,
        problem: Problem,
        kept: list[Unit],
        not_again: set[frozenset[int]],
        *,
        max_changes: int,
    ) -> Placement:
        """Place everyone not in a kept unit (or break up to ``max_changes`` kept units).

        ``not_again`` pairs met in the previous result and were not kept: never
        made again.  Locked pairs not among ``kept`` are made here.
        """

    def rematch_order(self, problem: Problem, units: list[Unit]) -> list[Unit]:
        """Units in output order (pool units sorted)."""
        return sorted(units)

    def _met_in(self, unit: Unit, a: int, b: int) -> bool:
        """Whether the pair (a, b) met in this unit (directed: in this orientation)."""
        if self.directed:
            return tuple(unit[:2]) == (a, b)
        return a in unit and b in unit

    def extra_summary(
        self, problem: Problem, rounds: Rounds, scores: list[list[float]]
    ) -> dict[str, Any]:
        """Scheme-specific entries added to summary.json."""
        return {}

    # --- shared implementation ---------------------------------------------------

    def run(self, problem: Problem, *, progress: Any = None) -> SchemeRun:
        solved = self.solve(problem)
        rounds = solved.rounds
        scores = [unit_scores(problem, units) for units in rounds]
        check_pairs(problem, rounds, scores=scores, allowed_repeats=solved.repeats)
        matches = self.matches_table(problem, rounds, scores)
        unmatched = pd.DataFrame(self.unmatched_rows(problem, rounds), columns=UNMATCHED_COLUMNS)
        tables = {
            "matches": matches,
            "unmatched": unmatched,
            "history": history_table(problem, matches, list(self.id_columns)),
        }
        return SchemeRun(
            tables,
            solved.outcomes,
            lambda a, b: self.explain_rounds(problem, rounds, a, b),
            self.extra_summary(problem, rounds, scores),
            units=[list(units) for units in rounds],
        )

    def matches_table(
        self, problem: Problem, rounds: Rounds, scores: list[list[float]]
    ) -> pd.DataFrame:
        """One row per unit: ids, score, criterion values, explanation, carry columns."""
        numbers = round_numbers(problem)
        frames = [
            self._round_frame(problem, numbers[r], r == 0, units, scores[r])
            for r, units in enumerate(rounds)
            if units
        ]
        if frames:
            return pd.concat(frames, ignore_index=True)
        names = [criterion_name(c) for c in problem.scheme.criteria]
        locked = ["locked"] if self.locked_column else []
        return pd.DataFrame(
            columns=["round", *self.id_columns, "score", *names, *locked, "explanation"]
        )

    def _round_frame(
        self, problem: Problem, number: int, first: bool, units: list[Unit], scores: list[float]
    ) -> pd.DataFrame:
        names = [criterion_name(c) for c in problem.scheme.criteria]
        owner, pairs = flat_pairs(units)
        layers = pair_layers(problem, pairs)
        sizes = np.bincount(owner, minlength=len(units))
        data: dict[str, Any] = {"round": number}
        for k, column in enumerate(self.id_columns):
            data[column] = [problem.ids[u[k]] if k < len(u) else "" for u in units]
        data["score"] = np.round(np.asarray(scores, dtype=np.float64), 2)
        for name in names:
            mean = np.bincount(owner, weights=layers[name].astype(np.float64)) / sizes
            data[name] = np.round(mean, 3)
        if self.locked_column:
            locked = _locked_units(problem) if first else set()
            data["locked"] = [tuple(u) in locked for u in units]
        data["explanation"] = self._sentences(problem, units, owner, pairs, layers)
        if problem.carry is not None:
            for k, prefix in enumerate(self.carry_prefixes):
                for c in problem.carry.columns:
                    values = problem.carry[c].to_numpy()
                    data[f"{prefix}_{c}"] = [values[u[k]] if k < len(u) else "" for u in units]
        return pd.DataFrame(data)

    @staticmethod
    def _sentences(
        problem: Problem,
        units: list[Unit],
        owner: np.ndarray,
        pairs: Pairs,
        layers: dict[str, np.ndarray],
    ) -> list[str]:
        names = [criterion_name(c) for c in problem.scheme.criteria]
        per_unit: list[list[str]] = [[] for _ in units]
        shown = Displays(problem)
        columns = [layers[n].tolist() for n in names]
        owners = owner.tolist()
        for k, (a, b) in enumerate(pairs):
            values = {n: float(col[k]) for n, col in zip(names, columns, strict=True)}
            per_unit[owners[k]].append(pair_sentence(problem, a, b, values, shown))
        return [s[0] if len(s) == 1 else "Trio: " + " | ".join(s) for s in per_unit]

    def partner_reasons(
        self,
        problem: Problem,
        people: np.ndarray,
        others: np.ndarray,
        *,
        people_are_rows: bool,
        met: set[frozenset[int]],
        other_role: str,
    ) -> list[str | np.ndarray]:
        """Per person: the reason no partner is possible, or the partners still open.

        Hard rules first (which rule removed how many), then "already met",
        then ``min_score``; a person with partners still open gets the array
        of those partners, for the scheme to word (capacity, objective...).
        """
        if len(people) == 0:
            return []
        cuts = rule_cuts(problem, people, others, people_are_rows=people_are_rows)
        out: list[str | np.ndarray] = []
        for k, person in enumerate(people.tolist()):
            hard = no_partner_reason(cuts, k, int((others != person).sum()), other_role)
            if hard is not None:
                out.append(hard)
                continue
            eligible = others[cuts.eligible[k]]
            fresh = np.array(
                [o for o in eligible.tolist() if frozenset((o, person)) not in met],
                dtype=np.int64,
            )
            if len(fresh) == 0:
                out.append(
                    all_of(len(eligible), "eligible " + other_role, "was", "were")
                    + " already met in earlier rounds"
                )
                continue
            out.append(self._above_min_score(problem, person, fresh, people_are_rows, other_role))
        return out

    def _above_min_score(
        self, problem: Problem, person: int, fresh: np.ndarray, rows: bool, other_role: str
    ) -> str | np.ndarray:
        min_score = problem.scheme.min_score
        if min_score is None:
            return fresh
        me = np.full(len(fresh), person)
        pairs = Pairs(fresh, me) if (rows and problem.directed) else Pairs(me, fresh)
        s = pair_scores(problem, pairs)
        ok = s >= min_score - SCORE_TOLERANCE
        if ok.any():
            return fresh[ok]
        return (
            all_of(len(fresh), "eligible " + other_role, "scores", "score")
            + f" below the minimum score {min_score:g} (best {s.max():.1f})"
        )

    def made_from_table(self, problem: Problem, tables: Mapping[str, pd.DataFrame]) -> Rounds:
        """Per-round units (participant indices) from a written matches table."""
        matches = tables.get("matches", pd.DataFrame())
        lookup = id_lookup(problem)
        out: Rounds = []
        for r in round_numbers(problem):
            rows = matches[matches["round"].astype(int) == r] if len(matches) else matches
            units = []
            for rec in rows.to_dict(orient="records"):
                ids = [rec.get(k) for k in self.id_columns]
                units.append(
                    tuple(
                        lookup_id(problem, str(x), lookup) for x in ids if isinstance(x, str) and x
                    )
                )
            out.append(units)
        return out

    def explain(self, problem: Problem, tables: Mapping[str, pd.DataFrame], a: str, b: str) -> str:
        rounds = self.made_from_table(problem, tables)
        return self.explain_rounds(problem, rounds, a, b, tables=tables)

    def explain_rounds(
        self,
        problem: Problem,
        rounds: Rounds,
        a: str,
        b: str,
        *,
        tables: Mapping[str, pd.DataFrame] | None = None,
    ) -> str:
        """Why (a, b) was or was not made: score breakdown, rules, then who each got instead.

        Against a re-match's tables, a last line says whether a made pair was
        kept or is new, or how a pair of the previous result ended.
        """
        ia, ib = lookup_id(problem, a), lookup_id(problem, b)
        pa, pb, header = self.explain_header(problem, ia, ib)
        score, breakdown = score_breakdown(problem, pa, pb)
        lines = [header, *breakdown]
        guard = self.explain_guard(problem, pa, pb)
        numbers = round_numbers(problem)
        together = [
            numbers[r]
            for r, units in enumerate(rounds)
            if any(self._met_in(u, pa, pb) for u in units)
        ]
        if guard:
            lines.append(guard)
        elif together:
            lines.append(f"{self.made_word} in round " + ", ".join(map(str, together)) + ".")
        elif why := not_allowed(problem, pa, pb, score):
            lines.append("Not allowed: " + "; ".join(why) + ".")
        else:
            lines.append(self.not_made(problem, rounds, pa, pb))
        note = None if tables is None else kept_note(tables, problem, pa, pb, bool(together))
        if note:
            lines.append(note)
        return "\n".join(lines)

    @staticmethod
    def partners(problem: Problem, pairs: Pairs, who: np.ndarray) -> str:
        """``p7 (score 72.73), p9 (score 50.00)``: ``who[k]`` with the score of ``pairs[k]``."""
        if not len(who):
            return "nobody"
        scores = pair_scores(problem, pairs)
        return ", ".join(
            f"{problem.ids[o]} (score {x:.2f})" for o, x in zip(who.tolist(), scores, strict=True)
        )


def _locked_units(problem: Problem) -> set[tuple[int, ...]]:
    return {(int(a), int(b)) for a, b in problem.locked.tolist()}
