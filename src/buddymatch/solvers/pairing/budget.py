"""Re-pairing a pool with a budget: current units stay unless breaking at most K of them pays.

:func:`solve_pairing_with_changes` takes a pool's weights (as
:func:`~buddymatch.solvers.pairing.solve_pairing`), the units that exist now
(``kept``: pairs and trios, pool positions) and ``max_changes`` K.  A solution
keeps or **breaks** each kept unit (at most K broken), and places the others —
everyone not in a kept unit, plus the members of broken ones — in new pairs
and at most one new trio (``leftover="trio"``); ``locked`` pairs are always
made.  Every pair inside a new unit must be allowed.  Values are the pairing
solver's: a pair is worth its weight, a trio half the sum of its three.

With ``max_changes=0`` every kept unit stays and everyone else is paired by
:func:`~buddymatch.solvers.pairing.solve_pairing` (any objective, ``fair``
included).  With a budget, the objectives are, exactly (an integer program
solved by OR-Tools CP-SAT, one level at a time, each fixed before the next,
run only when breaking every kept unit would do better than keeping them all):

- ``max-matched``: most people placed, then fewest units broken, then value;
- ``max-score``: most value, then fewest units broken.

The model has two variables per allowed pair of the pool and one per person
(the trio is three chosen people, not an enumeration of triangles), so it is
for pools of up to several hundred people: beyond ``MAX_PAIRS`` allowed pairs
it raises ``ValueError`` (re-match those with ``max_changes=0``, which never
needs this model).  ``OPTIMAL`` is reported only when CP-SAT proves every level.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from buddymatch.solvers import NOT_ALLOWED, Status
from buddymatch.solvers.pairing.solve import solve_pairing

MAX_PAIRS = 60_000
DEFAULT_TIME_LIMIT = 120.0


@dataclass(frozen=True)
class PairingChanges:
    """Result of :func:`solve_pairing_with_changes` (pool positions).

    ``new`` are the units made that were not kept (locks included), ``broken``
    the kept units not kept; ``objective`` the round's total value (kept units
    included, weight units), ``bound`` equal to it when proven.
    """

    status: Status
    new: list[tuple[int, ...]]
    broken: list[tuple[int, ...]]
    objective: float
    bound: float | None
    trade_off: list[tuple[int, float]] = field(default_factory=list)
    stats: dict[str, float | int | str] = field(default_factory=dict)


def _allowed(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The allowed-pair mask (symmetric, no diagonal) and its pairs (i < j)."""
    allowed = weights != NOT_ALLOWED
    allowed &= allowed.T
    np.fill_diagonal(allowed, False)
    i, j = np.nonzero(np.triu(allowed, k=1))
    if len(i) > MAX_PAIRS:
        raise ValueError(f"{len(i)} allowed pairs: more than {MAX_PAIRS} for a budgeted re-match")
    return allowed, np.stack([i, j], axis=1).astype(np.int64)


def _value2(weights: np.ndarray, unit: tuple[int, ...]) -> int:
    """Twice a unit's value: 2 w for a pair, the sum of three weights for a trio."""
    if len(unit) == 2:
        return 2 * int(weights[unit[0], unit[1]])
    a, b, c = unit
    return int(weights[a, b]) + int(weights[a, c]) + int(weights[b, c])


def solve_pairing_with_changes(
    weights: np.ndarray,
    *,
    kept: list[tuple[int, ...]],
    max_changes: int,
    objective: str = "max-matched",
    leftover: str = "trio",
    locked: list[tuple[int, ...]] | None = None,
    time_limit: float | None = None,
    seed: int = 0,
) -> PairingChanges:
    """Best units breaking at most ``max_changes`` of ``kept`` (module docstring)."""
    if objective not in ("max-matched", "max-score") and max_changes > 0:
        raise ValueError(f"a budget on changes supports max-matched and max-score, not {objective}")
    if max_changes < 0:
        raise ValueError("max_changes must be >= 0")
    w = np.asarray(weights)
    kept_units = [tuple(sorted(int(x) for x in u)) for u in kept]
    for u in kept_units:
        if any(w[a, b] == NOT_ALLOWED for i, a in enumerate(u) for b in u[i + 1 :]):
            raise ValueError("a kept unit holds a pair the weights do not allow")
    locks = [tuple(sorted(int(x) for x in p)) for p in (locked or [])]
    start = time.perf_counter()
    options = {"objective": objective, "leftover": leftover, "time_limit": time_limit, "seed": seed}
    base = _keep_all(w, kept_units, locks, options)
    if max_changes == 0 or _nothing_to_gain(w, base, locks, options):
        base.stats["runtime_s"] = round(time.perf_counter() - start, 4)
        return replace(base, trade_off=[(0, base.objective)] if max_changes else [])
    model = _Model(w, kept_units, locks, leftover == "trio")
    model.limit = DEFAULT_TIME_LIMIT if time_limit is None else time_limit
    model.seed = seed
    best = model.solve(objective, max_changes, hint=base)
    value = best.value2 / 2
    proven = best.proven and base.status == Status.OPTIMAL
    return PairingChanges(
        status=Status.OPTIMAL if proven else Status.FEASIBLE,
        new=best.new,
        broken=best.broken,
        objective=value,
        bound=value if proven else None,
        trade_off=sorted({(0, base.objective), (len(best.broken), value)}),
        stats={
            "method": "CP-SAT (budgeted re-pairing)",
            "pair_variables": len(model.pairs),
            "runtime_s": round(time.perf_counter() - start, 4),
        },
    )


