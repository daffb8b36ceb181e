"""The cohorts pipeline: composition rules hold, sizes in bounds, rounds avoid repeats."""

from __future__ import annotations

from pathlib import Path

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
