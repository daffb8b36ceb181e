"""Several rounds (rotations) of peer pairing with no repeats while avoidable.

Rules, in order of priority, for each round ``r``:

1. Pairs that met within ``cooldown`` rounds (``1 <= last_met <= cooldown``,
   counting earlier rounds of this run as 1, 2, ... rounds ago) are
   NOT_ALLOWED.  Pairs that met in an earlier round of this run are also
   NOT_ALLOWED at first.
2. If that leaves fewer people placed than the round could place with
   this run's earlier pairs allowed again, the round is re-solved with them
   allowed as a last resort, ranked *people placed, then fewest repeats, then
   value*; ``stats["repeated_pairs"]`` lists the pairs that repeated.
3. Older meetings (``last_met > cooldown``) stay allowed but cost
   ``repeat_penalty`` weight (a penalty, not a wall; floored at weight 0).
4. Fairness: everyone left out in earlier rounds gets an exclude penalty of
   ``ROTATE_PENALTY`` per time left out, and everyone who was in a trio a trio
   penalty of ``ROTATE_PENALTY`` per time, so the leftover and the trio rotate.
   ``stats["left_out_spread"]`` / ``stats["trio_spread"]`` (max - min count
   per person so far) report how even the rotation is.
"""

from __future__ import annotations

import numpy as np

from buddymatch.solvers import NOT_ALLOWED, WEIGHT_SCALE
from buddymatch.solvers.pairing.outcome import PairingOutcome
from buddymatch.solvers.pairing.solve import solve_pairing

DEFAULT_REPEAT_PENALTY = 20 * WEIGHT_SCALE
ROTATE_PENALTY = 5 * WEIGHT_SCALE
AGO_CAP = 30_000  # "rounds ago" stops counting here


def _met_pairs(out: PairingOutcome) -> list[tuple[int, int]]:
    met = [(int(a), int(b)) for a, b in out.pairs.tolist()]
    for a, b, c in out.trios.tolist():
        met += [(a, b), (a, c), (b, c)]
    return met


def solve_rounds(
    weights: np.ndarray,
    rounds: int,
    *,
    objective: str = "max-matched",
    leftover: str = "trio",
    last_met: np.ndarray | None = None,
    cooldown: int = 0,
    repeat_penalty: int = DEFAULT_REPEAT_PENALTY,
    seed: int = 0,
    time_limit: float | None = None,
    locked: np.ndarray | None = None,
    overwrite: bool = False,
) -> list[PairingOutcome]:
    """One :class:`PairingOutcome` per round (see the module docstring for the rules).

    ``last_met[i, j]`` is how many rounds ago ``i`` and ``j`` last met before
    this run (0 = never).  ``locked`` pairs are made in the first round only.
    ``time_limit`` is per round.  Deterministic.

    ``weights`` is never changed once this returns.  With ``overwrite=True``
    (like scipy's ``overwrite_a``) the rounds work in the caller's matrix and
    put every entry back afterwards, instead of in a copy: at 20,000 people
    that saves 1.6 GB.  Only the few pairs that met change between rounds, so
    they are kept as index arrays, never as n x n masks.
    """
    w0 = np.asarray(weights)
    n = w0.shape[0]
    if rounds < 0:
        raise ValueError("rounds must be >= 0")
    hist = _History(n, last_met)
    work: np.ndarray | None = w0 if overwrite and w0.flags.writeable else None
    left_out = np.zeros(n, dtype=np.int64)
    in_trio = np.zeros(n, dtype=np.int64)
    outcomes: list[PairingOutcome] = []
    for r in range(rounds):
        ci, cj, ago, fresh = hist.cells(r)
        if len(ci) and work is None:
            work = w0.copy()  # once, the first round that changes anything
        w = w0 if work is None else work
        original = w0[ci, cj]  # a copy (fancy indexing), read before any write
        adjusted = _adjusted(original, ago, cooldown, repeat_penalty)
        kwargs: dict[str, object] = dict(
            objective=objective,
            leftover=leftover,
            exclude_penalty=left_out * ROTATE_PENALTY,
            trio_penalty=in_trio * ROTATE_PENALTY,
            time_limit=time_limit,
            seed=seed,
            locked=locked if r == 0 else None,
        )
        changed = len(ci) > 0  # (no write at all otherwise: w0 may be read-only)
        try:
            if changed:  # this run's meetings are not allowed at first
                w[ci, cj] = np.where(fresh, adjusted, NOT_ALLOWED)
            out = solve_pairing(w, **kwargs)  # type: ignore[arg-type]
            if changed:
                w[ci, cj] = adjusted
            out, repeated = _last_resort(w, out, hist, (~fresh) & (adjusted >= 0), kwargs)
        finally:
            if changed:
                w[ci, cj] = original
        out.stats["repeated_pairs"] = ";".join(f"{a}-{b}" for a, b in repeated)
        out.stats["repeats"] = len(repeated)
        pairs = np.asarray(_met_pairs(out), dtype=np.int64).reshape(-1, 2)
        placed = np.zeros(n, dtype=bool)
        placed[pairs.ravel()] = True
        left_out += ~placed
        in_trio[out.trios.ravel()] += 1
        out.stats["left_out_spread"] = int(left_out.max() - left_out.min()) if n else 0
        out.stats["trio_spread"] = int(in_trio.max() - in_trio.min()) if n else 0
        outcomes.append(out)
        hist.add(pairs, r)
    return outcomes


