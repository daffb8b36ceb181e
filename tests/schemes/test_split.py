"""split_by: one run, pairs and groups within each part, each part at its own optimum.

References are independent of the wrapper: a brute force over every grouping of the
whole pool whose groups stay within parts (cohorts), networkx maximum-weight matching
per part (peer), and the same pool with a ``same`` rule instead (mentoring max-score,
whose optimum decomposes by part).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import buddymatch
from buddymatch.errors import InfeasibleError, InputError


def set_partitions(items: list[int]) -> Iterator[list[list[int]]]:
    """Every partition of ``items`` into non-empty blocks."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in set_partitions(rest):
        for k in range(len(partition)):
            yield [*partition[:k], [first, *partition[k]], *partition[k + 1 :]]
        yield [[first], *partition]


def _pool(tmp_path: Path, seed: int, n: int) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """n people in two or three regions, a random pairwise value file, a cohorts scheme."""
    rng = np.random.default_rng(seed)
    region = rng.choice(["North", "South", "East"], n, p=[0.45, 0.45, 0.1])
    prof = rng.choice(["GP", "Nurse", "Patient rep"], n)
    ids = [f"c{i}" for i in range(n)]
    values = rng.integers(1, 20, (n, n))
    values = np.triu(values, 1) + np.triu(values, 1).T
    rows = [(ids[i], ids[j], values[i, j]) for i in range(n) for j in range(i + 1, n)]
    pd.DataFrame(rows, columns=["a", "b", "v"]).to_csv(tmp_path / "v.csv", index=False)
    df = pd.DataFrame({"id": ids, "region": region, "prof": prof})
    scheme = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {
            "id": "id",
            "attributes": {"region": {"column": "region"}, "prof": {"column": "prof"}},
        },
        "groups": {"size": {"min": 2, "max": 3}},
        "criteria": [{"pairwise": {"file": str(tmp_path / "v.csv")}}],
        "split_by": "region",
    }
    return df, values / values.max() * 100, scheme


def _best_grouping(
    df: pd.DataFrame, score: np.ndarray, lo: int, hi: int, lone: str | None
) -> float | None:
    """Best sum of in-group pair scores over all partitions of the whole pool whose groups
    lie within one region, hold lo..hi people, number ceil(part / hi) per region, and
    (``lone``) never hold exactly one person of that profession."""
    region, prof = df["region"].to_numpy(), df["prof"].to_numpy()
    fewest = {r: -(-int((region == r).sum()) // hi) for r in set(region)}
    best = None
    for partition in set_partitions(list(range(len(df)))):
        if any(len(set(region[g])) > 1 or not lo <= len(g) <= hi for g in partition):
            continue
        per_region = {r: sum(region[g[0]] == r for g in partition) for r in fewest}
        if per_region != fewest:
            continue
        if lone is not None and any((prof[g] == lone).sum() == 1 for g in partition):
            continue
        value = sum(score[i, j] for g in partition for i, j in itertools.combinations(g, 2))
        best = value if best is None else max(best, value)
    return best


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(6, 9), st.booleans())
def test_split_cohorts_equal_the_best_grouping_within_parts(
    tmp_path_factory: pytest.TempPathFactory, seed: int, n: int, nobody_alone: bool
) -> None:
    tmp_path = tmp_path_factory.mktemp("split")
    df, score, scheme = _pool(tmp_path, seed, n)
    lone = "Patient rep" if nobody_alone else None
    if lone:
        scheme["rules"] = [{"not_alone": {"attribute": "prof", "value": lone}}]
    expected = _best_grouping(df, score, 2, 3, lone)
    if expected is None:
        with pytest.raises(InfeasibleError):
            buddymatch.match(df, scheme)
        return
    result = buddymatch.match(df, scheme)
    assert result.summary["objective_value"] == pytest.approx(expected, rel=1e-5)
    assert result.summary["status"] == "optimal"  # every part is small enough to be exact
    groups = result.groups
    assert (groups.groupby("group")["part"].nunique() == 1).all()
    assert sorted(groups["participant_id"]) == sorted(df["id"])
    assert [p["part"] for p in result.summary["parts"]] == sorted(set(df["region"]))


def _peer(df: pd.DataFrame, **extra: object) -> dict:
    return {
        "version": 1,
        "scheme": "peer",
        "participants": {
            "id": "id",
            "attributes": {
                "region": {"column": "region"},
                "topics": {"column": "topics", "multi": ";"},
            },
        },
        "criteria": [{"overlap": {"attribute": "topics", "weight": 1}}],
        **extra,
    }


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_split_peer_pairs_equal_a_maximum_weight_matching_per_part(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 16
    topics = ["QI", "Finance", "Digital", "Leadership", "Research"]
    df = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "region": ["North"] * 8 + ["South"] * 6 + ["West"] * 2,  # even parts: no trios
            "topics": ["; ".join(rng.choice(topics, 2, replace=False)) for _ in range(n)],
        }
    )
    scheme = _peer(df, objective="max-score", split_by="region", leftover="exclude")
    result = buddymatch.match(df, scheme)  # pairs only: a maximum-weight matching per part
    problem = buddymatch.load_problem(df, _peer(df))
    expected = 0.0
    for part in ("North", "South", "West"):
        members = np.flatnonzero(df["region"].to_numpy() == part)
        graph = nx.Graph()
        for i, j in itertools.combinations(members.tolist(), 2):
            pair = buddymatch.model.Pairs(np.array([i]), np.array([j]))
            graph.add_edge(i, j, weight=float(buddymatch.scoring.pair_scores(problem, pair)[0]))
        matching = nx.max_weight_matching(graph)
        expected += sum(graph[i][j]["weight"] for i, j in matching)
    assert result.summary["objective_value"] == pytest.approx(expected, abs=0.01 * n)
    matches = result.tables["matches"]
    regions = dict(zip(df["id"], df["region"], strict=True))
    pairs = zip(matches["member_a"], matches["member_b"], matches["part"], strict=True)
    assert all(regions[a] == regions[b] == part for a, b, part in pairs)


