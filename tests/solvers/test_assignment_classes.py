"""Solving by profile classes first (class level, disaggregation, lifted potentials) changes
nothing: the same optimum as the dense solve, certified over every pair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import buddymatch
from buddymatch.api import load_problem
from buddymatch.candidates import pair_weights, weight_matrix
from buddymatch.solvers import Status
from buddymatch.solvers.assignment import classes, solve_assignment
from tests.strategies import profiles, scheme_dict


def _problem(size: int, seed: int, rules: list, criteria: list):  # type: ignore[no-untyped-def]
    scheme = buddymatch.sample_scheme("mentoring")
    scheme["rules"] = rules
    scheme["criteria"] = criteria
    return load_problem(buddymatch.sample_profiles("mentoring", size, seed=seed), scheme)


CASES = [
    # few classes: region only; different organisation (many values: per-person codes)
    ([{"different": "organisation"}], [{"same": {"attribute": "region", "weight": 1}}]),
    (
        [{"different": "organisation"}, {"gap": {"attribute": "band", "min": 1, "max": 3}}],
        [{"same": {"attribute": "region", "weight": 2}}, {"same": "profession"}],
    ),
    ([{"gap": {"attribute": "band", "min": 0, "max": 2}}], [{"same": "org_type"}]),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("objective", ["max-score", "max-matched"])
@pytest.mark.parametrize("seed", [1, 2])
def test_class_level_equals_dense(case: int, objective: str, seed: int) -> None:
    rules, criteria = CASES[case]
    problem = _problem(700, seed, rules, criteria)
    mentees, mentors = problem.mentees(), problem.mentors()
    pw = pair_weights(problem, mentees, mentors)
    wants, caps = problem.wants[mentees], problem.capacity[mentors]
    by_class = solve_assignment(pw, wants, caps, objective=objective, dense_limit=0)
    dense = solve_assignment(pw.dense(), wants, caps, objective=objective, dense_limit=10**9)
    assert by_class.stats["class_level"] == 1, "the class level was used"
    assert by_class.status is Status.OPTIMAL and dense.status is Status.OPTIMAL
    assert (by_class.objective, by_class.total_weight) == (dense.objective, dense.total_weight)
    w = pw.dense()
    pairs = by_class.pairs
    assert (w[pairs[:, 0], pairs[:, 1]] >= 0).all()
    assert (np.bincount(pairs[:, 1], minlength=len(mentors)) <= caps).all()


@settings(max_examples=60, deadline=None)
@given(
    profiles(min_size=4, max_size=40),
    st.sampled_from(["max-score", "max-matched", ("mentees-covered", "pairs", "score")]),
    st.sampled_from([(1, 2), (0, 3), None]),
)
def test_solving_by_classes_equals_the_uncompressed_path(
    df: pd.DataFrame, objective: str | tuple[str, ...], gap: tuple[int, int] | None
) -> None:
    """Invariant: the class-first solve (forced on whenever there is a class, however
    little it compresses) reaches the optimum of the dense solve on the uncompressed
    matrix — same status, levels and total weight — and its pairs are allowed and
    within every capacity."""
    problem = load_problem(df, scheme_dict("mentoring", gap=gap))
    mentees, mentors = problem.mentees(), problem.mentors()
    pw = pair_weights(problem, mentees, mentors)
    wants, caps = problem.wants[mentees], problem.capacity[mentors]
    old = classes.PAYS_OFF
    classes.PAYS_OFF = 0  # always solve by classes first
    try:
        by_class = solve_assignment(pw, wants, caps, objective=objective, dense_limit=0)
    finally:
        classes.PAYS_OFF = old
    w = weight_matrix(problem, mentees, mentors)  # the uncompressed path, independently built
    dense = solve_assignment(w, wants, caps, objective=objective, dense_limit=10**9)
    assert by_class.status is dense.status is Status.OPTIMAL
    assert (by_class.objective, by_class.total_weight) == (dense.objective, dense.total_weight)
    assert [lv.value for lv in by_class.levels] == [lv.value for lv in dense.levels]
    pairs = by_class.pairs
    assert (w[pairs[:, 0], pairs[:, 1]] >= 0).all()
    assert (np.bincount(pairs[:, 1], minlength=len(mentors)) <= caps).all()
    assert (np.bincount(pairs[:, 0], minlength=len(mentees)) <= wants).all()