class _History:
    """Who met whom and how many rounds ago, as index arrays (both directions)."""

    def __init__(self, n: int, last_met: np.ndarray | None) -> None:
        self.n = n
        if last_met is None:
            self.hi = self.hj = self.hago = np.zeros(0, dtype=np.int64)
        else:
            lm = np.asarray(last_met)
            if lm.shape != (n, n):
                raise ValueError("last_met must have shape (n, n)")
            self.hi, self.hj = (a.astype(np.int64) for a in np.nonzero(lm > 0))
            self.hago = np.minimum(lm[self.hi, self.hj], AGO_CAP).astype(np.int64)
        self.ri = self.rj = self.rround = np.zeros(0, dtype=np.int64)

    def add(self, pairs: np.ndarray, r: int) -> None:
        """Pairs that met in round ``r`` of this run."""
        self.ri = np.concatenate([self.ri, pairs[:, 0], pairs[:, 1]])
        self.rj = np.concatenate([self.rj, pairs[:, 1], pairs[:, 0]])
        self.rround = np.concatenate([self.rround, np.full(2 * len(pairs), r, dtype=np.int64)])

    def run_pairs(self) -> set[tuple[int, int]]:
        return set(zip(self.ri.tolist(), self.rj.tolist(), strict=True))

    def cells(self, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Cells whose weight differs in round ``r``: (i, j, rounds ago, not met in this run).

        Meetings before the run age by one per round (up to ``AGO_CAP``); a pair
        that met in round ``k`` of this run met ``r - k`` rounds ago; the latest
        meeting counts.
        """
        ci = np.concatenate([self.hi, self.ri])
        cj = np.concatenate([self.hj, self.rj])
        ago = np.concatenate([np.minimum(self.hago + r, AGO_CAP), r - self.rround])
        fresh = np.concatenate([np.ones(len(self.hi), bool), np.zeros(len(self.ri), bool)])
        if not len(ci):
            return ci, cj, ago, fresh
        # One entry per cell: the latest meeting; a meeting in this run makes it not fresh.
        order = np.lexsort((ago, ci * self.n + cj))
        key = (ci * self.n + cj)[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        met_in_run = np.logical_or.reduceat(~fresh[order], np.flatnonzero(first))
        keep = order[first]
        return ci[keep], cj[keep], ago[keep], ~met_in_run


def _adjusted(original: np.ndarray, ago: np.ndarray, cooldown: int, penalty: int) -> np.ndarray:
    """Weights of pairs that met ``ago`` rounds ago: forbidden in cooldown, else penalised."""
    out = np.where(original >= 0, np.maximum(original.astype(np.int64) - penalty, 0), original)
    out[(ago >= 1) & (ago <= cooldown)] = NOT_ALLOWED
    return out.astype(original.dtype)


def _last_resort(
    w: np.ndarray,
    out: PairingOutcome,
    hist: _History,
    reopened: np.ndarray,
    kwargs: dict[str, object],
) -> tuple[PairingOutcome, list[tuple[int, int]]]:
    """Re-solve with this run's pairs allowed again if that places more people.

    ``reopened`` flags the round's changed cells that met in this run and are
    not in cooldown: without one, there is nothing to allow again.
    """
    if int(out.stats["people_placed"]) >= w.shape[0] or not reopened.any():
        return out, []
    met = hist.run_pairs()
    alt = _with_repeats(w, met, kwargs)
    if int(alt.stats["people_placed"]) <= int(out.stats["people_placed"]):
        return out, []
    return alt, [p for p in _met_pairs(alt) if p in met]


def _with_repeats(
    w: np.ndarray, met: set[tuple[int, int]], kwargs: dict[str, object]
) -> PairingOutcome:
    """Re-solve allowing this run's earlier pairs, preferring fresh pairs lexicographically."""
    n = w.shape[0]
    bonus = (n // 2 + 2) * (int(w.max(initial=0)) + 1)
    ww = w.astype(np.int64)
    ww[ww >= 0] += bonus
    if met:
        mi, mj = (np.asarray(x, dtype=np.int64) for x in zip(*met, strict=True))
        back = ww[mi, mj] >= 0
        ww[mi[back], mj[back]] -= bonus
    out = solve_pairing(ww, **kwargs)  # type: ignore[arg-type]
    del ww
    # Report the objective in the caller's weights (without the fresh-pair bonus).
    fresh_pairs = sum(1 for p in _met_pairs(out) if p not in met)
    trio_fresh = sum(
        1 for a, b, c in out.trios.tolist() for p in ((a, b), (a, c), (b, c)) if p not in met
    )
    pair_fresh = fresh_pairs - trio_fresh
    shift = bonus * (pair_fresh + trio_fresh / 2)
    stats = dict(out.stats)
    stats["repeat_fallback"] = 1
    # The solve's bound is for the bonus-weighted problem; it does not carry over.
    return PairingOutcome(out.status, out.pairs, out.trios, out.objective - shift, None, stats)
