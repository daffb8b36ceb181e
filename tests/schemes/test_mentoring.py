"""The mentoring pipeline end to end: optimality, rules, reasons, determinism."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import buddymatch
from buddymatch.candidates import weight_matrix
from buddymatch.model import BOTH, MENTEE, MENTOR
from buddymatch.solvers import NOT_ALLOWED
from tests.strategies import profiles, scheme_dict


def brute_force(problem, objective: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(pairs, total weight) of the best one-mentor-per-mentee assignment, by enumeration."""
    mentees, mentors = problem.mentees(), problem.mentors()
    w = weight_matrix(problem, mentees, mentors)
    cap = problem.capacity[mentors]
    best = (-1, -1)
    options = [[-1, *np.flatnonzero(w[i] != NOT_ALLOWED).tolist()] for i in range(len(mentees))]
    for choice in itertools.product(*options):
        load = np.zeros(len(mentors), dtype=int)
        ok = True
        for j in choice:
            if j >= 0:
                load[j] += 1
                ok &= load[j] <= cap[j]
        if not ok:
            continue
        pairs = sum(1 for j in choice if j >= 0)
        total = sum(int(w[i, j]) for i, j in enumerate(choice) if j >= 0)
        key = (pairs, total) if objective == "max-matched" else (total, -pairs)
        if key > (best if objective == "max-matched" else (best[1], -best[0])):
            best = (pairs, total)
    return best


def _weights_of(result) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    problem = result.problem
    mentees, mentors = problem.mentees(), problem.mentors()
    w = weight_matrix(problem, mentees, mentors)
    pos_e = {int(x): k for k, x in enumerate(mentees)}
    pos_o = {int(x): k for k, x in enumerate(mentors)}
    ids = {v: i for i, v in enumerate(problem.ids)}
    total = 0
    for m, e in zip(result.matches["mentor_id"], result.matches["mentee_id"], strict=True):
        total += int(w[pos_e[ids[e]], pos_o[ids[m]]])
    return len(result.matches), total


@settings(max_examples=60, deadline=None)
@given(profiles(min_size=2, max_size=7))
def test_max_matched_equals_brute_force(df: pd.DataFrame) -> None:
    scheme = scheme_dict("mentoring")
    result = buddymatch.match(df, scheme)
    problem = result.problem
    if (problem.role == BOTH).any():
        return  # brute force above assumes distinct sides; both-people are covered below
    assert _weights_of(result) == brute_force(problem, "max-matched")
    assert result.summary["status"] == "optimal"


@settings(max_examples=40, deadline=None)
@given(profiles(min_size=2, max_size=7))
def test_max_score_equals_brute_force(df: pd.DataFrame) -> None:
    result = buddymatch.match(df, scheme_dict("mentoring", objective="max-score"))
    if (result.problem.role == BOTH).any():
        return
    assert _weights_of(result)[1] == brute_force(result.problem, "max-score")[1]


@settings(max_examples=60, deadline=None)
@given(profiles(min_size=2, max_size=8))
def test_rules_and_capacities_always_hold(df: pd.DataFrame) -> None:
    for objective in ("max-matched", "max-score", "fair"):
        result = buddymatch.match(df, scheme_dict("mentoring", objective=objective))
        m = result.matches
        by_id = df.set_index("id")
        for mentor, mentee in zip(m["mentor_id"], m["mentee_id"], strict=True):
            assert mentor != mentee
            a, b = by_id.loc[mentor], by_id.loc[mentee]
            assert a["role"] in ("Mentor", "Either") and b["role"] in ("Mentee", "Either")
            assert not (a["org"] and a["org"] == b["org"])
            gap = ["B5", "B6", "B7", "B8"].index(a["band"]) - ["B5", "B6", "B7", "B8"].index(
                b["band"]
            )
            assert 1 <= gap <= 2
        counts = m["mentor_id"].value_counts()
        for mentor, c in counts.items():
            assert c <= int(by_id.loc[mentor, "cap"])
        assert not m.duplicated(["mentor_id", "mentee_id"]).any()
        assert not m["mentee_id"].duplicated().any()


@settings(max_examples=25, deadline=None)
@given(
    profiles(min_size=3, max_size=8), st_seed := __import__("hypothesis").strategies.integers(0, 99)
)
def test_shuffling_rows_keeps_the_objective(df: pd.DataFrame, st_seed: int) -> None:
    scheme = scheme_dict("mentoring")
    a = buddymatch.match(df, scheme)
    b = buddymatch.match(df.sample(frac=1, random_state=st_seed), scheme)
    assert a.summary["objective_value"] == b.summary["objective_value"]
    # Equally good matchings (the same integer weights, score x 1000) may differ in the
    # displayed scores, which are rounded to 2 decimals per pair: up to 0.01 a pair.
    units = a.summary["units"]
    assert a.summary["total_score"] == pytest.approx(b.summary["total_score"], abs=0.01 * units)


