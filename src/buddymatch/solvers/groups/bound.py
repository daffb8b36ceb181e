"""Upper bounds on the grouping objective (what the reported ``bound`` and ``gap`` mean).

The objective is the summed benefit of same-group pairs.  Two valid bounds,
the smaller is reported:

* **Partner slots** (any benefit matrix): a person in a group of size ``s``
  has ``s - 1`` partners, worth at most their ``s - 1`` best benefits.  The
  number of partner slots over everybody is ``sum_g s_g (s_g - 1)``, between
  the most balanced and the most uneven group sizes allowed; slots go to the
  best marginal benefits (each person between ``lo - 1`` and ``up - 1``).
  Half the total bounds the objective.

* **Profile classes** (benefits built from people's attributes): people with
  identical benefit rows form a class (the same profile for every criterion;
  found by hashing rows, then checked exactly).  Grouping then only decides
  how many same-group pairs each pair of classes gets.  The linear
  programme over those counts ``y_cd`` keeps every count within the pairs
  the classes have, each class within its partner slots and the total
  within the slot range, and adds *spread cuts*: any set ``A`` of people
  split over ``G`` groups has at least ``G * C(N/G, 2)`` same-group pairs
  inside it (pigeonhole; the minimum is the even spread).  Cuts are made for
  sets of classes whose pairwise benefits are all below a threshold (people
  alike in some attribute, who cannot all be kept apart) and added while the
  LP breaks them.  The bound is evaluated from the LP's dual values, so it is
  valid whatever the LP solver's tolerances (any non-negative dual gives a
  bound).

Both ignore the composition rules, locks and keep-together/apart sets
(relaxations: the bound stays valid).  Pools with too many classes (every
profile distinct, e.g. numeric criteria) use the first bound only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numba as nb
import numpy as np
from ortools.linear_solver import pywraplp

MAX_CLASSES = 700
"""Above this many profile classes the class LP (classes^2 / 2 variables) is skipped."""
MAX_CUT_ROUNDS = 8
CUTS_PER_ROUND = 40
MIN_GAIN = 1e-3


@dataclass(frozen=True)
class Bound:
    value: float
    method: str


def size_range(n: int, lo: np.ndarray, up: np.ndarray) -> tuple[int, int]:
    """Least partner slots ``sum s_g (s_g - 1)`` over sizes ``lo <= s <= up`` summing to n, and
    an upper bound on the most (exact when all groups have the same size range)."""
    lo = lo.astype(np.int64)
    up = up.astype(np.int64)
    extra = n - int(lo.sum())
    if extra < 0 or extra > int((up - lo).sum()):
        return 0, 0
    # Most: a vertex of the size polytope (all groups at a bound but one).  Choosing which
    # groups go to their upper size is a knapsack; its fractional relaxation (by
    # value per person, up + lo - 1, with the convex gain bounded by the chord) bounds it.
    most = float((lo * (lo - 1)).sum())
    left = float(extra)
    for g in np.argsort(-(up + lo), kind="stable"):
        width = float(up[g] - lo[g])
        if left <= 0 or width <= 0:
            continue
        take = min(left, width)
        most += take * float(up[g] + lo[g] - 1)
        left -= take
    least = lo.copy()  # and as evenly as possible
    left = extra
    while left > 0:
        room = np.flatnonzero(least < up)
        level = int(least[room].min())
        at = room[least[room] == level]
        take = at[: min(left, len(at))]
        least[take] += 1
        left -= len(take)
    return int((least * (least - 1)).sum()), int(np.floor(most + 1e-9))


def slot_bound(d: np.ndarray, lo: np.ndarray, up: np.ndarray) -> float:
    """The partner-slot bound (module docstring); ``d`` has a zero diagonal."""
    n = d.shape[0]
    s_lo, s_hi = size_range(n, lo, up)
    kmin, kmax = int(lo.min()) - 1, min(int(up.max()) - 1, n - 1)
    if n == 0 or kmax <= 0:
        return 0.0
    off = d.copy()
    np.fill_diagonal(off, -np.inf)
    part = -np.partition(-off, kmax - 1, axis=1)[:, :kmax]
    part = -np.sort(-part, axis=1)
    base = float(part[:, : max(kmin, 0)].sum())
    marg = np.sort(part[:, max(kmin, 0) :].ravel())[::-1]
    have = n * max(kmin, 0)
    need_min = max(0, s_lo - have)
    room = max(0, s_hi - have)
    take = need_min + int(np.count_nonzero(marg[need_min:room] > 0))
    return (base + float(marg[:take].sum())) / 2.0


# ---- profile classes ----------------------------------------------------------------------------


def profile_classes(
    d: np.ndarray, max_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """(class of each person, one representative per class), or None if too many classes.

    Rows are hashed by two random projections, then every row is compared
    with its class representative (exactly), so a hash collision can only
    split a class, never merge two.
    """
    n = d.shape[0]
    limit = min(MAX_CLASSES, n // 2) if max_classes is None else max_classes
    rng = np.random.default_rng(12345)
    h = d @ rng.standard_normal((n, 2))
    _, first, labels = np.unique(np.round(h, 6), axis=0, return_index=True, return_inverse=True)
    labels = labels.ravel()
    if len(first) > limit:  # too many classes, or too few people per class to gain
        return None
    reps = first[labels]
    same = np.all(d == d[reps], axis=1)
    if not same.all():  # a collision: give the odd rows their own classes
        odd = np.flatnonzero(~same)
        labels = labels.copy()
        labels[odd] = len(first) + np.arange(len(odd))
        first = np.concatenate([first, odd])
        if len(first) > limit:
            return None
    return labels.astype(np.int64), first.astype(np.int64)


def spread(count: int, groups: int) -> int:
    """Fewest same-group pairs among ``count`` people split over ``groups`` groups."""
    q, r = divmod(int(count), int(groups))
    return r * q * (q + 1) // 2 + (groups - r) * q * (q - 1) // 2


@nb.njit(cache=True)
def _threshold_cliques(
    q: np.ndarray, cnt: np.ndarray, thetas: np.ndarray, groups: int
) -> np.ndarray:
    """Greedy maximal sets of classes with every pairwise benefit <= theta (one per seed).

    Only sets holding more people than groups (so pairs inside are forced)
    are returned, as rows of a membership matrix (duplicates possible).
    """
    k = len(cnt)
    out = np.zeros((len(thetas) * k, k), dtype=np.bool_)
    rows = 0
    for t in range(len(thetas)):
        theta = thetas[t]
        for seed in range(k):
            inside = np.zeros(k, dtype=np.bool_)
            inside[seed] = True
            cand = q[seed] <= theta
            cand[seed] = False
            total = cnt[seed]
            while True:
                best = -1
                for c in range(k):
                    if cand[c] and (best == -1 or cnt[c] > cnt[best]):
                        best = c
                if best == -1:
                    break
                inside[best] = True
                total += cnt[best]
                for c in range(k):
                    cand[c] = cand[c] and q[best, c] <= theta
                cand[best] = False
            if total > groups:
                out[rows] = inside
                rows += 1
    return out[:rows]


class _ClassLP:
    """The class-pair LP of the module docstring, grown with spread cuts."""

    def __init__(
        self, q: np.ndarray, cnt: np.ndarray, lo: np.ndarray, up: np.ndarray, groups: int
    ) -> None:
        k = len(cnt)
        iu, ju = np.triu_indices(k)
        cap = np.where(iu == ju, cnt[iu] * (cnt[iu] - 1) // 2, cnt[iu] * cnt[ju])
        keep = cap > 0
        self.iu, self.ju, self.cap = iu[keep], ju[keep], cap[keep].astype(np.int64)
        self.q, self.cnt, self.groups = q, cnt, groups
        s_lo, s_hi = size_range(int(cnt.sum()), lo, up)
        self.deg_lo = cnt * (int(lo.min()) - 1)
        self.deg_hi = cnt * (int(up.max()) - 1)
        self.tot = (s_lo // 2, s_hi // 2)
        self.cuts: list[np.ndarray] = []
        self.cut_rhs: list[int] = []
        self._build()

    def _build(self) -> None:
        s = pywraplp.Solver.CreateSolver("GLOP")
        self.solver = s
        self.x = [s.NumVar(0.0, float(c), "") for c in self.cap]
        self.deg = [
            s.Constraint(float(a), float(b)) for a, b in zip(self.deg_lo, self.deg_hi, strict=True)
        ]
        self.total = s.Constraint(float(self.tot[0]), float(self.tot[1]))
        obj = s.Objective()
        obj.SetMaximization()
        for e, (a, b) in enumerate(zip(self.iu.tolist(), self.ju.tolist(), strict=True)):
            x = self.x[e]
            self.deg[a].SetCoefficient(x, 2.0 if a == b else 1.0)
            if a != b:
                self.deg[b].SetCoefficient(x, 1.0)
            self.total.SetCoefficient(x, 1.0)
            obj.SetCoefficient(x, float(self.q[a, b]))
        self.cut_cons: list[pywraplp.Constraint] = []

    def add_cut(self, inside: np.ndarray) -> None:
        rhs = spread(int(self.cnt[inside].sum()), self.groups)
        c = self.solver.Constraint(float(rhs), self.solver.infinity())
        for e in np.flatnonzero(inside[self.iu] & inside[self.ju]).tolist():
            c.SetCoefficient(self.x[e], 1.0)
        self.cuts.append(inside)
        self.cut_rhs.append(rhs)
        self.cut_cons.append(c)

    def solve(self) -> np.ndarray:
        """Solve; returns the pair counts ``y`` (for cut separation)."""
        self.solver.Solve()
        return np.array([x.solution_value() for x in self.x])

    def dual_bound(self) -> float:
        """A valid upper bound from the current dual values (clipped to their signs)."""
        pi = np.array([c.dual_value() for c in self.deg])
        tau = self.total.dual_value()
        # d(objective)/d(right-hand side) of a ">=" row of a maximisation is <= 0
        mu = np.maximum(-np.array([c.dual_value() for c in self.cut_cons]), 0.0)
        reduced = self.q[self.iu, self.ju] - pi[self.iu] - np.where(
            self.iu == self.ju, pi[self.iu], pi[self.ju]
        ) - tau  # fmt: skip
        for m, inside in zip(mu.tolist(), self.cuts, strict=True):
            if m > 0:
                reduced = reduced + m * (inside[self.iu] & inside[self.ju])
        value = float(np.sum(np.maximum(pi, 0) * self.deg_hi + np.minimum(pi, 0) * self.deg_lo))
        value += max(tau, 0.0) * self.tot[1] + min(tau, 0.0) * self.tot[0]
        value -= float(np.dot(mu, self.cut_rhs)) if len(mu) else 0.0
        value += float(np.sum(self.cap * np.maximum(reduced, 0.0)))
        return value

    def violated(self, y: np.ndarray, sets: np.ndarray) -> list[tuple[float, int]]:
        """(violation, index) of the candidate sets the counts ``y`` break, worst first."""
        k = len(self.cnt)
        upper = np.zeros((k, k))  # upper triangle (with the diagonal): y per class pair
        upper[self.iu, self.ju] = y
        m = sets.astype(np.float64)
        inside = ((m @ upper) * m).sum(axis=1)
        need = np.array([spread(int(self.cnt[r].sum()), self.groups) for r in sets])
        viol = need - inside
        order = np.argsort(-viol, kind="stable")
        return [(float(viol[i]), int(i)) for i in order if viol[i] > 1e-6]


def class_bound(
    d: np.ndarray,
    lo: np.ndarray,
    up: np.ndarray,
    deadline: float | None = None,
    max_classes: int | None = None,
) -> float | None:
    """The profile-class bound (module docstring), or None when it does not apply.

    Cut rounds stop when a round improves the bound by less than
    ``MIN_GAIN`` (relative), after ``MAX_CUT_ROUNDS``, or at ``deadline`` (a
    time-limited solve; without one the bound depends on the inputs only).
    """
    groups = len(lo)
    found = profile_classes(d, max_classes)
    if found is None or groups == 0:
        return None
    labels, reps = found
    cnt = np.bincount(labels, minlength=len(reps)).astype(np.int64)
    q = d[np.ix_(reps, reps)].astype(np.float64)
    lp = _ClassLP(q, cnt, lo, up, groups)
    y = lp.solve()
    best = lp.dual_bound()
    thetas = np.unique(q)
    sets = _threshold_cliques(q, cnt, thetas, groups)
    sets = np.unique(sets, axis=0) if len(sets) else sets
    for _ in range(MAX_CUT_ROUNDS):
        if deadline is not None and time.perf_counter() > deadline:
            break
        broken = [i for _, i in lp.violated(y, sets)[:CUTS_PER_ROUND]] if len(sets) else []
        if not broken:
            break
        for i in broken:
            lp.add_cut(sets[i])
        sets = np.delete(sets, broken, axis=0)
        y = lp.solve()
        value = lp.dual_bound()
        gain = (best - value) / max(abs(best), 1e-9)
        best = min(best, value)
        if gain < MIN_GAIN:
            break
    return best


def upper_bound(
    d: np.ndarray, lo: np.ndarray, up: np.ndarray, budget: float | None = None
) -> Bound:
    """The smaller of the two bounds, and which one it is (``budget``: seconds, or None)."""
    slots = slot_bound(d, lo, up)
    deadline = None if budget is None else time.perf_counter() + budget
    classes = class_bound(d, lo, up, deadline)
    if classes is not None and classes < slots:
        return Bound(classes, "profile-class LP with spread cuts")
    return Bound(slots, "partner slots")
