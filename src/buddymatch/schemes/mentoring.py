"""The mentoring scheme: mentees × mentors with capacities, directed pairs.

Each round: weights from scoring and hard rules, stored by profile class
(``candidates.pair_weights``: rows = mentees, columns = mentors, no
rows × columns array), the exact assignment solver, then the shared pair-scheme check,
tables and explanations (:mod:`.pairs`).  Later rounds forbid pairs already
made.  Locked pairs apply to the first round.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from ..candidates import pair_weights, weight_matrix
from ..errors import ConfigError, InfeasibleError, Issue
from ..explain import all_of
from ..model import BOTH, MENTEE, MENTOR, Pairs, PrioritiesSpec, Problem, Scheme, Unit
from ..scoring import pair_scores
from ..weights import NOT_ALLOWED, WEIGHT_SCALE
from .base import LevelValue, RoundOutcome, round_numbers
from .both_roles import solve_without_conflicts
from .common import excluded_rows, local_locks, role_word
from .pair_rematch import Ending, Placement
from .pairs import PairScheme, Rounds, Solved, met_pairs

OBJECTIVES = ("max-matched", "max-score", "fair")
PRIORITY_NAMES = ("mentees-covered", "mentors-covered", "priority-covered", "pairs", "score")
"""The levels of ``objective: {priorities: [...]}`` (solvers.assignment.PRIORITIES)."""


class Mentoring(PairScheme):
    name = "mentoring"
    objectives = OBJECTIVES
    priority_names = PRIORITY_NAMES
    rule_kinds = ("different", "same", "gap", "forbid", "lock", "exclude", "common")
    criterion_kinds = ("same", "overlap", "closeness", "availability", "preference")
    directed = True
    id_columns = ("mentor_id", "mentee_id")
    carry_prefixes = ("mentor", "mentee")
    locked_column = True

    def validate(self, scheme: Scheme) -> Iterator[tuple[str, str]]:
        if scheme.participants.role is None:
            yield (
                "participants.role",
                "mentoring needs a role: {column: ..., mentor: [...], mentee: [...]} "
                "or files: {pattern: mentor|mentee}",
            )
        yield from super().validate(scheme)

    def pair_space(self, problem: Problem) -> tuple[np.ndarray, np.ndarray]:
        return problem.mentees(), problem.mentors()

    def population(self, problem: Problem) -> dict[str, Any]:
        role = problem.role
        mentors, mentees = problem.mentors(), problem.mentees()
        return {
            "roles": {
                "mentor": int((role == MENTOR).sum()),
                "mentee": int((role == MENTEE).sum()),
                "both": int((role == BOTH).sum()),
            },
            "mentor_capacity": int(problem.capacity[mentors].sum()),
            "mentors_wanted": int(problem.wants[mentees].sum()),
        }

    def sample_settings(self, columns: Mapping[str, str]) -> dict[str, Any]:
        return {
            "participants": {
                "id": columns["id"],
                "role": {
                    "column": columns["role"],
                    "mentor": ["Mentor"],
                    "mentee": ["Mentee"],
                    "both": ["Either"],
                },
                "capacity": {"column": columns["capacity"], "default": 1},
            },
            "rules": [
                {"different": "organisation"},
                {"gap": {"attribute": "band", "min": 1, "max": 3}},
            ],
            "criteria": [
                {"overlap": {"mentee": "interests", "mentor": "expertise", "weight": 5}},
                {"same": {"attribute": "region", "weight": 3}},
            ],
            "objective": "max-matched",
        }

    # --- solving -------------------------------------------------------------------

    def solve(self, problem: Problem) -> Solved:
        from ..solvers import Status  # solvers load OR-Tools and numba: only when solving

        scheme = problem.scheme
        mentees, mentors = problem.mentees(), problem.mentors()
        used = np.zeros((0, 2), dtype=np.int64)
        outcomes: list[RoundOutcome] = []
        rounds: Rounds = []
        for r in range(scheme.rounds):
            out = _solve_round(problem, mentees, mentors, used, first=r == 0)
            if out.status in (Status.INFEASIBLE, Status.UNKNOWN):
                reason = str(out.stats.get("reason", "the solver found no valid result"))
                raise InfeasibleError(f"round {r + 1}: {reason}")
            pairs = Pairs.from_matrix(mentees, mentors, out.pairs[:, 0], out.pairs[:, 1])
            rounds.append([(a, b) for a, b in pairs])
            used = np.concatenate([used, pairs.array()])
            outcomes.append(_outcome(scheme.objective, out, len(pairs)))
        return Solved(rounds, outcomes, set())

    # --- re-matching (shared work in pair_rematch.py) ------------------------------------

    def rematch_trim(self, problem: Problem, kept: list[Unit]) -> tuple[list[Unit], list[Ending]]:
        """Locks take their places first, then kept pairs by score while capacity lasts."""
        locks = [(int(a), int(b)) for a, b in problem.locked.tolist()]
        mentor_load = Counter(a for a, _ in locks)
        mentee_load = Counter(b for _, b in locks)
        scores = pair_scores(problem, Pairs.of(kept)) if kept else np.zeros(0)
        dropped: dict[Unit, tuple[str, str]] = {}
        for k in np.argsort(-scores, kind="stable").tolist():
            unit = kept[k]
            if unit in locks:
                continue
            mentor, mentee = unit
            why = _over_capacity(problem, mentor, mentee, mentor_load, mentee_load)
            if why is not None:
                dropped[unit] = ("capacity now lower", why)
                continue
            mentor_load[mentor] += 1
            mentee_load[mentee] += 1
        ended = [(u, *dropped[u]) for u in kept if u in dropped]
        return [u for u in kept if u not in dropped], ended

    def rematch_place(
        self,
        problem: Problem,
        kept: list[Unit],
        not_again: set[frozenset[int]],
        *,
        max_changes: int,
    ) -> Placement:
        """Kept pairs locked (or breakable up to ``max_changes``); the rest by the objective.

        With no budget and objective max-matched only the free places are
        solved (mentees still wanting a mentor × mentors with room): the kept
        pairs are a constant of the objective, so this is the same optimum on a
        much smaller matrix.
        """
        scheme = problem.scheme
        forbid = np.array(sorted(sorted(p) for p in not_again), dtype=np.int64).reshape(-1, 2)
        if max_changes == 0 and scheme.objective == "max-matched":
            return self._place_free(problem, kept, forbid)
        if max_changes > 0 and scheme.objective not in ("max-matched", "max-score"):
            raise ConfigError(issues=[_max_changes_issue(scheme.objective_name)])
        mentees, mentors = problem.mentees(), problem.mentors()
        weights: Any = (
            pair_weights(problem, mentees, mentors, extra_forbidden=forbid)
            if max_changes == 0  # by profile class, as a first match stores it
            else weight_matrix(problem, mentees, mentors, extra_forbidden=forbid)
        )
        locks = local_locks(problem, mentees, mentors, weights)
        locks = np.zeros((0, 2), np.int64) if locks is None else locks
        row = {int(x): k for k, x in enumerate(mentees)}
        col = {int(x): k for k, x in enumerate(mentors)}
        mine = np.array([(row[b], col[a]) for a, b in kept], dtype=np.int64).reshape(-1, 2)
        caps = (problem.wants[mentees], problem.capacity[mentors])
        if max_changes == 0:
            favour = _favour(problem, mentees, mentors)
            out = _assign(weights, caps, scheme, np.concatenate([mine, locks]), favour)
            pairs, broken = out.pairs, np.zeros((0, 2), np.int64)
            outcome = _outcome(scheme.objective, out, len(pairs))
            trade = [(0, outcome.objective_value)]
        else:
            from ..solvers.assignment import solve_with_changes

            weights = _with_bonus(weights, _favour(problem, mentees, mentors))
            res = solve_with_changes(
                weights, *caps, kept=mine, max_changes=max_changes, objective=scheme.objective_name,
                locked=locks, time_limit=scheme.solver.time_limit,
            )  # fmt: skip
            if not len(res.broken) and scheme.objective == "max-matched":
                return self._place_free(problem, kept, forbid)  # the same result as no budget
            pairs, broken = res.pairs, res.broken
            outcome = _outcome(scheme.objective, res, len(pairs), solver="budgeted min-cost flow")
            unit = WEIGHT_SCALE if scheme.objective == "max-score" else 1
            trade = [(c, v / unit) for c, v in res.trade_off]
        made = Pairs.from_matrix(mentees, mentors, pairs[:, 0], pairs[:, 1])
        gone = Pairs.from_matrix(mentees, mentors, broken[:, 0], broken[:, 1])
        return _placement(kept, made, [(a, b) for a, b in gone], outcome, trade)

    def _place_free(self, problem: Problem, kept: list[Unit], forbid: np.ndarray) -> Placement:
        """max-matched, no budget: solve the free places only; kept pairs add a constant."""
        mentees, mentors = problem.mentees(), problem.mentors()
        taken_e = Counter(b for _, b in kept)
        taken_m = Counter(a for a, _ in kept)
        want = problem.wants[mentees] - np.array([taken_e[int(i)] for i in mentees], np.int64)
        room = problem.capacity[mentors] - np.array([taken_m[int(j)] for j in mentors], np.int64)
        rows, cols = mentees[want > 0], mentors[room > 0]
        kept_arr = np.array(kept, dtype=np.int64).reshape(-1, 2)
        weights = pair_weights(
            problem, rows, cols, extra_forbidden=np.concatenate([forbid, kept_arr])
        )
        locked = problem.locked[[tuple(p) not in set(kept) for p in problem.locked.tolist()]]
        locks = local_locks(replace(problem, locked=locked), rows, cols, weights)
        caps = (want[want > 0], room[room > 0])
        out = _assign(weights, caps, problem.scheme, locks, _favour(problem, rows, cols))
        made = Pairs.from_matrix(rows, cols, out.pairs[:, 0], out.pairs[:, 1])
        outcome = _outcome("max-matched", out, len(made) + len(kept))
        outcome = replace(
            outcome,
            objective_value=outcome.objective_value + len(kept),
            bound=None if outcome.bound is None else outcome.bound + len(kept),
        )
        return _placement(kept, made, [], outcome, [(0, outcome.objective_value)])

    def rematch_order(self, problem: Problem, units: list[Unit]) -> list[Unit]:
        """By mentee, then mentor: the order ``match`` writes."""
        return sorted(units, key=lambda u: (u[1], u[0]))

    # --- who was left out, and why ---------------------------------------------------

    def unmatched_rows(self, problem: Problem, rounds: Rounds) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = list(excluded_rows(problem))
        numbers = round_numbers(problem)
        for r, units in enumerate(rounds):
            pairs = Pairs.of(units)
            met = met_pairs(rounds[:r])
            rows += self._short_mentees(problem, numbers[r], pairs, met)
            rows += self._idle_mentors(problem, numbers[r], pairs, met)
        return sorted(rows, key=lambda row: row[0])  # stable: by round, as built

    def _short_mentees(
        self, problem: Problem, number: int, pairs: Pairs, met: set[frozenset[int]]
    ) -> list[tuple[Any, ...]]:
        got_mentors = np.bincount(pairs.mentee, minlength=problem.n)
        got_mentees = np.bincount(pairs.mentor, minlength=problem.n)
        short = [
            int(i)
            for i in problem.mentees()
            if got_mentors[i] < problem.wants[i]
            and not (problem.role[i] == BOTH and got_mentees[i] > 0)  # mentoring this round
        ]
        rows: list[tuple[Any, ...]] = [
            (number, problem.ids[i], "mentee", "wants no mentor (0 requested)")
            for i in short
            if problem.wants[i] == 0 and problem.role[i] == MENTEE
        ]
        short = [i for i in short if problem.wants[i] > 0]
        people = np.asarray(short, dtype=np.int64)
        reasons = self._reasons(problem, people, problem.mentors(), True, pairs, met)
        for i, reason in zip(short, reasons, strict=True):
            if got_mentors[i] > 0:
                reason = f"got {got_mentors[i]} of {problem.wants[i]} mentors wanted: {reason}"
            rows.append((number, problem.ids[i], role_word(problem, i), reason))
        return rows

    def _idle_mentors(
        self, problem: Problem, number: int, pairs: Pairs, met: set[frozenset[int]]
    ) -> list[tuple[Any, ...]]:
        got_mentees = np.bincount(pairs.mentor, minlength=problem.n)
        idle = [
            int(j)
            for j in problem.mentors()
            if got_mentees[j] == 0 and problem.role[j] != BOTH  # both: reported as mentee
        ]
        rows: list[tuple[Any, ...]] = [
            (number, problem.ids[j], "mentor", "capacity is 0: takes no mentees this time")
            for j in idle
            if problem.capacity[j] == 0
        ]
        full = [j for j in idle if problem.capacity[j] > 0]
        people = np.asarray(full, dtype=np.int64)
        reasons = self._reasons(problem, people, problem.mentees(), False, pairs, met)
        rows += [(number, problem.ids[j], "mentor", x) for j, x in zip(full, reasons, strict=True)]
        return rows

    def _reasons(
        self,
        problem: Problem,
        people: np.ndarray,
        others: np.ndarray,
        are_mentees: bool,
        pairs: Pairs,
        met: set[frozenset[int]],
    ) -> list[str]:
        """The concrete reason each person has no (or too few) partners this round.

        Counted by profile class (no people × others array): each person's fresh
        eligible partners (rules, not met in earlier rounds, ``min_score``) and how
        many of them still have room; people with none at all get the rule-by-rule
        account of :meth:`PairScheme.partner_reasons`.
        """
        if len(people) == 0:
            return []
        fresh, spare = _fresh_partners(problem, people, others, are_mentees, pairs, met)
        none = people[fresh == 0]
        other_role = "mentor" if are_mentees else "mentee"
        hard = self.partner_reasons(
            problem, none, others, people_are_rows=are_mentees, met=met, other_role=other_role
        )
        account = dict(zip(none.tolist(), hard, strict=True))
        objective = problem.scheme.objective_text
        out = []
        for k, person in enumerate(people.tolist()):
            if fresh[k] == 0:
                out.append(str(account[person]))
            elif spare[k] == 0 and are_mentees:
                out.append(
                    all_of(int(fresh[k]), "eligible mentor", "is", "are") + " at full capacity "
                    f"(objective {objective}: their places went where they matched more people "
                    "or scored higher)"
                )
            elif spare[k] == 0:
                out.append(
                    all_of(int(fresh[k]), "eligible mentee", "has", "have")
                    + " the mentors they wanted"
                )
            else:
                out.append(
                    f"not chosen: the objective {objective} gains nothing from the pairs still open"
                )
        return out

    # --- explanations -----------------------------------------------------------------

    def explain_header(self, problem: Problem, ia: int, ib: int) -> tuple[int, int, str]:
        if problem.role[ia] in (MENTOR, BOTH) and problem.role[ib] in (MENTEE, BOTH):
            mentor, mentee = ia, ib
        else:
            mentor, mentee = ib, ia
        return mentor, mentee, f"Mentor {problem.ids[mentor]}, mentee {problem.ids[mentee]}"

    def explain_guard(self, problem: Problem, a: int, b: int) -> str | None:
        if problem.role[a] not in (MENTOR, BOTH) or problem.role[b] not in (MENTEE, BOTH):
            return "Not made: these two are not a mentor and a mentee."
        return None

    def not_made(self, problem: Problem, rounds: Rounds, a: int, b: int) -> str:
        """Who the mentee and the mentor got instead, round by round (ids and scores)."""
        numbers = round_numbers(problem)
        parts = [self._instead(problem, units, a, b) for units in rounds] or ["nothing was made"]
        if len(parts) == 1:
            text = parts[0]
        else:
            text = " | ".join(f"round {n}: {p}" for n, p in zip(numbers, parts, strict=True))
        return (
            f"Allowed but not made: {text} — the objective {problem.scheme.objective_text} "
            "preferred these pairs overall."
        )

    def _instead(self, problem: Problem, units: list[Unit], mentor: int, mentee: int) -> str:
        made = Pairs.of(units)
        theirs = made.mentor[made.mentee == mentee]  # the mentee's mentors
        load = made.mentee[made.mentor == mentor]  # the mentor's mentees
        got = self.partners(problem, Pairs(theirs, np.full(len(theirs), mentee)), theirs)
        gave = self.partners(problem, Pairs(np.full(len(load), mentor), load), load)
        full = ", full" if len(load) >= problem.capacity[mentor] else ""
        return (
            f"the mentee got {got}, {problem.wants[mentee]} wanted; "
            f"the mentor got {gave}, capacity {problem.capacity[mentor]}{full}"
        )


def _solve_round(
    problem: Problem, mentees: np.ndarray, mentors: np.ndarray, used: np.ndarray, *, first: bool
) -> Any:
    """One round's exact assignment; people who are "both" never mentor each other (and,
    with ``role.one_role``, take one role), by :mod:`.both_roles` around the flow.

    The pair space is stored by profile class (:func:`~buddymatch.candidates.pair_weights`);
    the pairs a branch blocks in one direction are exceptions of it."""
    from ..solvers import Status
    from ..solvers.assignment import solve_assignment

    scheme = problem.scheme

    def attempt(extra: np.ndarray) -> Any:
        weights = pair_weights(
            problem, mentees, mentors, extra_forbidden=used, directed_blocks=extra
        )
        locked = local_locks(problem, mentees, mentors, weights) if first else None
        return solve_assignment(
            weights,
            problem.wants[mentees],
            problem.capacity[mentors],
            objective=_levels(scheme),
            locked=locked,
            favour=_favour(problem, mentees, mentors),
            time_limit=scheme.solver.time_limit,
        )

    return solve_without_conflicts(
        problem,
        attempt,
        lambda o: Pairs.from_matrix(mentees, mentors, o.pairs[:, 0], o.pairs[:, 1]),
        {(int(a), int(b)) for a, b in problem.locked.tolist()} if first else set(),
        lambda o: o.status not in (Status.INFEASIBLE, Status.UNKNOWN),
    )


def _assign(
    weights: Any, caps: tuple[np.ndarray, np.ndarray], scheme: Scheme, locked: Any, favour: Any
) -> Any:
    """solve_assignment with the scheme's objective and time limit; infeasible is an error."""
    from ..solvers.assignment import solve_assignment

    out = solve_assignment(
        weights, *caps, objective=_levels(scheme), locked=locked, favour=favour,
        time_limit=scheme.solver.time_limit,
    )  # fmt: skip
    _raise_if_unsolved(out)
    return out