def _df(**cols: list[str]) -> pd.DataFrame:
    n = len(cols["id"])
    base = {
        "role": ["Mentor"] * n,
        "cap": ["1"] * n,
        "org": [""] * n,
        "band": ["B6"] * n,
        "region": ["North"] * n,
        "needs": [""] * n,
        "offers": [""] * n,
    }
    base.update(cols)
    return pd.DataFrame(base)


def _reasons(df: pd.DataFrame, **kw) -> dict[str, str]:  # type: ignore[no-untyped-def]
    result = buddymatch.match(df, scheme_dict("mentoring", **kw))
    return dict(zip(result.unmatched["participant_id"], result.unmatched["reason"], strict=True))


def test_reason_no_eligible_mentor_names_each_rule() -> None:
    df = _df(
        id=["e", "m1", "m2", "m3"],
        role=["Mentee", "Mentor", "Mentor", "Mentor"],
        org=["A", "A", "B", "C"],
        band=["B6", "B7", "B6", "B5"],
    )
    assert _reasons(df)["e"] == (
        "no eligible mentor: of 3 mentors, different org removed 1, "
        "band gap (mentor minus mentee) 1–2 removed 2"
    )


def test_reason_all_mentors_full() -> None:
    df = _df(
        id=["e1", "e2", "m"],
        role=["Mentee", "Mentee", "Mentor"],
        band=["B5", "B5", "B6"],
        org=["A", "B", "C"],
        needs=["QI", "", ""],
        offers=["", "", "QI"],
    )
    assert _reasons(df)["e2"] == (
        "the only eligible mentor is at full capacity (objective max-matched: their places went "
        "where they matched more people or scored higher)"
    )


def test_reason_capacity_zero_and_no_mentees_and_below_minimum() -> None:
    df = _df(
        id=["e", "m0", "m1"],
        role=["Mentee", "Mentor", "Mentor"],
        cap=["1", "0", "1"],
        band=["B5", "B6", "B8"],
        org=["A", "B", "C"],
    )
    reasons = _reasons(df)
    assert reasons["m0"] == "capacity is 0: takes no mentees this time"
    assert reasons["m1"] == (
        "no eligible mentee: of 1 mentee, band gap (mentor minus mentee) 1–2 removed 1"
    )
    df2 = _df(
        id=["e", "m"],
        role=["Mentee", "Mentor"],
        band=["B5", "B6"],
        org=["A", "B"],
        region=["North", "South"],
    )
    assert _reasons(df2, min_score=50)["e"] == (
        "the only eligible mentor scores below the minimum score 50 (best 11.1)"
    )


def test_reason_excluded_and_wants_zero() -> None:
    df = _df(
        id=["e", "m", "x"],
        role=["Mentee", "Mentor", "Mentee"],
        band=["B5", "B6", "B5"],
        org=["A", "B", "C"],
        region=["North", "North", "Away"],
    )
    rules = [{"different": "org"}, {"exclude": {"attribute": "region", "values": ["away"]}}]
    assert _reasons(df, rules=rules)["x"] == "excluded by rule: region is Away"
    by_id = [{"different": "org"}, {"exclude": {"ids": ["m"]}}]
    reasons = _reasons(df, rules=by_id)
    assert reasons["m"] == "excluded by the coordinator (exclude: ids)"


def test_locked_pairs_are_kept_and_checked() -> None:
    df = _df(
        id=["e1", "e2", "m"],
        role=["Mentee", "Mentee", "Mentor"],
        band=["B5", "B5", "B6"],
        org=["A", "B", "C"],
        needs=["QI", "", ""],
        offers=["", "", "QI"],
    )
    rules = [{"different": "org"}, {"lock": {"pairs": [["m", "e2"]]}}]
    result = buddymatch.match(df, scheme_dict("mentoring", rules=rules))
    assert result.matches[["mentor_id", "mentee_id"]].values.tolist() == [["m", "e2"]]
    assert result.matches["locked"].tolist() == [True]
    bad = [{"different": "org"}, {"lock": {"pairs": [["m", "e1"]]}}]
    df.loc[0, "org"] = "C"
    with pytest.raises(buddymatch.InputError) as err:
        buddymatch.match(df, scheme_dict("mentoring", rules=bad))
    assert str(err.value) == (
        "locked pair (<DataFrame> row 4, <DataFrame> row 2) breaks rule different org "
        "— unlock it or relax the rule"
    )


def test_locks_beyond_a_capacity_name_the_row_and_the_fix() -> None:
    df = _df(
        id=["e1", "e2", "m"],
        role=["Mentee", "Mentee", "Mentor"],
        org=["A", "B", "C"],
    )
    rules = [{"lock": {"pairs": [["m", "e1"], ["m", "e2"]]}}]  # capacity 1
    with pytest.raises(buddymatch.InputError) as err:
        buddymatch.match(df, scheme_dict("mentoring", rules=rules))
    assert str(err.value) == (
        "<DataFrame> row 4 is in 2 locked pairs but has a capacity of 1 mentee(s) "
        "— unlock a pair or raise the number"
    )
    assert err.value.exit_code == 2


