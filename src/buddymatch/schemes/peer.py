"""The peer (buddy) scheme: one pool, pairs plus one trio for odd numbers, in rounds.

Each round is an exact (or certified) maximum-weight pairing
(``solvers.pairing.solve_rounds``).  Pairs made in earlier rounds of the run
are not allowed again unless that is the only way to place someone (then the
repeat is reported); history pairs within the cooldown are cut and older ones
penalised by ``candidates.weight_matrix``.  Whoever sat out or was in the trio
before is pushed down the queue, so nobody is always the odd one out.

With ``group_size: k`` (coffee-roulette groups of 3–4) the scheme runs as
cohorts (:mod:`.roulette`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..candidates import weight_matrix
from ..errors import ConfigError, InfeasibleError, Issue
from ..explain import all_of
from ..model import Pairs, Problem, Scheme, Unit
from ..weights import WEIGHT_SCALE
from .base import Progress, RoundOutcome, SchemeRun, round_numbers
from .common import excluded_rows, local_locks
from .pair_rematch import Ending, Placement
from .pairs import PairScheme, Rounds, Solved, met_pairs
from .rematch import Previous

OBJECTIVES = ("max-matched", "max-score", "fair")


class Peer(PairScheme):
    name = "peer"
    objectives = OBJECTIVES
    rule_kinds = ("different", "same", "gap", "forbid", "lock", "exclude", "common")
    criterion_kinds = ("same", "overlap", "closeness", "availability", "preference")
    id_columns = ("member_a", "member_b", "member_c")
    carry_prefixes = ("member_a", "member_b", "member_c")
    made_word = "Together"

    def validate(self, scheme: Scheme) -> Iterator[tuple[str, str]]:
        for path, message in super().validate(scheme):
            if path != "group_size":
                yield path, message
        if (scheme.group_size or 2) > 2:
            for i, rule in enumerate(scheme.rules):
                if rule.kind in ("same", "gap"):
                    yield (
                        f"rules[{i}].{rule.kind}",
                        f"not available with group_size {scheme.group_size} (groups of 3 or "
                        "more); use different, forbid, lock or exclude, or scheme: cohorts "
                        "with composition rules",
                    )

    def sample_settings(self, columns: Mapping[str, str]) -> dict[str, Any]:
        return {
            "participants": {"id": columns["id"]},
            "rules": [{"different": "organisation"}],
            "criteria": [
                {"same": {"attribute": "region", "weight": 3}},
                {"overlap": {"attribute": "interests", "weight": 5}},
            ],
            "leftover": "trio",
            "rounds": 1,
        }

    def run(self, problem: Problem, *, progress: Progress | None = None) -> SchemeRun:
        if (problem.scheme.group_size or 2) > 2:
            from . import roulette

            return roulette.run(problem, progress=progress)
        return super().run(problem, progress=progress)

    def explain(self, problem: Problem, tables: Mapping[str, pd.DataFrame], a: str, b: str) -> str:
        if "groups" in tables:  # group_size groups: explained like cohorts
            from .cohorts import SCHEME as COHORTS

            return COHORTS.explain(problem, tables, a, b)
        return super().explain(problem, tables, a, b)

    # --- solving -------------------------------------------------------------------

    def solve(self, problem: Problem) -> Solved:
        from ..solvers import Status  # solvers load OR-Tools and numba: only when solving
        from ..solvers.pairing import solve_rounds

        scheme = problem.scheme
        pool = problem.pool()
        base = weight_matrix(problem, pool, pool)
        results = solve_rounds(
            base,
            scheme.rounds,
            objective=scheme.objective_name,
            leftover=scheme.leftover,
            seed=scheme.solver.seed,
            time_limit=scheme.solver.time_limit,
            locked=local_locks(problem, pool, pool, base),
            overwrite=True,  # base is ours: rounds work in it, not in a second n x n copy
        )
        rounds: Rounds = []
        outcomes: list[RoundOutcome] = []
        repeats: set[frozenset[int]] = set()
        for r, out in enumerate(results):
            if out.status in (Status.INFEASIBLE, Status.UNKNOWN):
                reason = out.stats.get("reason", "no valid pairing")
                raise InfeasibleError(f"round {r + 1}: {reason}")
            local = sorted(
                tuple(int(x) for x in u) for u in (*out.pairs.tolist(), *out.trios.tolist())
            )
            rounds.append([tuple(int(pool[i]) for i in u) for u in local])
            repeats |= _repeated_pairs(str(out.stats.get("repeated_pairs", "")), pool)
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
        return Solved(rounds, outcomes, repeats)

    # --- re-matching (shared work in pair_rematch.py) ------------------------------------

    def rematch(
        self,
        problem: Problem,
        previous: Previous,
        *,
        max_changes: int = 0,
        progress: Progress | None = None,
    ) -> SchemeRun:
        if "groups" in previous.tables:  # group_size groups: repaired like cohorts
            from . import roulette

            return roulette.rematch(problem, previous, max_changes=max_changes, progress=progress)
        return super().rematch(problem, previous, max_changes=max_changes, progress=progress)

    def rematch_trim(self, problem: Problem, kept: list[Unit]) -> tuple[list[Unit], list[Ending]]:
        """A kept unit holding someone a lock now pairs with another person ends."""
        locks = {tuple(sorted(int(x) for x in p)) for p in problem.locked.tolist()}
        locked_people = {m for u in locks for m in u}
        out: list[Unit] = []
        ended: list[Ending] = []
        for unit in kept:
            if set(unit) & locked_people and unit not in locks:
                ended.append((unit, "lock", "a lock rule now pairs a member with someone else"))
            else:
                out.append(unit)
        return out, ended

    def rematch_place(
        self,
        problem: Problem,
        kept: list[Unit],
        not_again: set[frozenset[int]],
        *,
        max_changes: int,
    ) -> Placement:
        from ..solvers.pairing import solve_pairing_with_changes

        scheme = problem.scheme
        if max_changes > 0 and scheme.objective == "fair":
            raise ConfigError(issues=[_max_changes_issue()])
        pool = problem.pool()
        forbid = np.array(sorted(sorted(p) for p in not_again), dtype=np.int64).reshape(-1, 2)
        weights = weight_matrix(problem, pool, pool, extra_forbidden=forbid)
        pos = {int(x): k for k, x in enumerate(pool)}
        locks = [
            tuple(sorted(pos[int(x)] for x in p))
            for p in problem.locked.tolist()
            if tuple(sorted(int(x) for x in p)) not in set(kept)
        ]
        try:
            res = solve_pairing_with_changes(
                weights, kept=[tuple(pos[m] for m in u) for u in kept], max_changes=max_changes,
                objective=scheme.objective_name, leftover=scheme.leftover, locked=locks,
                time_limit=scheme.solver.time_limit, seed=scheme.solver.seed,
            )  # fmt: skip
        except ValueError as exc:
            raise InfeasibleError(str(exc)) from None
        outcome = RoundOutcome(
            status=res.status.value,
            objective_value=float(res.objective) / WEIGHT_SCALE,
            bound=None if res.bound is None else float(res.bound) / WEIGHT_SCALE,
            units=len(kept) - len(res.broken) + len(res.new),
            solver=str(res.stats.get("method", "blossom")),
        )
        trade = [(c, v / WEIGHT_SCALE) for c, v in res.trade_off] or [(0, outcome.objective_value)]
        return Placement(
            new=[tuple(sorted(int(pool[i]) for i in u)) for u in res.new],
            broken=[tuple(sorted(int(pool[i]) for i in u)) for u in res.broken],
            outcome=outcome,
            trade_off=[{"changes": c, "objective_value": round(v, 6)} for c, v in trade],
        )

    def extra_summary(
        self, problem: Problem, rounds: Rounds, scores: list[list[float]]
    ) -> dict[str, Any]:
        return {"fairness": _fairness(problem, problem.pool(), rounds, scores)}

    # --- who was left out, and why ---------------------------------------------------

    def unmatched_rows(self, problem: Problem, rounds: Rounds) -> list[tuple[Any, ...]]:
        pool = problem.pool()
        numbers = round_numbers(problem)
        rows: list[tuple[Any, ...]] = list(excluded_rows(problem, "member"))
        for r, units in enumerate(rounds):
            placed = {m for u in units for m in u}
            left = np.array([i for i in pool.tolist() if i not in placed], dtype=np.int64)
            reasons = self._reasons(problem, left, pool, met_pairs(rounds[:r]))
            for i, reason in zip(left.tolist(), reasons, strict=True):
                rows.append((numbers[r], problem.ids[i], "member", reason))
        return rows

    def _reasons(
        self, problem: Problem, people: np.ndarray, pool: np.ndarray, met: set[frozenset[int]]
    ) -> list[str]:
        open_ = self.partner_reasons(
            problem, people, pool, people_are_rows=True, met=met, other_role="partner"
        )
        out = []
        for fresh in open_:
            if isinstance(fresh, str):
                out.append(fresh)
            elif problem.scheme.leftover == "exclude":
                out.append(
                    "odd number of people who can be paired: one sits out (leftover: exclude); "
                    "chosen to serve the objective, preferring someone who has not sat out before"
                )
            else:
                out.append(
                    all_of(len(fresh), "eligible partner", "is", "are")
                    + " paired with others: no trio could include this person under the rules"
                )
        return out

    # --- explanations -----------------------------------------------------------------

    def explain_header(self, problem: Problem, ia: int, ib: int) -> tuple[int, int, str]:
        return ia, ib, f"Members {problem.ids[ia]} and {problem.ids[ib]}"

    def not_made(self, problem: Problem, rounds: Rounds, a: int, b: int) -> str:
        """Who each of the two was with instead, round by round (ids and scores)."""
        numbers = round_numbers(problem)
        parts = [
            "; ".join(self._with(problem, units, person, n) for person in (a, b))
            for n, units in zip(numbers, rounds, strict=False)
        ] or ["nothing was made"]
        text = parts[0] if len(parts) == 1 else " | ".join(parts)
        return (
            f"Allowed but not made: {text} — the objective {problem.scheme.objective} "
            "preferred these pairs overall."
        )

    def _with(self, problem: Problem, units: list[Unit], person: int, number: int) -> str:
        unit = next((u for u in units if person in u), None)
        if unit is None:
            return f"{problem.ids[person]} was not paired in round {number}"
        others = np.asarray([o for o in unit if o != person], dtype=np.int64)
        pairs = Pairs(np.full(len(others), person), others)
        shown = self.partners(problem, pairs, others)
        when = f" in round {number}" if problem.scheme.rounds > 1 else ""
        return f"{problem.ids[person]} was paired with {shown}{when}"


def _repeated_pairs(text: str, pool: np.ndarray) -> set[frozenset[int]]:
    """The solver's ``"i-j;k-l"`` repeats (pool positions) as participant pairs."""
    out = set()
    for pair in text.split(";"):
        if pair:
            a, b = (int(pool[int(x)]) for x in pair.split("-"))
            out.add(frozenset((a, b)))
    return out


def _fairness(
    problem: Problem, pool: np.ndarray, rounds: Rounds, scores: list[list[float]]
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


def _max_changes_issue() -> Issue:
    return Issue(
        "--max-changes needs objective max-matched or max-score, not fair",
        fix="use --max-changes 0 (every pair that still holds is kept) or change the objective",
    )


SCHEME = Peer()