def test_an_odd_part_gets_its_own_trio_and_nobody_is_left_out() -> None:
    df = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(10)],
            "region": ["North"] * 5 + ["South"] * 5,
            "topics": ["QI"] * 10,
        }
    )
    result = buddymatch.match(df, _peer(df, split_by="region"))
    matches = result.tables["matches"]
    assert result.summary["matched"] == 10
    assert (matches["member_c"] != "").sum() == 2  # one trio in each odd part


def _mentoring(**extra: object) -> dict:
    return {
        "version": 1,
        "scheme": "mentoring",
        "participants": {
            "id": "Email",
            "role": {"column": "I want to be a", "both": ["Either"]},
            "capacity": {"column": "How many mentees can you take?", "default": 1},
            "attributes": {
                "region": {"column": "Region"},
                "needs": {"column": "Areas you'd like support with", "multi": ";"},
                "offers": {"column": "Areas you can offer", "multi": ";"},
            },
        },
        "criteria": [{"overlap": {"mentee": "needs", "mentor": "offers"}}],
        "objective": "max-score",
        **extra,
    }


def test_split_mentoring_scores_what_a_same_rule_scores_and_never_crosses(
    workdir: Path,
) -> None:
    profiles = "sample_data/profiles.csv"
    split = buddymatch.match(profiles, _mentoring(split_by="region"))
    same = buddymatch.match(profiles, _mentoring(rules=[{"same": "region"}]))
    assert split.summary["objective_value"] == pytest.approx(same.summary["objective_value"])
    matches = split.tables["matches"]
    people = pd.read_csv(profiles).set_index("Email")["Region"]
    assert (people[matches["mentor_id"]].to_numpy() == matches["part"].to_numpy()).all()
    assert (people[matches["mentee_id"]].to_numpy() == matches["part"].to_numpy()).all()
    assert {p["part"] for p in split.summary["parts"]} == set(people)
    assert split.summary["split_by"] == "region"


def test_people_without_a_value_are_unmatched_with_the_reason() -> None:
    df = pd.DataFrame(
        {"id": [f"p{i}" for i in range(5)], "region": ["N", "N", "", "S", "S"], "topics": "QI"}
    )
    result = buddymatch.match(df, _peer(df, split_by="region"))
    unmatched = result.tables["unmatched"]
    row = unmatched[unmatched["participant_id"] == "p2"].iloc[0]
    assert row["reason"] == "no region given: split_by forms pairs and groups within each region"
    assert list(unmatched.columns) == ["round", "part", "participant_id", "role", "reason"]


def test_cross_part_explanations_say_so() -> None:
    df = pd.DataFrame({"id": ["a", "b", "c", "d"], "region": ["N", "N", "S", "S"], "topics": "QI"})
    result = buddymatch.match(df, _peer(df, split_by="region"))
    assert "Different parts (region N / S)" in result.explain("a", "c")
    assert "Together in round 1" in result.explain("a", "b")


def test_a_part_that_cannot_meet_the_rules_is_named() -> None:
    df = pd.DataFrame({"id": [f"c{i}" for i in range(7)], "region": ["N"] * 5 + ["S"] * 2})
    scheme = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {"id": "id", "attributes": {"region": {"column": "region"}}},
        "groups": {"size": {"min": 3, "max": 4}},
        "split_by": "region",
    }
    with pytest.raises(InfeasibleError) as err:
        buddymatch.match(df, scheme)
    assert err.value.lines == [
        "region N: groups: 5 people cannot form groups of 3–4",
        "region S: groups: 2 people cannot form groups of 3–4",
    ]


def test_a_lock_across_parts_is_an_input_error() -> None:
    df = pd.DataFrame({"id": ["a", "b", "c", "d"], "region": ["N", "N", "S", "S"], "topics": "QI"})
    scheme = _peer(df, split_by="region", rules=[{"lock": {"pairs": [["a", "c"]]}}])
    with pytest.raises(InputError, match="crosses split_by region"):
        buddymatch.match(df, scheme)


def test_re_matching_split_cohorts_is_refused_with_the_way_out(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": [f"c{i}" for i in range(8)], "region": ["N"] * 4 + ["S"] * 4})
    scheme = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {"id": "id", "attributes": {"region": {"column": "region"}}},
        "groups": {"size": {"min": 2, "max": 4}},
        "split_by": "region",
    }
    profiles = tmp_path / "p.csv"
    df.to_csv(profiles, index=False)
    buddymatch.match(profiles, scheme).write(tmp_path / "out")
    with pytest.raises(buddymatch.ConfigError, match="with split_by is not supported yet"):
        buddymatch.rematch(tmp_path / "out", profiles, scheme)