def _keep_all(
    w: np.ndarray,
    kept: list[tuple[int, ...]],
    locks: list[tuple[int, ...]],
    options: dict[str, Any],
) -> PairingChanges:
    """No unit broken: everyone outside the kept units paired by :func:`solve_pairing`."""
    busy = {m for u in kept for m in u}
    free = np.array([i for i in range(len(w)) if i not in busy], dtype=np.int64)
    at = {int(x): k for k, x in enumerate(free)}
    out = solve_pairing(
        w[np.ix_(free, free)],
        locked=np.array([[at[a], at[b]] for a, b in locks], dtype=np.int64).reshape(-1, 2),
        **options,
    )
    if out.status in (Status.INFEASIBLE, Status.UNKNOWN):
        raise ValueError(str(out.stats.get("reason", "no valid pairing")))
    new = [tuple(int(free[i]) for i in u) for u in (*out.pairs.tolist(), *out.trios.tolist())]
    fixed = sum(_value2(w, u) for u in kept) / 2
    stats = dict(out.stats)
    stats["people_placed"] = int(out.stats["people_placed"]) + sum(len(u) for u in kept)
    return PairingChanges(
        status=out.status,
        new=new,
        broken=[],
        objective=float(out.objective) + fixed,
        bound=None if out.bound is None else float(out.bound) + fixed,
        stats=stats,
    )


def _nothing_to_gain(
    w: np.ndarray, base: PairingChanges, locks: list[tuple[int, ...]], options: dict[str, Any]
) -> bool:
    """Whether no break can help: the pool paired with every unit broken does no better.

    Exact when both solves are proven: breaking units can only lose if even
    breaking all of them does not place more people (max-matched) or raise the
    value (max-score), since keeping everything costs no changes.
    """
    top = _keep_all(w, [], locks, options)
    if base.status != Status.OPTIMAL or top.status != Status.OPTIMAL:
        return False
    if options["objective"] == "max-matched":
        return top.stats["people_placed"] == base.stats["people_placed"]
    return top.objective <= base.objective


@dataclass
class _Solution:
    new: list[tuple[int, ...]]
    broken: list[tuple[int, ...]]
    value2: int
    proven: bool


