"""Two-sided assignment with capacities (mentoring): exact min-cost flow.

The public entry point is :func:`solve_assignment`; :func:`solve_with_changes`
(``budget``) re-matches with a budget on breaking current pairs.  ``flow`` holds
the certified sparse min-cost flow of one objective level and ``search`` how its
first candidates are found, ``kernels`` the numba passes over a pair space,
``cardinality`` the augmenting-path search, ``classes`` the class-level start,
``levels`` the priorities, ``fair`` the fair objective and ``prepared`` the
validated inputs and outcome types.
"""

from buddymatch.solvers.assignment.budget import ChangesOutcome, solve_with_changes
from buddymatch.solvers.assignment.solve import (
    OBJECTIVES,
    PRIORITIES,
    SHORTHANDS,
    AssignmentOutcome,
    Favour,
    LevelOutcome,
    solve_assignment,
)

__all__ = [
    "OBJECTIVES",
    "PRIORITIES",
    "SHORTHANDS",
    "AssignmentOutcome",
    "ChangesOutcome",
    "Favour",
    "LevelOutcome",
    "solve_assignment",
    "solve_with_changes",
]
