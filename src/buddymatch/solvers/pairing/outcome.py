"""The outcome of one-pool pairing and the entry point's argument checks.

:func:`~buddymatch.solvers.pairing.solve_pairing` and the budgeted re-pairing
(:mod:`.budget`) validate their arguments and report their answer through
these, so a caller sees one contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from buddymatch.solvers import NOT_ALLOWED, Status
from buddymatch.solvers.pairing.price import Certificate

OBJECTIVES = ("max-matched", "max-score", "fair")
LEFTOVERS = ("trio", "exclude")
MAX_WEIGHT = 100_000


@dataclass(frozen=True)
class PairingOutcome:
    """Result of one pairing solve.

    ``pairs`` is ``(k, 2)`` int64 with each row sorted and rows sorted;
    ``trios`` is ``(t, 3)`` likewise (``t`` is 0 or 1).  ``objective`` is the
    total value as defined in the module docstring; ``bound`` a certified upper
    bound on it (``None`` when nothing was solved).  ``stats`` holds at least
    ``people_placed``, ``people_left_out``, ``method``, ``runtime_s``; ``reason``
    when INFEASIBLE; ``bottleneck`` for ``fair``; ``gap`` when FEASIBLE.
    """

    status: Status
    pairs: np.ndarray
    trios: np.ndarray
    objective: float
    bound: float | None
    stats: dict[str, float | int | str]
    certificate: Certificate | None = None


def _empty_pairs() -> np.ndarray:
    return np.zeros((0, 2), dtype=np.int64)


def _infeasible(reason: str) -> PairingOutcome:
    return PairingOutcome(
        Status.INFEASIBLE, _empty_pairs(), np.zeros((0, 3), dtype=np.int64), 0.0, None,
        {"reason": reason},
    )  # fmt: skip


def _check_inputs(
    weights: np.ndarray, objective: str, leftover: str, exclude_penalty: np.ndarray | None
) -> None:
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if leftover not in LEFTOVERS:
        raise ValueError(f"leftover must be one of {LEFTOVERS}, got {leftover!r}")
    if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
        raise ValueError(f"weights must be a square matrix, got shape {weights.shape}")
    if not np.issubdtype(weights.dtype, np.integer):
        raise ValueError("weights must be an integer matrix")
    if exclude_penalty is not None and exclude_penalty.shape != (weights.shape[0],):
        raise ValueError("exclude_penalty must have shape (n,)")
    if exclude_penalty is not None and len(exclude_penalty) and int(exclude_penalty.min()) < 0:
        raise ValueError("exclude_penalty must be >= 0")


def _check_locks(weights: np.ndarray, locked: np.ndarray | None) -> tuple[np.ndarray, str | None]:
    n = weights.shape[0]
    if locked is None or len(locked) == 0:
        return _empty_pairs(), None
    lk = np.asarray(locked, dtype=np.int64).reshape(-1, 2)
    if lk.min() < 0 or lk.max() >= n:
        return lk, "a locked pair names a person outside the pool"
    if np.any(lk[:, 0] == lk[:, 1]):
        return lk, "a locked pair pairs a person with themself"
    lk = np.sort(lk, axis=1)
    lk = np.unique(lk, axis=0)
    if len(np.unique(lk.ravel())) != lk.size:
        return lk, "a person appears in two locked pairs"
    if np.any(weights[lk[:, 0], lk[:, 1]] == NOT_ALLOWED):
        return lk, "a locked pair is not allowed by the rules"
    return lk, None


def _bottleneck(w: np.ndarray, pairs: np.ndarray, trios: np.ndarray) -> int:
    """Smallest weight among all pairs that meet (trio-internal pairs included); -1 if none."""
    vals = [w[pairs[:, 0], pairs[:, 1]]]
    for a, b, c in trios.tolist():
        vals.append(np.array([w[a, b], w[a, c], w[b, c]]))
    allv = np.concatenate(vals)
    return int(allv.min()) if len(allv) else -1