class _Model:
    """The CP-SAT model of one budgeted re-pairing (module docstring).

    Variables: one per allowed pair (``x``, a new pair), one per kept unit
    (``y``, kept), and for the one new trio one per person (``r``, in the trio)
    and one per allowed pair (``q``, both in the trio; counted only then).  A
    person is in at most one unit; the trio has 3 or 0 members and never two
    people whose pair is not allowed.  This keeps the model linear in the
    allowed pairs instead of enumerating triangles.
    """

    def __init__(
        self,
        w: np.ndarray,
        kept: list[tuple[int, ...]],
        locked: list[tuple[int, ...]],
        trio: bool,
    ) -> None:
        self.w, self.kept, self.locked, self.trio = w, kept, locked, trio
        self.allowed, pairs = _allowed(w)
        kept_set = set(kept)
        self.all_pairs = [tuple(p) for p in pairs.tolist()]  # a trio may hold a kept pair
        self.pairs = [p for p in self.all_pairs if p not in kept_set]
        self.limit = DEFAULT_TIME_LIMIT
        self.seed = 0

    def solve(self, objective: str, budget: int, *, hint: PairingChanges) -> _Solution:
        from ortools.sat.python import cp_model

        m = cp_model.CpModel()
        n = self.w.shape[0]
        x = [m.new_bool_var("") for _ in self.pairs]
        y = [m.new_bool_var("") for _ in self.kept]
        r = [m.new_bool_var("") for _ in range(n)] if self.trio else []
        q = [m.new_bool_var("") for _ in self.all_pairs] if self.trio else []
        self._constraints(m, x, y, r, q, budget)
        self._start(m, hint, x, y, r, q)
        pair_w = [_value2(self.w, p) for p in self.pairs]
        kept_w = [_value2(self.w, u) for u in self.kept]
        # a trio's value is the sum of its pairs / 2 (value2: the sum)
        trio_w = [_value2(self.w, p) // 2 for p in self.all_pairs] if q else []
        value = cp_model.LinearExpr.weighted_sum([*x, *y, *q], [*pair_w, *kept_w, *trio_w])
        people = cp_model.LinearExpr.weighted_sum(
            [*x, *y, *r], [2] * len(x) + [len(u) for u in self.kept] + [1] * len(r)
        )
        breaks = len(y) - cp_model.LinearExpr.sum(y)
        levels = [people, -breaks, value] if objective == "max-matched" else [value, -breaks]
        solver, proven = cp_model.CpSolver(), True
        solver.parameters.num_workers = 1  # deterministic
        solver.parameters.random_seed = self.seed
        for level in levels:
            solver.parameters.max_time_in_seconds = self.limit
            m.maximize(level)
            status = solver.solve(m)
            if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                raise ValueError("no valid re-pairing within the time limit")
            proven &= status == cp_model.OPTIMAL
            m.add(level >= round(solver.objective_value))
            self._hint(m, solver, [*x, *y, *r, *q])
        return self._solution(solver, x, y, r, proven)

    def _solution(
        self, solver: Any, x: list[Any], y: list[Any], r: list[Any], proven: bool
    ) -> _Solution:
        new: list[tuple[int, ...]] = [
            p for p, v in zip(self.pairs, x, strict=True) if solver.value(v)
        ]
        members = tuple(k for k, v in enumerate(r) if solver.value(v))
        if members:
            new.append(members)
        broken = [u for u, v in zip(self.kept, y, strict=True) if not solver.value(v)]
        total = sum(_value2(self.w, u) for u in new)
        total += sum(_value2(self.w, u) for u in self.kept if u not in set(broken))
        return _Solution(sorted(new), broken, total, proven)

    def _constraints(
        self, m: Any, x: list[Any], y: list[Any], r: list[Any], q: list[Any], budget: int
    ) -> None:
        n = self.w.shape[0]
        cover: list[list[Any]] = [[] for _ in range(n)]
        for units, variables in ((self.pairs, x), (self.kept, y)):
            for unit, v in zip(units, variables, strict=True):
                for person in unit:
                    cover[person].append(v)
        for person, v in enumerate(r):
            cover[person].append(v)
        for terms in cover:
            if len(terms) > 1:
                m.add(sum(terms) <= 1)
        m.add(len(y) - sum(y) <= budget)
        if r:
            self._trio(m, r, q)
        index = {p: k for k, p in enumerate(self.pairs)}
        for lock in self.locked:
            if lock not in index:
                raise ValueError("a locked pair is not allowed by the weights")
            m.add(x[index[lock]] == 1)

    def _trio(self, m: Any, r: list[Any], q: list[Any]) -> None:
        """3 or 0 members, all pairs among them allowed; q counts a pair only inside it."""
        n = len(r)
        size = m.new_bool_var("")
        m.add(sum(r) == 3 * size)
        for person in range(n):
            others = np.flatnonzero(~self.allowed[person])
            others = others[others != person]
            if len(others):
                m.add(sum(r[k] for k in others.tolist()) <= 3 * (1 - r[person]))
        for (a, b), v in zip(self.all_pairs, q, strict=True):
            m.add(v <= r[a])
            m.add(v <= r[b])

    def _start(
        self, m: Any, base: PairingChanges, x: list[Any], y: list[Any], r: list[Any], q: list[Any]
    ) -> None:
        """Hint the no-break solution (every kept unit kept)."""
        made = set(base.new)
        trio = next((u for u in base.new if len(u) == 3), ())
        for p, v in zip(self.pairs, x, strict=True):
            m.add_hint(v, p in made)
        for v in y:
            m.add_hint(v, True)
        for k, v in enumerate(r):
            m.add_hint(v, k in trio)
        for (a, b), v in zip(self.all_pairs, q, strict=False):  # q is empty without trios
            m.add_hint(v, a in trio and b in trio)

    @staticmethod
    def _hint(m: Any, solver: Any, variables: list[Any]) -> None:
        m.clear_hints()
        for v in variables:
            m.add_hint(v, solver.value(v))


__all__ = ["MAX_PAIRS", "PairingChanges", "solve_pairing_with_changes"]
