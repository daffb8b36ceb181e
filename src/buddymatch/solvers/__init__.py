"""Optimisers, one subpackage per method, all functions of plain arrays.

- ``solvers.assignment``: two sides with capacities (mentoring), min-cost flow;
- ``solvers.pairing``: one pool (peer), maximum-weight matching with a trio;
- ``solvers.groups``: groups with composition rules (cohorts).

Solvers never read files or scheme objects: they take integer weight matrices
(``NOT_ALLOWED`` marks a pair a hard rule removed), capacities and options, and
return an outcome with a :class:`Status`.  Bad arguments raise ``ValueError``
(user-facing errors belong to the input layer).  Each backend maps its native
status codes to :class:`Status` in one place.  ``check.py`` re-verifies every
outcome.  Importing this package does not import the subpackages (they load
numba and OR-Tools).
"""

from __future__ import annotations

import enum

from buddymatch.weights import NOT_ALLOWED, WEIGHT_SCALE


class Status(str, enum.Enum):
    """What a solve proved about its result."""

    OPTIMAL = "optimal"  # proven best for the stated objective
    FEASIBLE = "feasible"  # valid, with a bound and gap where one is known
    INFEASIBLE = "infeasible"  # proven: no valid result exists
    UNKNOWN = "unknown"  # stopped (time limit) without any valid result


__all__ = ["NOT_ALLOWED", "WEIGHT_SCALE", "Status"]
