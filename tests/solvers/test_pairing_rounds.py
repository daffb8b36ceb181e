"""Rounds of peer pairing: no repeats while avoidable, cooldown, rotation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.solvers import NOT_ALLOWED
from buddymatch.solvers.pairing import PairingOutcome, solve_pairing, solve_rounds


def met(out: PairingOutcome) -> set[tuple[int, int]]:
    pairs = {(int(a), int(b)) for a, b in out.pairs.tolist()}
    for a, b, c in out.trios.tolist():
        pairs |= {(a, b), (a, c), (b, c)}
    return pairs


def full(n: int, value: int = 1000) -> np.ndarray:
    w = np.full((n, n), value, dtype=np.int32)
    np.fill_diagonal(w, NOT_ALLOWED)
    return w


def test_complete_pool_rounds_never_repeat() -> None:
    # K_8 decomposes into 7 perfect matchings: 7 repeat-free rounds exist.
    outs = solve_rounds(full(8), 7, leftover="exclude")
    seen: set[tuple[int, int]] = set()
    for out in outs:
        assert out.stats["people_placed"] == 8 and out.stats["repeats"] == 0
        assert not (met(out) & seen)
        seen |= met(out)
    assert len(seen) == 28


def test_repeat_is_a_last_resort_and_reported() -> None:
    outs = solve_rounds(full(4), 4, leftover="exclude")
    assert [o.stats["repeats"] for o in outs] == [0, 0, 0, 2]
    assert all(o.stats["people_placed"] == 4 for o in outs)
    assert str(outs[3].stats["repeated_pairs"]).count("-") == 2


def test_history_cooldown_forbids_recent_pairs() -> None:
    n = 6
    last = np.zeros((n, n), dtype=np.int64)
    last[0, 1] = last[1, 0] = 1
    last[2, 3] = last[3, 2] = 2
    outs = solve_rounds(full(n), 2, last_met=last, cooldown=2, leftover="exclude")
    assert (0, 1) not in met(outs[0]) and (2, 3) not in met(outs[0])
    assert (0, 1) not in met(outs[1])  # 2 rounds ago in round 2: still cooling down


def test_old_meetings_are_penalised_not_forbidden() -> None:
    w = full(4, 50_000)
    last = np.zeros((4, 4), dtype=np.int64)
    last[0, 1] = last[1, 0] = last[2, 3] = last[3, 2] = 5
    out = solve_rounds(w, 1, last_met=last, cooldown=2, repeat_penalty=1000)[0]
    assert (0, 1) not in met(out) and out.stats["people_placed"] == 4


def test_leftover_rotates() -> None:
    outs = solve_rounds(full(5), 5, leftover="exclude")
    left = [set(range(5)) - set(o.pairs.ravel().tolist()) for o in outs]
    assert len(set().union(*left)) == 5  # everybody sits out once
    trio_outs = solve_rounds(full(7), 3, leftover="trio")
    members = [set(o.trios.ravel().tolist()) for o in trio_outs]
    assert all(len(m) == 3 for m in members)
    assert members[0] != members[1] != members[2]
    assert int(trio_outs[-1].stats["trio_spread"]) <= 2


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 12), st.integers(1, 5), st.integers(0, 2**32 - 1), st.booleans())
def test_no_repeat_while_a_repeat_free_round_exists(
    n: int, rounds: int, seed: int, trio: bool
) -> None:
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 100, size=(n, n))
    w = np.triu(w, 1) + np.triu(w, 1).T
    w[np.triu(rng.random((n, n)) < 0.2, 1) | np.triu(rng.random((n, n)) < 0.2, 1).T] = -1
    w = np.minimum(w, w.T).astype(np.int32)
    np.fill_diagonal(w, NOT_ALLOWED)
    leftover = "trio" if trio else "exclude"
    outs = solve_rounds(w, rounds, leftover=leftover, seed=seed)
    again = solve_rounds(w, rounds, leftover=leftover, seed=seed)
    seen: set[tuple[int, int]] = set()
    for out, twin in zip(outs, again, strict=True):
        assert np.array_equal(out.pairs, twin.pairs) and np.array_equal(out.trios, twin.trios)
        repeated = met(out) & seen
        assert len(repeated) == int(out.stats["repeats"]) or out.trios.size
        if repeated:  # only as a last resort: fewer people without them
            fresh = w.copy()
            for a, b in seen:
                fresh[a, b] = fresh[b, a] = NOT_ALLOWED
            alt = solve_pairing(fresh, leftover=leftover)
            assert int(alt.stats["people_placed"]) < int(out.stats["people_placed"])
        seen |= met(out)


def test_rejects_bad_history_shape() -> None:
    with pytest.raises(ValueError, match="last_met"):
        solve_rounds(full(3), 1, last_met=np.zeros((2, 2)))


def test_rounds_never_change_the_callers_matrix() -> None:
    """A round forbids this run's earlier pairs in its own copy and restores them after."""
    rng = np.random.default_rng(11)
    w = rng.integers(0, 50, size=(9, 9)).astype(np.int32)
    w = np.triu(w, 1) + np.triu(w, 1).T
    np.fill_diagonal(w, NOT_ALLOWED)
    before = w.copy()
    last = np.zeros((9, 9), dtype=np.int64)
    last[0, 1] = last[1, 0] = 2
    for history in (None, last):
        outs = solve_rounds(w, 5, last_met=history, cooldown=1)
        assert (w == before).all()
        seen: set[tuple[int, int]] = set()
        for out in outs[:4]:  # 9 people, 36 pairs: four rounds can avoid every repeat
            assert out.stats["repeats"] == 0 and not (met(out) & seen)
            seen |= met(out)


