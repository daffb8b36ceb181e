"""One-pool pairing (peer buddies): maximum-weight matching with one trio for odd pools.

Public entry points: :func:`solve_pairing` (one round) and :func:`solve_rounds`
(rotations without repeats).  ``core`` grows and certifies the candidate
graph; ``graph`` holds its kernels, the fractional-matching LP and blossom calls.
"""

from buddymatch.solvers.pairing.rounds import solve_rounds
from buddymatch.solvers.pairing.solve import OBJECTIVES, PairingOutcome, solve_pairing

__all__ = ["OBJECTIVES", "PairingOutcome", "solve_pairing", "solve_rounds"]
