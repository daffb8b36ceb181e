"""The raw re-check catches what a parsing mistake would let through the checker.

Each test loads a problem, then damages the *parsed* problem as a parsing bug
would (a forbidden pair lost, a bound misread, a capacity misread, a keep-apart
set dropped): the solver and :mod:`buddymatch.check` then agree with the damaged
problem, and only :func:`buddymatch.recheck.recheck`, reading the scheme and
files as written, stands between the result and the user.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import buddymatch
from buddymatch.errors import SolverError


def _peer(tmp_path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    profiles = pd.DataFrame(
        {
            "id": ["=a1", "b2", "c3", "d4"],
            "org": ["A", "B", "C", "D"],
            "years": ["1", "2", "10", "11"],
        }
    )
    (tmp_path / "forbid.csv").write_text("person_a,person_b\n'=a1,b2\n")
    scheme = {
        "version": 1,
        "scheme": "peer",
        "participants": {
            "id": "id",
            "attributes": {"org": {"column": "org"}, "years": {"column": "years", "numeric": True}},
        },
        "rules": [{"forbid": {"file": str(tmp_path / "forbid.csv")}}],
        "criteria": [{"closeness": {"attribute": "years", "weight": 1}}],
    }
    return profiles, scheme


def test_an_intact_run_passes_and_the_forbid_file_holds(tmp_path: Path) -> None:
    profiles, scheme = _peer(tmp_path)
    made = buddymatch.match(profiles, scheme).matches
    pairs = {frozenset(p) for p in zip(made["member_a"], made["member_b"], strict=True)}
    assert frozenset(("=a1", "b2")) not in pairs  # read back from the escaped id


def test_a_lost_forbidden_pair_is_caught(tmp_path: Path) -> None:
    profiles, scheme = _peer(tmp_path)
    problem = buddymatch.load_problem(profiles, scheme)
    damaged = replace(problem, forbidden=np.zeros((0, 2), dtype=np.int64))
    with pytest.raises(SolverError, match=r"(?s)raw input failed.*forbidden pair"):
        buddymatch.solve(damaged)


def test_a_misread_gap_bound_is_caught(tmp_path: Path) -> None:
    profiles, scheme = _peer(tmp_path)
    scheme["rules"] = [{"gap": {"attribute": "years", "max": 2}}]
    problem = buddymatch.load_problem(profiles, scheme)
    loose = buddymatch.load_problem(profiles, {**scheme, "rules": []}).scheme
    damaged = replace(problem, scheme=loose)  # the bound lost: any pair is allowed
    assert buddymatch.solve(problem).summary["matched"] == 4  # 1-2 and 10-11 keep it
    profiles = profiles.assign(org=["A", "A", "C", "C"])
    scheme["rules"].append({"different": "org"})  # 1-2 and 10-11 are now forbidden
    problem = buddymatch.load_problem(profiles, scheme)
    loose = buddymatch.load_problem(profiles, {**scheme, "rules": [{"different": "org"}]})
    damaged = replace(problem, scheme=loose.scheme)
    with pytest.raises(SolverError, match="gap on years"):
        buddymatch.solve(damaged)


def test_a_misread_capacity_is_caught() -> None:
    profiles = pd.DataFrame(
        {
            "id": ["m1", "e1", "e2", "e3"],
            "role": ["Mentor", "Mentee", "Mentee", "Mentee"],
            "cap": ["1", "", "", ""],
        }
    )
    scheme = {
        "version": 1,
        "scheme": "mentoring",
        "participants": {
            "id": "id",
            "role": {"column": "role"},
            "capacity": {"column": "cap", "default": 1},
        },
    }
    problem = buddymatch.load_problem(profiles, scheme)
    damaged = replace(problem, capacity=np.where(problem.capacity > 0, 3, 0))
    with pytest.raises(SolverError, match="capacity as written is 1"):
        buddymatch.solve(damaged)


def test_a_lost_keep_apart_set_is_caught() -> None:
    profiles = pd.DataFrame({"id": [f"p{i}" for i in range(6)], "org": list("AABBCC")})
    scheme = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {"id": "id", "attributes": {"org": {"column": "org"}}},
        "groups": {"count": 2},
        "rules": [{"keep_apart": {"sets": [["p0", "p1"], ["p2", "p3"], ["p4", "p5"]]}}],
        "criteria": [{"similarity": {"attribute": "org", "weight": 1}}],
        "solver": {"iterations": 2, "seed": 1},
    }
    problem = buddymatch.load_problem(profiles, scheme)
    assert buddymatch.solve(problem).summary["matched"] == 6
    damaged = replace(problem, apart=())  # similarity now puts each org together
    with pytest.raises(SolverError, match="keep_apart"):
        buddymatch.solve(damaged)


def test_a_scheme_object_has_nothing_as_written_to_recheck() -> None:
    profiles = pd.DataFrame({"id": ["a", "b"], "org": ["A", "B"]})
    scheme = buddymatch.load_problem(
        profiles,
        {"version": 1, "scheme": "peer", "participants": {"id": "id"}},
    ).scheme
    assert buddymatch.load_problem(profiles, scheme).raw is None
