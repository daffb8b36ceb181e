"""Peer schemes with ``group_size: k`` (coffee-roulette groups of 3–4): the cohort machinery.

A peer scheme's pairwise rules become cohort rules: ``different: A`` means no
two members share A (at most 1 per value in a group), ``forbid`` pairs never
share a group (as every forbidden pair in cohorts), ``lock`` pairs become
keep-together sets, and ``common`` (shared values) holds for the whole group.
``n // k`` groups are
formed, sizes as equal as possible (k or k + 1).  Rounds avoid anyone sharing
a group twice, exactly as cohorts do.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import InfeasibleError
from ..model import CountRuleSpec, GroupsSpec, Problem
from . import cohorts
from .base import Progress, SchemeRun
from .rematch import Previous


def to_cohorts(problem: Problem) -> Problem:
    """The equivalent cohorts problem of a peer scheme with ``group_size``."""
    scheme = problem.scheme
    k = scheme.group_size
    assert k is not None and k > 2
    n = int((~problem.excluded).sum())
    if n < k:
        raise InfeasibleError(f"group_size {k} needs at least {k} people; the pool has {n}")
    # Validation (``Peer.validate``) admits only different, forbid, lock, exclude and
    # common with group_size; forbid/lock/exclude are carried by the problem's pairs below.
    rules: list[Any] = [
        CountRuleSpec(kind="at_most", attribute=rule.attribute, count=1)
        for rule in scheme.rules
        if rule.kind == "different"
    ]
    rules += [rule for rule in scheme.rules if rule.kind == "common"]  # the same in groups
    derived = scheme.model_copy(
        update={
            "scheme": "cohorts",
            "rules": tuple(rules),
            "groups": GroupsSpec(count=max(1, n // k)),
            "group_size": None,
            "objective": "max-score",
        }
    )
    return replace(
        problem,
        scheme=derived,
        together=(*problem.together, *(np.asarray(p) for p in problem.locked.tolist())),
    )


def run(problem: Problem, *, progress: Progress | None) -> SchemeRun:
    """Form the groups as cohorts do, from the equivalent cohorts problem."""
    return cohorts.run(to_cohorts(problem), progress=progress)


def rematch(
    problem: Problem, previous: Previous, *, max_changes: int, progress: Progress | None
) -> SchemeRun:
    """Repair the latest round's groups as cohorts do (:func:`.cohorts.rematch`)."""
    return cohorts.rematch(
        to_cohorts(problem), previous, max_changes=max_changes, progress=progress
    )
