"""The cohorts pipeline: composition rules hold, sizes in bounds, rounds avoid repeats."""

from __future__ import annotations

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
