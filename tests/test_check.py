"""The independent checker catches every kind of broken result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.api import load_problem
from buddymatch.check import check_groups, check_pairs, check_parts, pair_violations
from buddymatch.errors import SolverError
from tests.strategies import scheme_dict


@pytest.fixture
def problem():  # type: ignore[no-untyped-def]
    df = pd.DataFrame(
        {
            "id": ["m1", "m2", "e1", "e2", "e3"],
            "role": ["Mentor", "Mentor", "Mentee", "Mentee", "Mentee"],
            "cap": ["1", "2", "1", "1", "1"],
            "org": ["A", "B", "A", "C", "C"],
            "band": ["B7", "B7", "B6", "B6", "B5"],
            "region": ["North"] * 5,
            "needs": [""] * 5,
            "offers": [""] * 5,
        }
    )
    rules = [
        {"different": "org"},
        {"gap": {"attribute": "band", "min": 1, "max": 1}},
        {"forbid": {"pairs": [["m2", "e3"]]}},
    ]
    return load_problem(df, scheme_dict("mentoring", rules=rules))


def test_valid_result_passes(problem) -> None:  # type: ignore[no-untyped-def]
    check_pairs(problem, [[(1, 3), (1, 2)]])


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ([(0, 2)], "breaks rule different org"),
        ([(0, 4)], "breaks rule gap on band (difference 2)"),
        ([(1, 4)], "is a forbidden pair"),
        ([(2, 3)], "is not a mentor"),
        ([(1, 3), (1, 3)], "made twice"),
        ([(0, 3), (1, 3)], "has 2 mentors, wanted 1"),
    ],
)
def test_violations_are_caught(problem, units, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SolverError, match="internal check failed") as err:
        check_pairs(problem, [units])
    assert message in str(err.value)
    assert "m1" not in str(err.value) and "e1" not in str(err.value)  # rows, not ids


def test_capacity_and_repeats_across_rounds(problem) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SolverError, match="mentors 2, capacity 1"):
        check_pairs(problem, [[(0, 3), (0, 4)]])
    with pytest.raises(SolverError, match="meet again"):
        check_pairs(problem, [[(1, 3)], [(1, 3)]])
    check_pairs(problem, [[(1, 3)], [(1, 3)]], allowed_repeats={frozenset((1, 3))})


def test_pair_violations_lists_every_rule(problem) -> None:  # type: ignore[no-untyped-def]
    assert pair_violations(problem, 0, 2) == ["breaks rule different org"]
    assert pair_violations(problem, 0, 0)[0] == "pairs a person with themselves"


def test_group_checks() -> None:
    df = pd.DataFrame({"id": list("abcdef"), "prof": ["GP", "GP", "RN", "RN", "RN", "RN"]})
    scheme = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {"id": "id", "attributes": {"prof": {"column": "prof"}}},
        "groups": {"count": 2},
        "rules": [{"at_least": {"attribute": "prof", "value": "GP", "count": 1}}],
    }
    problem = load_problem(df, scheme)
    lower = upper = np.array([3, 3])
    rules = [("at_least", "prof", "GP", 1)]
    check_groups(problem, [np.array([0, 1, 0, 0, 1, 1])], lower, upper, rules)
    with pytest.raises(SolverError, match="has 0 with prof = gp"):
        check_groups(problem, [np.array([0, 0, 1, 1, 1, 0])], lower, upper, rules)
    with pytest.raises(SolverError, match="group 1 has 4, allowed 3–3"):
        check_groups(problem, [np.array([0, 1, 0, 0, 0, 1])], lower, upper, rules)


# --- nobody alone, shared values, split parts ---------------------------------------------

PROFESSIONS = ("GP", "Nurse", "Patient rep")


def _cohort_problem(profs: list[str], slots: list[str] | None = None, **extra):  # type: ignore[no-untyped-def]
    n = len(profs)
    df = pd.DataFrame({"id": [f"c{i}" for i in range(n)], "prof": profs})
    attrs: dict = {"prof": {"column": "prof"}}
    if slots is not None:
        df["slots"] = slots
        attrs["slots"] = {"column": "slots", "multi": ";"}
    scheme = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {"id": "id", "attributes": attrs},
        "groups": {"count": 2},
        **extra,
    }
    return load_problem(df, scheme)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(PROFESSIONS), min_size=4, max_size=10),
    st.data(),
    st.sampled_from([None, "Patient rep"]),
    st.integers(2, 3),
)
def test_the_checker_catches_exactly_the_groups_with_someone_alone(
    profs: list[str], data: st.DataObject, value: str | None, least: int
) -> None:
    """Property: check_groups fails iff some group holds 1 .. least-1 of a (checked) value."""
    rule = {"attribute": "prof", "min": least, **({"value": value} if value else {})}
    problem = _cohort_problem(profs, rules=[{"not_alone": rule}])
    assignment = np.array(data.draw(st.lists(st.integers(0, 1), min_size=len(profs),
                                             max_size=len(profs))))  # fmt: skip
    n0 = int((assignment == 0).sum())
    lower = upper = np.array([n0, len(profs) - n0])
    checked = [value] if value else list(PROFESSIONS)
    alone = any(
        0 < sum(1 for p, g in zip(profs, assignment, strict=True) if p == v and g == grp) < least
        for v in checked
        for grp in (0, 1)
    )
    spec = [("not_alone", "prof", value, least)]
    if alone:
        with pytest.raises(SolverError, match="rule not_alone"):
            check_groups(problem, [assignment], lower, upper, spec)
    else:
        check_groups(problem, [assignment], lower, upper, spec)


def test_the_checker_catches_a_group_without_a_shared_slot() -> None:
    problem = _cohort_problem(
        ["GP", "GP", "Nurse", "Nurse"], ["Mon; Tue", "Mon", "Tue", "Tue; Wed"]
    )
    spec = [("common", "slots", None, 1)]
    lower = upper = np.array([2, 2])
    check_groups(problem, [np.array([0, 0, 1, 1])], lower, upper, spec)  # Mon / Tue
    with pytest.raises(SolverError, match="shares 0 values of slots, rule common 1"):
        check_groups(problem, [np.array([0, 1, 0, 1])], lower, upper, spec)


def test_the_checker_counts_each_value_of_a_multi_valued_attribute() -> None:
    problem = _cohort_problem(["GP"] * 4, ["Mon; Tue", "Mon", "Tue", "Wed"])
    lower = upper = np.array([2, 2])
    spec = [("at_least", "slots", "Mon", 1)]
    check_groups(problem, [np.array([0, 1, 0, 1])], lower, upper, spec)
    with pytest.raises(SolverError, match="has 0 with slots = mon"):
        check_groups(problem, [np.array([0, 0, 1, 1])], lower, upper, spec)


def test_the_checker_catches_a_unit_across_split_parts() -> None:
    problem = _cohort_problem(["GP", "GP", "Nurse", "Nurse"], split_by="prof")
    check_parts(problem, [[(0, 1), (2, 3)]])
    with pytest.raises(SolverError, match="crosses split_by prof") as err:
        check_parts(problem, [[(0, 2), (1, 3)]])
    assert "c0" not in str(err.value)  # rows, not ids
    assert pair_violations(problem, 0, 2) == ["crosses split_by prof (different parts)"]
