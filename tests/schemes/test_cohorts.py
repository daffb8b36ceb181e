"""The cohorts pipeline: composition rules hold, sizes in bounds, rounds avoid repeats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import buddymatch


def _scheme(**extra):  # type: ignore[no-untyped-def]
    data = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {
            "id": "id",
            "attributes": {
                "prof": {"column": "prof"},
                "org": {"column": "org"},
                "band": {"column": "band", "scale": ["5", "6", "7", "8"]},
            },
        },
        "groups": {"size": {"min": 3, "max": 4}},
        "rules": [
            {"at_least": {"attribute": "prof", "value": "GP", "count": 1}},
            {"at_most": {"attribute": "org", "count": 1}},
        ],
        "criteria": [
            {"diversity": {"attributes": ["prof", "org"], "weight": 2}},
            {"balance": {"attribute": "band", "weight": 1}},
        ],
        "solver": {"iterations": 3, "seed": 1},
    }
    data.update(extra)
    return data


def _pool(n: int) -> pd.DataFrame:
    profs = ["GP", "Nurse", "Pharmacist", "Social worker"]
    return pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(n)],
            "prof": [profs[i % 4] for i in range(n)],
            "org": [f"O{i % 5}" for i in range(n)],
            "band": [str(5 + i % 4) for i in range(n)],
        }
    )


def test_rules_hold_and_sizes_in_bounds() -> None:
    result = buddymatch.match(_pool(16), _scheme())
    g = result.groups
    sizes = g.groupby("group").size()
    assert sizes.between(3, 4).all() and sizes.sum() == 16
    for _, members in g.groupby("group"):
        assert (members["prof"] == "GP").sum() >= 1
        assert members["org"].value_counts().max() <= 1
    summary = result.tables["group_summary"]
    assert (summary["prof=GP"] >= 1).all() and (summary["rules_met"] == "all").all()


def test_infeasible_rules_are_explained_before_search() -> None:
    df = _pool(16)
    df["prof"] = ["GP"] * 2 + ["Nurse"] * 14
    with pytest.raises(buddymatch.InfeasibleError) as err:
        buddymatch.match(df, _scheme())
    assert "GP" in str(err.value) and "2" in str(err.value)
    assert err.value.exit_code == 1


def test_same_seed_and_iterations_give_identical_groups() -> None:
    a = buddymatch.match(_pool(20), _scheme())
    b = buddymatch.match(_pool(20), _scheme())
    pd.testing.assert_frame_equal(a.groups, b.groups)


def test_rounds_report_repeats() -> None:
    result = buddymatch.match(_pool(16), _scheme(), rounds=2)
    assert sorted(result.groups["round"].unique().tolist()) == [1, 2]
    assert result.summary["rounds"][0]["repeats"] == 0


def test_more_groups_are_formed_when_the_fewest_cannot_meet_the_rules() -> None:
    df = _pool(18)  # groups of 3-4: 5 fit everyone, but there are 6 facilitators
    df["fac"] = ["Yes"] * 6 + ["No"] * 12
    scheme = _scheme(groups={"size": {"min": 3, "max": 4}})
    scheme["participants"]["attributes"]["fac"] = {"column": "fac"}
    scheme["rules"] = [{"exactly": {"attribute": "fac", "value": "Yes", "count": 1}}]
    result = buddymatch.match(df, scheme)
    assert result.groups["group"].nunique() == 6
    assert (result.tables["group_summary"]["fac=Yes"] == 1).all()


MDGPLIB = Path(__file__).resolve().parents[1] / "data" / "mdgplib"


@pytest.mark.parametrize("name", ["RanInt_n012_ds_01", "Geo_n012_ss_02"])
def test_an_mdgplib_instance_through_the_whole_pipeline(tmp_path: Path, name: str) -> None:
    """Custom pairwise matrix + per-group bounds: the exact optimum of the instance."""
    from benchmarks.mdgplib import load_instance, reference_values

    inst = load_instance(MDGPLIB / f"{name}.txt.gz")
    n = inst.benefit.shape[0]
    pd.DataFrame({"id": [f"e{i}" for i in range(n)]}).to_csv(tmp_path / "p.csv", index=False)
    rows = [(f"e{i}", f"e{j}", inst.benefit[i, j]) for i in range(n) for j in range(i + 1, n)]
    pd.DataFrame(rows, columns=["a", "b", "d"]).to_csv(tmp_path / "d.csv", index=False)
    scheme = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {"id": "id"},
        "groups": {
            "bounds": [
                {"min": int(lo), "max": int(hi)}
                for lo, hi in zip(inst.lower, inst.upper, strict=True)
            ]
        },
        "criteria": [{"pairwise": {"file": str(tmp_path / "d.csv")}}],
    }
    result = buddymatch.match(tmp_path / "p.csv", scheme)
    value = result.summary["objective_value"] * inst.benefit.max() / 100
    assert value == pytest.approx(reference_values(MDGPLIB)[name][0], rel=1e-5)  # float32 scores
    assert result.summary["status"] == "optimal"


def _history_of(groups: pd.DataFrame, path: Path) -> Path:
    groups[["round", "group", "participant_id"]].to_csv(path, index=False)
    return path


def _met(groups: pd.DataFrame) -> set[frozenset[str]]:
    return {
        frozenset((a, b))
        for _, g in groups.groupby(["round", "group"])
        for a in g["participant_id"]
        for b in g["participant_id"]
        if a < b
    }


def test_history_cooldown_is_a_hard_rule_read_from_groups_csv(tmp_path: Path) -> None:
    """Pairs who shared a group within the cooldown never share one again (solver and
    checker); a previous run's groups.csv is a history file as it stands."""
    first = buddymatch.match(_pool(16), _scheme()).groups
    history = _history_of(first, tmp_path / "groups.csv")
    again = buddymatch.match(_pool(16), _scheme(history={"file": str(history), "cooldown": 1}))
    assert not _met(first) & _met(again.groups)
    assert again.groups["round"].unique().tolist() == [2]  # numbered on from the history