def test_both_people_never_paired_with_themselves() -> None:
    df = _df(
        id=["a", "b", "c"],
        role=["Either", "Either", "Either"],
        cap=["2", "2", "2"],
        band=["B5", "B6", "B7"],
        org=["A", "B", "C"],
    )
    result = buddymatch.match(df, scheme_dict("mentoring"))
    assert (result.matches["mentor_id"] != result.matches["mentee_id"]).all()
    assert len(result.matches) == 2  # a<-b and b<-c (or a<-c): each mentee once


def test_rounds_never_repeat_a_pair(tmp_path: Path) -> None:
    df = _df(
        id=["e1", "e2", "m1", "m2"],
        role=["Mentee", "Mentee", "Mentor", "Mentor"],
        band=["B5", "B5", "B6", "B6"],
        org=["A", "B", "C", "D"],
    )
    result = buddymatch.match(df, scheme_dict("mentoring"), rounds=2)
    m = result.matches
    assert sorted(m["round"].unique().tolist()) == [1, 2]
    assert not m.duplicated(["mentor_id", "mentee_id"]).any()
    assert len(m) == 4


def test_same_input_and_seed_give_identical_files(tmp_path: Path) -> None:
    df = buddymatch.sample_profiles("mentoring", 80, seed=5)
    scheme = buddymatch.sample_scheme("mentoring")
    for fmt in ("csv", "xlsx"):
        a = buddymatch.match(df, scheme, seed=3).write(tmp_path / f"a{fmt}", fmt=fmt)
        b = buddymatch.match(df, scheme, seed=3).write(tmp_path / f"b{fmt}", fmt=fmt)
        assert [p.name for p in a] == [p.name for p in b]
        for pa, pb in zip(a, b, strict=True):
            assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_explain_made_and_not_made() -> None:
    df = _df(
        id=["e1", "e2", "m"],
        role=["Mentee", "Mentee", "Mentor"],
        band=["B5", "B5", "B6"],
        org=["A", "B", "C"],
        needs=["QI", "", ""],
        offers=["", "", "QI"],
    )
    result = buddymatch.match(df, scheme_dict("mentoring"))
    made = result.explain("m", "e1")
    assert made.splitlines()[0] == "Mentor m, mentee e1"
    assert made.splitlines()[-1] == "Made in round 1."
    other = result.explain("e2", "m")
    assert other.splitlines()[-1] == (
        "Allowed but not made: the mentee got nobody, 1 wanted; the mentor got e1 (score 100.00), "
        "capacity 1, full — the objective max-matched preferred these pairs overall."
    )
    assert MENTOR != MENTEE


# --- priorities ----------------------------------------------------------------------------


def _sample_scheme(**changes):  # type: ignore[no-untyped-def]
    import yaml

    root = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((root / "constraints" / "mentoring.yaml").read_text(encoding="utf-8"))
    data["rules"] = [r for r in data["rules"] if "forbid" not in r]
    data.update(changes)
    return root / "sample_data" / "profiles.csv", data


def test_priorities_summary_and_a_second_run_favouring_the_unmatched(tmp_path: Path) -> None:
    levels = ["mentees-covered", "mentors-covered", "pairs", "score"]
    profiles, scheme = _sample_scheme(objective={"priorities": levels})
    first = buddymatch.match(profiles, scheme)
    summary = first.summary
    assert summary["objective"] == "priorities" and summary["status"] == "optimal"
    assert [p["name"] for p in summary["priorities"]] == levels
    assert all(p["value"] == p["bound"] for p in summary["priorities"])
    assert summary["objective_value"] == summary["priorities"][0]["value"]
    assert summary["rounds"][0]["priorities"] == summary["priorities"]
    mm = buddymatch.match(profiles, _sample_scheme(objective="max-matched")[1])
    assert summary["priorities"][2]["value"] <= mm.summary["objective_value"]
    first.write(tmp_path / "first")
    unmatched = pd.read_csv(tmp_path / "first" / "unmatched.csv")
    # favour last run's unmatched and, to have some who can be placed, a few it placed
    listed = [*unmatched["participant_id"], *first.matches["mentee_id"][:8]]
    pd.DataFrame({"participant_id": listed}).to_csv(tmp_path / "favour.csv", index=False)
    scheme["priority"] = {"file": str(tmp_path / "favour.csv"), "bonus": 0}
    scheme["objective"] = {"priorities": ["priority-covered", *levels]}
    second = buddymatch.match(profiles, scheme)
    mentees = set(second.matches["mentee_id"])
    mentors = set(second.matches["mentor_id"])
    covered = second.summary["priorities"][0]["value"]
    # a "both" person counts once per side
    assert covered == len(set(listed) & mentees) + len(set(listed) & mentors) >= 8
    assert second.summary["priorities"][0]["bound"] == covered


def test_a_bad_priority_file_exits_2_without_a_traceback(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from buddymatch.cli import cli

    (tmp_path / "prev.csv").write_text("round,who\n1,x\n", encoding="utf-8")
    profiles, scheme = _sample_scheme(priority={"file": str(tmp_path / "prev.csv"), "bonus": 5})
    import yaml

    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scheme), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["match", str(profiles), "-c", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "prev.csv" in result.output and "priority.column" in result.output
    assert "Traceback" not in result.output