def _reference_round(
    w: np.ndarray, last: np.ndarray, earlier: list[PairingOutcome], cooldown: int, penalty: int
) -> np.ndarray:
    """Round ``len(earlier)``'s matrix built densely from the module's rules."""
    r = len(earlier)
    ago = np.where(last > 0, np.minimum(last + r, 30_000), 0)
    for k, out in enumerate(earlier):  # later rounds overwrite: the latest meeting counts
        for a, b in met(out):
            ago[a, b] = ago[b, a] = r - k
    ref = w.astype(np.int64)
    old = (ago > cooldown) & (ref >= 0)
    ref[old] = np.maximum(ref[old] - penalty, 0)
    ref[(ago >= 1) & (ago <= cooldown)] = NOT_ALLOWED
    for out in earlier:
        for a, b in met(out):
            ref[a, b] = ref[b, a] = NOT_ALLOWED
    return ref


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 11),
    st.integers(1, 4),
    st.integers(0, 2),
    st.integers(0, 2**32 - 1),
    st.booleans(),
    st.booleans(),
)
def test_each_round_solves_the_dense_reference_matrix(
    n: int, rounds: int, cooldown: int, seed: int, trio: bool, overwrite: bool
) -> None:
    """Sparse history bookkeeping = the rules applied to a dense matrix, round by round."""
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 60, size=(n, n))
    w = (np.triu(w, 1) + np.triu(w, 1).T).astype(np.int32)
    gone = np.triu(rng.random((n, n)) < 0.2, 1)
    w[gone | gone.T] = NOT_ALLOWED
    np.fill_diagonal(w, NOT_ALLOWED)
    met_before = np.triu(rng.random((n, n)) < 0.3, 1)
    last = np.where(met_before, rng.integers(1, 5, size=(n, n)), 0)
    last = last + last.T
    before = w.copy()
    leftover = "trio" if trio else "exclude"
    outs = solve_rounds(
        w,
        rounds,
        last_met=last,
        cooldown=cooldown,
        repeat_penalty=25,
        leftover=leftover,
        seed=seed,
        overwrite=overwrite,
    )
    assert (w == before).all()
    left_out, in_trio = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for r, out in enumerate(outs):
        for a, b in met(out):  # cooldown holds in every round, last resort or not
            ago = [r - k for k in range(r) if (a, b) in met(outs[k])]
            ago += [int(last[a, b]) + r] if last[a, b] else []
            assert not ago or min(ago) > cooldown
        if not out.stats.get("repeat_fallback"):  # a last resort re-solves with repeats
            ref = _reference_round(w, last, outs[:r], cooldown, 25)
            expect = solve_pairing(
                ref,
                leftover=leftover,
                seed=seed,
                exclude_penalty=left_out * 5000,
                trio_penalty=in_trio * 5000,
            )
            assert np.array_equal(out.pairs, expect.pairs)
            assert np.array_equal(out.trios, expect.trios)
            assert out.objective == expect.objective
        placed = np.zeros(n, dtype=bool)
        placed[[p for pair in met(out) for p in pair]] = True
        left_out += ~placed
        in_trio[out.trios.ravel()] += 1


def test_overwrite_works_in_the_callers_matrix_and_restores_it() -> None:
    w = full(10)
    w[0, 1] = w[1, 0] = 5000
    before = w.copy()
    kept = solve_rounds(w, 4, leftover="exclude")
    worked = solve_rounds(w, 4, leftover="exclude", overwrite=True)
    assert (w == before).all()
    for a, b in zip(kept, worked, strict=True):
        assert np.array_equal(a.pairs, b.pairs) and a.objective == b.objective
    frozen = before.copy()
    frozen.flags.writeable = False  # read-only: a copy is made instead
    assert np.array_equal(solve_rounds(frozen, 2, overwrite=True)[1].pairs, kept[1].pairs)