def test_the_checker_refuses_a_grouping_that_repeats_a_pair_within_the_cooldown(
    tmp_path: Path,
) -> None:
    from buddymatch.check import check_groups
    from buddymatch.errors import SolverError

    first = buddymatch.match(_pool(16), _scheme()).groups
    history = _history_of(first, tmp_path / "groups.csv")
    problem = buddymatch.load_problem(
        _pool(16), _scheme(history={"file": str(history), "cooldown": 1})
    )
    index = {f"c{i}": i for i in range(16)}
    assignment = np.full(16, -1)
    for _, row in first.iterrows():  # last time's groups again
        assignment[index[row["participant_id"]]] = row["group"] - 1
    with pytest.raises(SolverError, match="cooldown"):
        check_groups(problem, [assignment], np.full(5, 3), np.full(5, 4), [])


def test_a_cooldown_nobody_can_keep_is_explained(tmp_path: Path) -> None:
    everyone = [f"c{i}" for i in range(6)]
    history = tmp_path / "history.csv"
    pd.DataFrame(
        [(1, a, b) for a in everyone for b in everyone if a < b],
        columns=["round", "member_a", "member_b"],
    ).to_csv(history, index=False)
    scheme = _scheme(history={"file": str(history), "cooldown": 1}, rules=[])
    with pytest.raises(buddymatch.InfeasibleError) as err:
        buddymatch.match(_pool(6), scheme)
    assert err.value.exit_code == 1
    assert "15 pairs who met within the last 1 round" in str(err.value)
    assert "cooldown" in str(err.value)


def _skills_scheme(rules: list[dict]) -> dict:  # type: ignore[type-arg]
    scheme = _scheme(rules=rules)
    scheme["participants"]["attributes"]["skills"] = {"column": "skills", "multi": ";"}
    return scheme


def test_count_rules_on_a_multi_valued_attribute_count_members_holding_the_value() -> None:
    df = _pool(16)
    skills = ["GP;Nurse", "Nurse", "Pharmacist;GP", "Social worker"]
    df["skills"] = [skills[i % 4] for i in range(16)]
    rules = [
        {"at_least": {"attribute": "skills", "value": "GP", "count": 2}},
        {"not_alone": {"attribute": "skills", "value": "nurse"}},
    ]
    groups = buddymatch.match(df, _skills_scheme(rules)).groups
    for _, members in groups.groupby("group"):
        held = [set(s.split("; ")) for s in members["skills"]]
        assert sum("GP" in h for h in held) >= 2
        assert sum("Nurse" in h for h in held) != 1


def test_a_count_rule_on_a_multi_valued_attribute_without_a_value_is_refused_up_front() -> None:
    with pytest.raises(buddymatch.ConfigError) as err:
        buddymatch.load_problem(
            _pool(8).assign(skills="GP"),
            _skills_scheme([{"at_most": {"attribute": "skills", "count": 2}}]),
        )
    assert 'key "rules[0].at_most.value": "skills" is multi-valued' in str(err.value)
    assert err.value.exit_code == 2
