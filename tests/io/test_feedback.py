"""feedback: {file: ...}: reading, every problem at once, and what each outcome does."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import buddymatch
from buddymatch.candidates import weight_matrix
from buddymatch.check import check_groups
from buddymatch.errors import InputError, SolverError
from buddymatch.weights import NOT_ALLOWED, WEIGHT_SCALE

from ..conftest import PROFILES_CSV, SCHEME_YAML
from ..strategies import scheme_dict

BASE: dict[str, Any] = yaml.safe_load(SCHEME_YAML)


def _write(tmp_path: Path, feedback: str, **spec: Any) -> tuple[Path, dict[str, Any]]:
    (tmp_path / "profiles.csv").write_text(PROFILES_CSV, encoding="utf-8")
    (tmp_path / "feedback.csv").write_text(feedback, encoding="utf-8")
    data = copy.deepcopy(BASE)
    data["feedback"] = {"file": str(tmp_path / "feedback.csv"), **spec}
    return tmp_path / "profiles.csv", data


def test_outcomes_ratings_and_points(tmp_path: Path) -> None:
    profiles, scheme = _write(
        tmp_path,
        "round,mentor_id,mentee_id,outcome,rating\n"
        "1,m1@example.test,e1@example.test,Continuing,5\n"
        "1,m2@example.test,e2@example.test,did not work,\n"
        "1,m1@example.test,e3@example.test,ended,2\n"
        "1,gone@example.test,e3@example.test,ended,\n"  # someone who left: skipped
        "1,b1@example.test,e2@example.test,,\n",  # blank outcome: no feedback yet
        continuing_bonus=4,
        rating_points=3,
    )
    p = buddymatch.load_problem(profiles, scheme)
    assert p.feedback.outcome == ("continuing", "did-not-work", "ended")
    assert p.feedback.pairs.tolist() == [[0, 2], [1, 3], [0, 4]]
    assert np.isnan(p.feedback.rating[1])
    assert p.feedback.points.tolist() == [4 + 3 * 2, 0.0, 3 * -1]
    assert [1, 3] in p.forbidden.tolist()  # did-not-work -> forbidden
    assert [0, 4] in p.history.pairs.tolist()  # ended -> history, 1 round ago
    assert p.history.rounds_ago.tolist() == [1]
    assert p.feedback.outcome_of(2, 0) == "continuing"


def test_every_problem_at_once_without_cell_values(tmp_path: Path) -> None:
    profiles, scheme = _write(
        tmp_path,
        "mentor_id,mentee_id,outcome,rating\n"
        "m1@example.test,e1@example.test,great,\n"
        ",e2@example.test,ended,\n"
        "m1@example.test,e3@example.test,ended,7\n"
        "m1@example.test,m1@example.test,ended,\n"
        "e1@example.test,m1@example.test,ended,\n",
    )
    with pytest.raises(InputError) as info:
        buddymatch.load_problem(profiles, scheme)
    lines = info.value.lines
    assert any("row 2" in x and '"outcome"' in x and "continuing" in x for x in lines)
    assert any("row 3" in x and '"mentor_id"' in x and "blank" in x for x in lines)
    assert any("row 4" in x and '"rating"' in x and "1 to 5" in x for x in lines)
    assert any("row 5" in x and "themselves" in x for x in lines)
    assert len(lines) == 4  # row 6 is the pair of row 2, whose outcome was invalid
    text = "\n".join(lines)
    assert "great" not in text and "example.test" not in text


def test_duplicate_pair_and_missing_columns(tmp_path: Path) -> None:
    profiles, scheme = _write(
        tmp_path,
        "mentor_id,mentee_id,outcome\n"
        "m1@example.test,e1@example.test,ended\n"
        "e1@example.test,m1@example.test,continuing\n",
    )
    with pytest.raises(InputError, match="same pair is also on row 2"):
        buddymatch.load_problem(profiles, scheme)
    profiles, scheme = _write(tmp_path, "a,b,result\nm1@example.test,e1@example.test,ended\n")
    with pytest.raises(InputError, match=r"needs the id columns of matches\.csv and an outcome"):
        buddymatch.load_problem(profiles, scheme)


def test_cli_reports_feedback_errors_with_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from buddymatch.cli import cli

    profiles, scheme = _write(
        tmp_path, "mentor_id,mentee_id,outcome\nm1@example.test,e1@example.test,maybe\n"
    )
    path = tmp_path / "scheme.yaml"
    path.write_text(yaml.safe_dump(scheme), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(profiles), "-c", str(path)])
    assert result.exit_code == 2
    assert "feedback.csv row 2" in result.output and "Traceback" not in result.output


def _frame(n: int = 8) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "org": [f"O{i}" for i in range(n)],
            "band": ["B6"] * n,
            "region": ["North"] * n,
            "needs": ["QI"] * n,
            "offers": [""] * n,
        }
    )


def test_did_not_work_is_never_made_and_ended_waits_a_round(tmp_path: Path) -> None:
    (tmp_path / "fb.csv").write_text(
        "member_a,member_b,outcome\np0,p1,did-not-work\np2,p3,ended\n", encoding="utf-8"
    )
    scheme = scheme_dict("peer", gap=None, feedback={"file": str(tmp_path / "fb.csv")})
    problem = buddymatch.load_problem(_frame(), scheme)
    pool = problem.pool()
    w = weight_matrix(problem, pool, pool)
    assert w[0, 1] == NOT_ALLOWED and w[2, 3] == NOT_ALLOWED  # no history key: cooldown 1
    result = buddymatch.match(_frame(), scheme)
    made = {frozenset(r) for r in result.matches[["member_a", "member_b"]].to_numpy().tolist()}
    assert frozenset(("p0", "p1")) not in made and frozenset(("p2", "p3")) not in made


def test_points_change_weights_not_scores(tmp_path: Path) -> None:
    (tmp_path / "fb.csv").write_text(
        "member_a,member_b,outcome,rating\np0,p1,continuing,5\np2,p3,continuing,1\n",
        encoding="utf-8",
    )
    spec = {"file": str(tmp_path / "fb.csv"), "continuing_bonus": 10, "rating_points": 5}
    plain = buddymatch.load_problem(_frame(), scheme_dict("peer", gap=None))
    fed = buddymatch.load_problem(_frame(), scheme_dict("peer", gap=None, feedback=spec))
    pool = plain.pool()
    w0, w1 = weight_matrix(plain, pool, pool), weight_matrix(fed, pool, pool)
    assert w1[0, 1] == w1[1, 0] == min(w0[0, 1] + 20 * WEIGHT_SCALE, 100 * WEIGHT_SCALE)
    assert w1[2, 3] == max(w0[2, 3] + 0 * WEIGHT_SCALE, 0)  # +10 bonus, -10 for one star
    mask = np.ones_like(w0, dtype=bool)
    mask[[0, 1, 2, 3], [1, 0, 3, 2]] = False
    assert (w0[mask] == w1[mask]).all()


def test_cohorts_keep_did_not_work_apart_and_the_checker_catches_it(tmp_path: Path) -> None:
    (tmp_path / "fb.csv").write_text(
        "member_a,member_b,outcome\np0,p1,did-not-work\n", encoding="utf-8"
    )
    scheme = scheme_dict(
        "cohorts",
        gap=None,
        rules=[],
        groups={"count": 2},
        feedback={"file": str(tmp_path / "fb.csv")},
        solver={"iterations": 3},
    )
    result = buddymatch.match(_frame(), scheme)
    g = dict(zip(result.groups["participant_id"], result.groups["group"], strict=True))
    assert g["p0"] != g["p1"]
    problem = result.problem
    together = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    with pytest.raises(SolverError, match="forbidden pair"):
        check_groups(problem, [together], np.array([4, 4]), np.array([4, 4]), [])