def _placement(
    kept: list[Unit],
    made: Pairs,
    broken: list[Unit],
    outcome: RoundOutcome,
    trade: list[tuple[int, float]],
) -> Placement:
    kept_set = set(kept)
    return Placement(
        new=[(a, b) for a, b in made if (a, b) not in kept_set],
        broken=broken,
        outcome=outcome,
        trade_off=[{"changes": c, "objective_value": round(v, 6)} for c, v in trade],
    )


def _raise_if_unsolved(out: Any) -> None:
    from ..solvers import Status

    if out.status in (Status.INFEASIBLE, Status.UNKNOWN):
        raise InfeasibleError(str(out.stats.get("reason", "the solver found no valid result")))


def _over_capacity(
    problem: Problem, mentor: int, mentee: int, mentor_load: Counter[int], mentee_load: Counter[int]
) -> str | None:
    if mentor_load[mentor] >= problem.capacity[mentor]:
        return f"capacity now lower: the mentor takes {problem.capacity[mentor]} mentee(s) now"
    if mentee_load[mentee] >= problem.wants[mentee]:
        return f"capacity now lower: the mentee wants {problem.wants[mentee]} mentor(s) now"
    return None


def _max_changes_issue(objective: str) -> Issue:
    return Issue(
        f"--max-changes needs objective max-matched or max-score, not {objective}",
        fix="use --max-changes 0 (every pair that still holds is kept) or change the objective",
    )


