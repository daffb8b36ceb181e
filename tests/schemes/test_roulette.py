"""Peer schemes with group_size: groups of 3–4 through the cohort machinery."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

import buddymatch
from buddymatch.api import load_problem, solve
from tests.strategies import scheme_dict


def _problem(n: int, group_size: int, **kw):  # type: ignore[no-untyped-def]
    df = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "role": [""] * n,
            "cap": ["1"] * n,
            "org": [f"O{i % 6}" for i in range(n)],
            "band": ["B6"] * n,
            "region": ["North", "South"] * (n // 2) + ["North"] * (n % 2),
            "needs": ["QI"] * n,
            "offers": [""] * n,
        }
    )
    problem = load_problem(df, scheme_dict("peer", gap=None, **kw))
    return replace(problem, scheme=problem.scheme.model_copy(update={"group_size": group_size}))


def test_groups_of_three_or_four_without_two_from_one_organisation() -> None:
    result = solve(_problem(14, 3, rules=[{"different": "org"}]))
    sizes = result.groups.groupby("group").size()
    assert sorted(sizes.tolist()) == [3, 3, 4, 4]
    for _, members in result.groups.groupby("group"):
        assert members["org"].is_unique
    assert result.summary["scheme"] == "peer"


def test_rules_without_a_group_meaning_are_refused() -> None:
    problem = _problem(9, 3, rules=[{"gap": {"attribute": "band", "max": 1}}])
    with pytest.raises(buddymatch.ConfigError) as err:
        solve(problem)
    assert str(err.value).startswith('key "rules[0].gap": not available with group_size')


def test_rounds_avoid_sharing_a_group_twice() -> None:
    result = solve(_problem(12, 3, rules=[], rounds=2))
    assert [r["repeats"] for r in result.summary["rounds"]] == [0, 0]


def test_explain_reads_groups_from_a_results_folder(tmp_path: Path) -> None:
    import yaml

    from buddymatch import explain_result

    pool = pd.DataFrame({"id": [f"r{i}" for i in range(9)], "org": [f"O{i}" for i in range(9)]})
    pool.to_csv(tmp_path / "p.csv", index=False)
    scheme = {
        "version": 1,
        "scheme": "peer",
        "group_size": 3,
        "participants": {"id": "id", "attributes": {"org": {"column": "org"}}},
        "rules": [{"different": "org"}],
    }
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scheme))
    result = buddymatch.match(tmp_path / "p.csv", tmp_path / "s.yaml")
    result.summary["inputs"] = {
        "profiles": [str(tmp_path / "p.csv")],
        "scheme": str(tmp_path / "s.yaml"),
    }
    result.write(tmp_path / "out")
    text = explain_result(tmp_path / "out", "r0", "r1")
    assert text.splitlines()[0].startswith("Members r0 and r1: pair score")
    assert text.splitlines()[1].startswith("Round 1: ")
