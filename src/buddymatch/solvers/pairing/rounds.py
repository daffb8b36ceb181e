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
) -> list[PairingOutcome]:
    """One :class:`PairingOutcome` per round (see the module docstring for the rules).

    ``last_met[i, j]`` is how many rounds ago ``i`` and ``j`` last met before
    this run (0 = never).  ``locked`` pairs are made in the first round only.
    ``time_limit`` is per round.  Deterministic.
    """
    w0 = np.asarray(weights)
    n = w0.shape[0]
    if rounds < 0:
        raise ValueError("rounds must be >= 0")
    # Memory: at 20,000 people each n × n array is 400M entries, so rounds are
    # built in place in int32/int16 and the first round without history uses
    # the caller's matrix as it is (no copy).
    ago = None if last_met is None else np.minimum(np.asarray(last_met), 30_000).astype(np.int16)
    if ago is not None and ago.shape != (n, n):
        raise ValueError("last_met must have shape (n, n)")
    left_out = np.zeros(n, dtype=np.int64)
    in_trio = np.zeros(n, dtype=np.int64)
    met_a = met_b = np.zeros(0, dtype=np.int64)  # this run's meetings, both directions
    outcomes: list[PairingOutcome] = []
    for r in range(rounds):
        if ago is None:
            w = w0
        else:
            w = w0.astype(np.int32, copy=True)
            old = (ago > cooldown) & (w >= 0)
            w[old] = np.maximum(w[old] - repeat_penalty, 0)
            del old
            w[(ago >= 1) & (ago <= cooldown)] = NOT_ALLOWED
        # This run's meetings are not allowed at first: written into the round's own
        # copy (rounds after the first always have one: ``ago`` is set once a round is
        # made) and restored after the solve, instead of a second n x n copy.
        saved = w[met_a, met_b].copy()
        if len(met_a):
            w[met_a, met_b] = NOT_ALLOWED
        kwargs: dict[str, object] = dict(
            objective=objective,
            leftover=leftover,
            exclude_penalty=left_out * ROTATE_PENALTY,
            trio_penalty=in_trio * ROTATE_PENALTY,
            time_limit=time_limit,
            seed=seed,
            locked=locked if r == 0 else None,
        )
        out = solve_pairing(w, **kwargs)  # type: ignore[arg-type]
        if len(met_a):
            w[met_a, met_b] = saved
        repeated: list[tuple[int, int]] = []
        short = len(met_a) > 0 and int(out.stats["people_placed"]) < n
        if short and bool((saved >= 0).any()):
            met_in_run = np.zeros((n, n), dtype=bool)
            met_in_run[met_a, met_b] = True
            alt = _with_repeats(w, met_in_run, kwargs)
            if int(alt.stats["people_placed"]) > int(out.stats["people_placed"]):
                out = alt
                repeated = [p for p in _met_pairs(out) if met_in_run[p]]
            del met_in_run
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
        if r + 1 == rounds:
            break
        met_a = np.concatenate([met_a, pairs[:, 0], pairs[:, 1]])
        met_b = np.concatenate([met_b, pairs[:, 1], pairs[:, 0]])
        # Everyone's meetings age by one round; this round's become "1 round ago".
        if ago is None:
            ago = np.zeros((n, n), dtype=np.int16)
        else:
            np.add(ago, 1, out=ago, where=(ago > 0) & (ago < 30_000))
        ago[pairs[:, 0], pairs[:, 1]] = ago[pairs[:, 1], pairs[:, 0]] = 1
    return outcomes


def _with_repeats(w: np.ndarray, met: np.ndarray, kwargs: dict[str, object]) -> PairingOutcome:
    """Re-solve allowing this run's earlier pairs, preferring fresh pairs lexicographically."""
    n = w.shape[0]
    bonus = (n // 2 + 2) * (int(w.max(initial=0)) + 1)
    ww = w.astype(np.int64)
    ok = (ww >= 0) & ~met
    ww[ok] += bonus
    out = solve_pairing(ww, **kwargs)  # type: ignore[arg-type]
    # Report the objective in the caller's weights (without the fresh-pair bonus).
    fresh_pairs = sum(1 for p in _met_pairs(out) if not met[p])
    trio_fresh = sum(
        1 for a, b, c in out.trios.tolist() for p in ((a, b), (a, c), (b, c)) if not met[p]
    )
    pair_fresh = fresh_pairs - trio_fresh
    shift = bonus * (pair_fresh + trio_fresh / 2)
    stats = dict(out.stats)
    stats["repeat_fallback"] = 1
    # The solve's bound is for the bonus-weighted problem; it does not carry over.
    return PairingOutcome(out.status, out.pairs, out.trios, out.objective - shift, None, stats)
