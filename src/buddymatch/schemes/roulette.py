"""Peer schemes with ``group_size: k`` (coffee-roulette groups of 3–4): the cohort machinery.

A peer scheme's pairwise rules become cohort rules: ``different: A`` means no
two members share A (at most 1 per value in a group), ``forbid`` pairs become
keep-apart sets and ``lock`` pairs keep-together sets.  ``n // k`` groups are
formed, sizes as equal as possible (k or k + 1).  Rounds avoid anyone sharing
a group twice, exactly as cohorts do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import ConfigError, InfeasibleError, Issue
from ..model import CountRuleSpec, GroupsSpec, Problem
from . import cohorts


def to_cohorts(problem: Problem) -> Problem:
    """The equivalent cohorts problem of a peer scheme with ``group_size``."""
    scheme = problem.scheme
    k = scheme.group_size
    assert k is not None and k > 2
    n = int((~problem.excluded).sum())
    if n < k:
        raise InfeasibleError(f"group_size {k} needs at least {k} people; the pool has {n}")
    rules: list[Any] = []
    for i, rule in enumerate(scheme.rules):
        if rule.kind == "different":
            rules.append(CountRuleSpec(kind="at_most", attribute=rule.attribute, count=1))
        elif rule.kind in ("forbid", "lock", "exclude"):
            continue  # carried by the problem's pairs and exclusions below
        else:
            raise ConfigError(
                issues=[
                    Issue(
                        f'key "rules[{i}].{rule.kind}": not available with group_size (groups '
                        "of 3 or more); use different, forbid, lock or exclude, or scheme: "
                        "cohorts with composition rules"
                    )
                ]
            )
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
        apart=(*problem.apart, *(np.asarray(p) for p in problem.forbidden.tolist())),
        together=(*problem.together, *(np.asarray(p) for p in problem.locked.tolist())),
    )


def run(
    problem: Problem, *, progress: Callable[[dict[str, Any]], None] | None
) -> cohorts.CohortRun:
    return cohorts.run(to_cohorts(problem), progress=progress)
