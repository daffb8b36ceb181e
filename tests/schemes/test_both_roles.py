"""People who are "both": never mentor each other in one run, one role on request.

The branch and bound around the flow (schemes/both_roles.py) is compared with a
brute force over every set of allowed (mentor, mentee) pairs of small pools; the
checker refuses a result that breaks either rule.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import buddymatch
from buddymatch.candidates import weight_matrix
from buddymatch.check import check_pairs
from buddymatch.errors import SolverError
from buddymatch.weights import NOT_ALLOWED


def _scheme(objective: str, **role: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "scheme": "mentoring",
        "objective": objective,
        "participants": {
            "id": "id",
            "role": {"column": "role", "both": ["Either"], **role},
            "capacity": {"column": "cap", "default": 1},
            "wants": {"column": "wants", "default": 1},
            "attributes": {
                "region": {"column": "region"},
                "years": {"column": "years", "numeric": True},
            },
        },
        "criteria": [
            {"same": {"attribute": "region", "weight": 1}},
            {"closeness": {"attribute": "years", "weight": 2}},
        ],
    }


def _brute_force(problem: Any, objective: str, one_role: bool) -> tuple[int, int]:
    """(pairs, total weight) of the best allowed set, by trying every set."""
    mentees, mentors = problem.mentees(), problem.mentors()
    w = weight_matrix(problem, mentees, mentors)
    arcs = [
        (int(mentors[j]), int(mentees[i]), int(w[i, j]))
        for i in range(len(mentees))
        for j in range(len(mentors))
        if w[i, j] != NOT_ALLOWED
    ]
    best = (0, 0)
    for k in range(len(arcs) + 1):
        for chosen in itertools.combinations(arcs, k):
            made = {(a, b) for a, b, _ in chosen}
            if any((b, a) in made for a, b in made):
                continue
            load = np.bincount([a for a, _ in made], minlength=problem.n)
            asked = np.bincount([b for _, b in made], minlength=problem.n)
            if (load > problem.capacity).any() or (asked > problem.wants).any():
                continue
            if one_role and {a for a, _ in made} & {b for _, b in made}:
                continue
            value = (len(made), sum(x for *_, x in chosen))
            if (value if objective == "max-matched" else value[1:]) > (
                best if objective == "max-matched" else best[1:]
            ):
                best = value
    return best


def _made(result: Any) -> list[tuple[int, int]]:
    index = {pid: k for k, pid in enumerate(result.problem.ids)}
    m = result.matches
    return [(index[a], index[b]) for a, b in zip(m["mentor_id"], m["mentee_id"], strict=True)]


@settings(max_examples=25, deadline=None)
@given(
    regions=st.lists(st.sampled_from("NS"), min_size=4, max_size=4),
    years=st.lists(st.integers(0, 6), min_size=4, max_size=4),
    caps=st.lists(st.integers(1, 2), min_size=4, max_size=4),
    objective=st.sampled_from(["max-score", "max-matched"]),
    one_role=st.booleans(),
)
def test_both_people_equal_brute_force(
    regions: list[str], years: list[int], caps: list[int], objective: str, one_role: bool
) -> None:
    profiles = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "role": ["Either"] * 4,
            "cap": [str(c) for c in caps],
            "wants": [str(3 - c) for c in caps],
            "region": regions,
            "years": [str(y) for y in years],
        }
    )
    result = buddymatch.match(profiles, _scheme(objective, one_role=one_role))
    made = _made(result)
    assert not [(a, b) for a, b in made if (b, a) in made]
    if one_role:
        assert not {a for a, _ in made} & {b for _, b in made}
    mentees, mentors = result.problem.mentees(), result.problem.mentors()
    w = weight_matrix(result.problem, mentees, mentors)
    row = {int(p): i for i, p in enumerate(mentees)}
    col = {int(p): j for j, p in enumerate(mentors)}
    value = (len(made), sum(int(w[row[b], col[a]]) for a, b in made))
    best = _brute_force(result.problem, objective, one_role)
    if objective == "max-matched":  # most pairs, then the best total weight
        assert value == best, (regions, years, caps, made)
    else:  # the best total weight (pairs worth nothing may be left out)
        assert value[1] == best[1], (regions, years, caps, made)
    assert result.summary["status"] == "optimal"


def test_four_people_who_would_pair_both_ways_do_not_unless_allowed() -> None:
    profiles = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "role": ["Either"] * 4,
            "cap": ["1"] * 4,
            "wants": ["1"] * 4,
            "region": ["N", "N", "S", "S"],
            "years": ["1", "1", "5", "5"],
        }
    )
    strict = _made(buddymatch.match(profiles, _scheme("max-score")))
    assert not [(a, b) for a, b in strict if (b, a) in strict]
    loose = _made(buddymatch.match(profiles, _scheme("max-score", reciprocal=True)))
    assert sorted(loose) == [(0, 1), (1, 0), (2, 3), (3, 2)]  # what the flow alone does


def test_the_checker_refuses_pairs_that_mentor_each_other() -> None:
    profiles = pd.DataFrame(
        {
            "id": ["a", "b"],
            "role": ["Either"] * 2,
            "cap": ["1"] * 2,
            "wants": ["1"] * 2,
            "region": ["N", "N"],
            "years": ["1", "1"],
        }
    )
    problem = buddymatch.load_problem(profiles, _scheme("max-score"))
    with pytest.raises(SolverError, match="mentor each other"):
        check_pairs(problem, [[(0, 1), (1, 0)]])
    one = buddymatch.load_problem(profiles, _scheme("max-score", one_role=True, reciprocal=True))
    with pytest.raises(SolverError, match="both a mentor and a mentee"):
        check_pairs(one, [[(0, 1), (1, 0)]])
