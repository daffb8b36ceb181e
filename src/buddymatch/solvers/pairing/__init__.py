"""One-pool pairing (peer buddies): maximum-weight matching with one trio for odd pools.

Public entry points: :func:`solve_pairing` (one round), :func:`solve_rounds`
(rotations without repeats) and :func:`solve_pairing_with_changes` (``budget``:
re-pairing with a budget on breaking current units).  ``blossom`` is the
matching engine (with its dual certificate and warm starts), ``graph`` lists
candidate pairs, ``price`` checks the duals against every allowed pair,
``core`` runs one solve, ``trio`` chooses the trio, ``fair`` and
``cardinality`` serve the fair objective.
"""

from buddymatch.solvers.pairing.budget import PairingChanges, solve_pairing_with_changes
from buddymatch.solvers.pairing.outcome import OBJECTIVES, PairingOutcome
from buddymatch.solvers.pairing.rounds import solve_rounds
from buddymatch.solvers.pairing.solve import solve_pairing

__all__ = [
    "OBJECTIVES",
    "PairingChanges",
    "PairingOutcome",
    "solve_pairing",
    "solve_pairing_with_changes",
    "solve_rounds",
]
