"""Two-sided assignment with capacities (mentoring): exact min-cost flow.

The one public entry point is :func:`solve_assignment`; ``flow`` holds the
certified sparse min-cost flow and ``kernels`` its numba kernels.
"""

from buddymatch.solvers.assignment.solve import (
    OBJECTIVES,
    AssignmentOutcome,
    solve_assignment,
)

__all__ = ["OBJECTIVES", "AssignmentOutcome", "solve_assignment"]
