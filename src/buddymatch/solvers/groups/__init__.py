"""Group formation (cohorts): composition rules, exact search for small pools,
memetic tabu search otherwise.

Public entry point: :func:`solve_groups`, with the rule types it takes
(:class:`CountRule`, :class:`CommonRule`) and the size/feasibility helpers callers need before
solving (:func:`group_bounds`, :func:`check_composition`).  ``kernel`` holds the
numba kernels, ``rules`` the counting logic, ``start`` the constructions, ``bound``
the upper bound behind the reported gap.
"""

from buddymatch.solvers.groups.bound import upper_bound
from buddymatch.solvers.groups.rules import (
    CommonRule,
    CountRule,
    check_composition,
    group_bounds,
)
from buddymatch.solvers.groups.solve import GroupOutcome, solve_groups

__all__ = [
    "CommonRule",
    "CountRule",
    "GroupOutcome",
    "check_composition",
    "group_bounds",
    "solve_groups",
    "upper_bound",
]
