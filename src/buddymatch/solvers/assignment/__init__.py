"""Two-sided assignment with capacities (mentoring): exact min-cost flow.

The public entry point is :func:`solve_assignment`; :func:`solve_with_changes`
(``budget``) re-matches with a budget on breaking current pairs.  ``flow`` holds
the certified sparse min-cost flow and ``kernels`` its numba kernels.
"""

from buddymatch.solvers.assignment.budget import ChangesOutcome, solve_with_changes
from buddymatch.solvers.assignment.solve import (
    OBJECTIVES,
    AssignmentOutcome,
    solve_assignment,
)

__all__ = [
    "OBJECTIVES",
    "AssignmentOutcome",
    "ChangesOutcome",
    "solve_assignment",
    "solve_with_changes",
]