def _fresh_partners(
    problem: Problem,
    people: np.ndarray,
    others: np.ndarray,
    are_mentees: bool,
    pairs: Pairs,
    met: set[frozenset[int]],
) -> tuple[np.ndarray, np.ndarray]:
    """Per person: partners allowed this round (rules, not met before, ``min_score``), and
    how many of those still have room (a mentor below capacity, a mentee short of mentors)."""
    from ..solvers.assignment.flow import capped_degrees, clear_caches

    met_pairs = np.array([sorted(p) for p in met], dtype=np.int64).reshape(-1, 2)
    rows, cols = (people, others) if are_mentees else (others, people)
    weights = pair_weights(problem, rows, cols, extra_forbidden=met_pairs)
    if not are_mentees:
        weights = weights.transposed()
    if are_mentees:
        room = np.bincount(pairs.mentor, minlength=problem.n) < problem.capacity
    else:
        room = np.bincount(pairs.mentee, minlength=problem.n) < problem.wants
    none = np.empty(0, np.int64)
    try:
        every = capped_degrees(weights, np.full(len(people), len(others)), 0, none, none)
        spare = capped_degrees(weights, np.ones(len(people), np.int64), 0, none, none, room[others])
    finally:
        clear_caches()
    return every, spare


def _levels(scheme: Scheme) -> str | tuple[str, ...]:
    """The solver's objective: a named one, or the priority level names."""
    objective = scheme.objective
    return objective if isinstance(objective, str) else objective.priorities


