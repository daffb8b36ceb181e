"""Optimisers, one module per method, all functions of plain arrays.

Solvers never read files or scheme objects: they take integer weight matrices
(``NOT_ALLOWED`` marks a pair a hard rule removed), capacities and options, and
return an outcome with a :class:`Status`.  Each backend maps its native status
codes to :class:`Status` in one dict.  ``check.py`` re-verifies every outcome.
"""

from __future__ import annotations

import enum

NOT_ALLOWED = -1
"""Entry of an integer weight matrix for a pair that must never be made."""

WEIGHT_SCALE = 1000
"""Pair scores in [0, 100] become integer weights ``round(score * WEIGHT_SCALE)``."""


class Status(str, enum.Enum):
    """What a solve proved about its result."""

    OPTIMAL = "optimal"  # proven best for the stated objective
    FEASIBLE = "feasible"  # valid, with a bound and gap where one is known
    INFEASIBLE = "infeasible"  # proven: no valid result exists
    UNKNOWN = "unknown"  # stopped (time limit) without any valid result


__all__ = ["NOT_ALLOWED", "WEIGHT_SCALE", "Status"]
