"""Large pools go to the previous engine (solvers/pairing/classic): the same answers.

``BLOSSOM_MAX_PEOPLE`` is lowered to 0 so small pools take the large-pool path;
its answers must equal brute force (every structure of pairs and one trio) and
never claim ``optimal`` without the same value.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from buddymatch.solvers import Status
from buddymatch.solvers.pairing import solve as pairing_solve
from buddymatch.solvers.pairing import solve_pairing
from tests.solvers.test_pairing import score, structures
from tests.solvers.test_pairing_certificate import odd_pools


@settings(max_examples=40, deadline=None)
@given(odd_pools())
def test_the_large_pool_engine_equals_brute_force(
    case: tuple[np.ndarray, str, np.ndarray],
) -> None:
    w, objective, pen = case
    best = max(score(w, s, objective, pen) for s in structures(w, [], True))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pairing_solve, "BLOSSOM_MAX_PEOPLE", 0)
        out = solve_pairing(w, objective=objective, leftover="trio", exclude_penalty=pen)
    assert out.stats["engine"] == "classic"
    trio = tuple(out.trios[0].tolist()) if len(out.trios) else None
    got = score(w, ([tuple(p) for p in out.pairs.tolist()], trio), objective, pen)  # type: ignore[arg-type]
    assert got == best
    assert out.status in (Status.OPTIMAL, Status.FEASIBLE)