def _favour(problem: Problem, mentees: np.ndarray, mentors: np.ndarray) -> Any:
    """The solver's view of ``priority:`` (None when no one is favoured)."""
    from ..solvers.assignment import Favour

    spec = problem.scheme.priority
    if spec is None or problem.favoured is None:
        return None
    bonus = round(spec.bonus * WEIGHT_SCALE)
    return Favour(problem.favoured[mentees], problem.favoured[mentors], bonus)


def _with_bonus(weights: np.ndarray, favour: Any) -> np.ndarray:
    """Dense weights with ``priority:``'s bonus folded in (each favoured member of an
    allowed pair adds it), for the budgeted re-match solve, whose objective is
    max-matched or max-score: the same objective the assignment solver's score level
    optimises with the bonus.  Unchanged without a bonus."""
    if favour is None or not favour.bonus:
        return weights
    add = favour.bonus * (favour.left[:, None].astype(np.int64) + favour.right[None, :])
    return np.where(weights == NOT_ALLOWED, weights, weights.astype(np.int64) + add)


def _outcome(
    objective: str | PrioritiesSpec, out: Any, units: int, solver: str | None = None
) -> RoundOutcome:
    """A round's outcome in user units: counts, or score points for score levels
    (max-score, and a priorities objective whose first level is score)."""

    def unit(name: str) -> float:
        return float(WEIGHT_SCALE) if name == "score" else 1.0

    first = "score" if objective == "max-score" else "count"
    if not isinstance(objective, str):
        first = objective.priorities[0]
    scale = unit(first)
    levels: tuple[LevelValue, ...] = ()
    if not isinstance(objective, str) and hasattr(out, "levels"):  # priorities only
        levels = tuple(
            LevelValue(
                lv.name,
                lv.value / unit(lv.name),
                None if lv.bound is None else lv.bound / unit(lv.name),
            )
            for lv in out.levels
        )
    return RoundOutcome(
        status=out.status.value,
        objective_value=float(out.objective) / scale,
        bound=None if out.bound is None else float(out.bound) / scale,
        units=units,
        solver=solver or str(out.stats.get("solver", "min-cost-flow")),
        levels=levels,
    )


SCHEME = Mentoring()
