"""The integer weight convention between rules/scoring and the solvers.

``candidates.weight_matrix`` turns pair scores into integer weights and
marks forbidden pairs; every solver optimises such matrices.  Both sides
import these constants from here, so neither depends on the other.
"""

from __future__ import annotations

NOT_ALLOWED = -1
"""Entry of an integer weight matrix for a pair that must never be made."""

WEIGHT_SCALE = 1000
"""Pair scores in [0, 100] become integer weights ``round(score * WEIGHT_SCALE)``."""

__all__ = ["NOT_ALLOWED", "WEIGHT_SCALE"]
