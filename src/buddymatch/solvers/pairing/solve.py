"""One-pool (peer buddy) pairing: disjoint pairs, plus one trio for an odd pool.

Definitions (these are what the user documentation promises):

* A **solution** is a set of disjoint pairs plus, with ``leftover="trio"``, at
  most one trio.  Every pair used, including the three pairs inside a trio,
  is allowed (weight ``!= NOT_ALLOWED``).  Locked pairs are always made as
  pairs (a trio is never built on a locked pair).
* **pair value** = its weight ``w_ij``; **trio value** = ``(w_ab + w_ac + w_bc) / 2``
  (a trio covers three people, about 1.5 pairs).  **Total value** = sum over
  pairs and the trio, minus ``exclude_penalty[i]`` for every person left out.
* ``max-matched``: maximise the number of people placed (in a pair or the
  trio), then the total value.
* ``max-score``: maximise the total value.
* ``fair``: maximise people placed, then the **bottleneck** (the smallest
  weight among all pairs that meet, trio-internal pairs included), then the
  total value.
* With ``leftover="trio"`` the trio is chosen optimally for the objective (the
  same value as trying every trio), not by attaching whoever was left last.
  With ``"exclude"`` no trio is formed.

Guarantees: ``status`` is ``OPTIMAL`` only when proven.  The proof for the
pairs is a dual certificate over *every* allowed pair (a value ``y`` per
person and ``z`` per odd set of people with ``y_i + y_j + sum of z over sets
holding both >= c_ij`` for every allowed pair, whose total equals the
answer's worth; ``outcome.certificate`` holds it, see
:class:`~buddymatch.solvers.pairing.price.Certificate`).  The trio is proven
by bounding every triangle from those duals and settling each one whose
bound could beat the answer.  Otherwise (a time limit, or a search cap) it is
``FEASIBLE`` and ``bound`` is a certified upper bound on ``objective``
(``stats["gap"]`` is the relative gap).  Same inputs give the same outcome.
The matching engine is a primal-dual blossom algorithm (:mod:`.blossom`);
large pools start it from the fractional matching LP (:mod:`.lp`).
"""

from __future__ import annotations

import time

import numpy as np

from buddymatch.solvers import Status
from buddymatch.solvers.pairing.core import CoreResult, View, solve_view
from buddymatch.solvers.pairing.fair import solve_fair
from buddymatch.solvers.pairing.outcome import (
    PairingOutcome,
    _bottleneck,
    _check_inputs,
    _check_locks,
    _empty_pairs,
    _infeasible,
)


def solve_pairing(
    weights: np.ndarray,
    *,
    objective: str = "max-matched",
    locked: np.ndarray | None = None,
    leftover: str = "trio",
    exclude_penalty: np.ndarray | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    trio_penalty: np.ndarray | None = None,
) -> PairingOutcome:
    """Pair a pool of ``n`` people (see the module docstring for the exact objective).

    ``weights`` is ``(n, n)`` symmetric integer with ``NOT_ALLOWED`` (-1) for
    forbidden pairs (the diagonal included), else ``0..100_000``; it is read,
    never copied (a 20,000-person int32 matrix is 1.6 GB).  ``locked`` pairs
    are always made; if that is impossible the outcome is INFEASIBLE with
    ``stats["reason"]``.  ``trio_penalty`` (n,) is subtracted from the value
    for each trio member (used by :func:`solve_rounds` to rotate who is
    trio'd).  ``seed`` is accepted for interface symmetry: the method is
    deterministic and does not use randomness.
    """
    start = time.perf_counter()
    w = np.asarray(weights)
    _check_inputs(w, objective, leftover, exclude_penalty)
    n = w.shape[0]
    lk, reason = _check_locks(w, locked)
    if reason is not None:
        out = _infeasible(reason)
        out.stats["runtime_s"] = time.perf_counter() - start
        return out
    active = np.ones(n, dtype=bool)
    active[lk.ravel()] = False
    pen = (
        np.zeros(n, dtype=np.int64)
        if exclude_penalty is None
        else np.asarray(exclude_penalty, dtype=np.int64)
    )
    tpen = (
        np.zeros(n, dtype=np.int64) if trio_penalty is None else np.asarray(trio_penalty, np.int64)
    )
    deadline = None if time_limit is None else start + time_limit
    view = View(w, active, pen, tpen, 0, objective != "max-score", leftover == "trio")
    lock_w = w[lk[:, 0], lk[:, 1]].astype(np.int64) if len(lk) else np.zeros(0, np.int64)
    bottleneck: int | None = None
    if objective == "fair":
        lock_min = int(lock_w.min()) if len(lock_w) else None
        res, bottleneck, proven = solve_fair(view, deadline, lock_min)
        res.stats["fair"] = 1
    else:
        res = solve_view(view, deadline)
        proven = res.proven
    return _outcome(w, res, lk, lock_w, pen, active, proven, bottleneck, start)


def _outcome(
    w: np.ndarray,
    res: CoreResult,
    lk: np.ndarray,
    lock_w: np.ndarray,
    pen: np.ndarray,
    active: np.ndarray,
    proven: bool,
    bottleneck: int | None,
    start: float,
) -> PairingOutcome:
    pairs = np.concatenate([lk, np.stack(res.pairs, axis=1).reshape(-1, 2)]).astype(np.int64)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))] if len(pairs) else _empty_pairs()
    trios = (
        np.array([sorted(res.trio)], dtype=np.int64)
        if res.trio is not None
        else np.zeros((0, 3), dtype=np.int64)
    )
    base = int(lock_w.sum()) - int(pen[active].sum())
    objective = base + res.value2 / 2
    bound = base + res.bound2 / 2
    n = len(active)
    placed = res.people + 2 * len(lk)
    stats: dict[str, float | int | str] = dict(res.stats)
    stats.setdefault("method", "blossom" if stats.get("allowed_pairs", 0) else "trivial")
    stats.update(
        people_placed=placed,
        people_left_out=n - placed,
        people_bound=res.people_bound + 2 * len(lk),
        runtime_s=time.perf_counter() - start,
    )
    if bottleneck is not None or res.stats.get("fair"):
        stats["bottleneck"] = _bottleneck(w, pairs, trios)
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    if not proven:
        stats["gap"] = (bound - objective) / max(abs(bound), 1e-9)
    return PairingOutcome(
        status, pairs, trios, float(objective), float(bound), stats, res.certificate
    )


__all__ = ["PairingOutcome", "solve_pairing"]
