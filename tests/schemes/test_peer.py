"""The peer pipeline: exact pairing on the pool, trios, rounds, history, reasons."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from hypothesis import given, settings

import buddymatch
from buddymatch.candidates import weight_matrix
from buddymatch.solvers import NOT_ALLOWED
from tests.strategies import profiles, scheme_dict


def _units(result) -> list[list[str]]:  # type: ignore[no-untyped-def]
    m = result.matches
    return [
        [x for x in (a, b, c) if x]
        for a, b, c in zip(m["member_a"], m["member_b"], m["member_c"], strict=True)
    ]


@settings(max_examples=40, deadline=None)
@given(profiles(min_size=2, max_size=9, roles=False))
def test_even_pool_matches_networkx(df: pd.DataFrame) -> None:
    scheme = scheme_dict("peer", gap=(0, 2), leftover="exclude", objective="max-score")
    result = buddymatch.match(df, scheme)
    problem = result.problem
    pool = problem.pool()
    w = weight_matrix(problem, pool, pool)
    g = nx.Graph()
    for i in range(len(pool)):
        for j in range(i + 1, len(pool)):
            if w[i, j] != NOT_ALLOWED and w[i, j] > 0:
                g.add_edge(i, j, weight=int(w[i, j]))
    best = sum(g[u][v]["weight"] for u, v in nx.max_weight_matching(g))
    ids = {v: k for k, v in enumerate(problem.ids)}
    got = sum(int(w[ids[a], ids[b]]) for a, b in (u for u in _units(result)))
    assert got == best


@settings(max_examples=40, deadline=None)
@given(profiles(min_size=2, max_size=9, roles=False))
def test_everyone_at_most_once_and_rules_hold(df: pd.DataFrame) -> None:
    result = buddymatch.match(df, scheme_dict("peer", gap=(0, 2)))
    seen: list[str] = [x for u in _units(result) for x in u]
    assert len(seen) == len(set(seen))
    by_id = df.set_index("id")
    for unit in _units(result):
        assert len(unit) in (2, 3)
        for i in range(len(unit)):
            for j in range(i + 1, len(unit)):
                a, b = by_id.loc[unit[i]], by_id.loc[unit[j]]
                assert not (a["org"] and a["org"] == b["org"])
    placed = set(seen)
    listed = set(result.unmatched["participant_id"])
    assert placed | listed == set(df["id"]) and not placed & listed


def _pool(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "role": [""] * n,
            "cap": ["1"] * n,
            "org": [f"O{i}" for i in range(n)],
            "band": ["B6"] * n,
            "region": ["North"] * n,
            "needs": ["QI"] * n,
            "offers": [""] * n,
        }
    )


def test_odd_pool_makes_one_trio_or_leaves_one_out() -> None:
    trio = buddymatch.match(_pool(5), scheme_dict("peer", gap=None))
    assert sorted(len(u) for u in _units(trio)) == [2, 3]
    assert trio.unmatched.empty
    out = buddymatch.match(_pool(5), scheme_dict("peer", gap=None, leftover="exclude"))
    assert sorted(len(u) for u in _units(out)) == [2, 2]
    assert out.unmatched["reason"].tolist() == [
        "odd number of people who can be paired: one sits out (leftover: exclude); chosen to "
        "serve the objective, preferring someone who has not sat out before"
    ]


def test_rounds_have_no_repeats_and_rotate_who_sits_out() -> None:
    result = buddymatch.match(_pool(7), scheme_dict("peer", gap=None, leftover="exclude"), rounds=5)
    pairs = [frozenset(u) for u in _units(result)]
    assert len(pairs) == len(set(pairs))
    out = result.unmatched["participant_id"].tolist()
    assert len(out) == 5 and len(set(out)) == 5  # a different person sits out each round


def test_history_cooldown_blocks_recent_pairs(tmp_path: Path) -> None:
    (tmp_path / "past.csv").write_text("round,member_a,member_b,member_c\n1,p0,p1,\n1,p2,p3,\n")
    df = _pool(4)
    df.to_csv(tmp_path / "pool.csv", index=False)
    scheme = scheme_dict("peer", gap=None, history={"file": "past.csv", "cooldown": 1})
    import yaml

    (tmp_path / "scheme.yaml").write_text(yaml.safe_dump(scheme))
    result = buddymatch.match(tmp_path / "pool.csv", tmp_path / "scheme.yaml")
    pairs = {frozenset(u) for u in _units(result)}
    assert frozenset({"p0", "p1"}) not in pairs and frozenset({"p2", "p3"}) not in pairs
    assert result.matches["round"].tolist() == [2, 2]  # numbering continues the history


def test_unmatched_reason_when_everyone_is_from_one_organisation() -> None:
    df = _pool(3)
    df["org"] = ["A", "A", "B"]
    df.loc[2, "org"] = "A"
    result = buddymatch.match(df, scheme_dict("peer", gap=None))
    assert set(result.unmatched["reason"]) == {
        "no eligible partner: of 2 partners, different org removed 2"
    }
    assert np.isclose(result.summary["matched"], 0)


def test_fairness_spread_is_reported() -> None:
    result = buddymatch.match(_pool(7), scheme_dict("peer", gap=None, leftover="exclude"), rounds=3)
    fairness = result.summary["fairness"]
    assert fairness["rounds_left_out_max"] == 1
    assert fairness["people_left_out_more_than_once"] == 0
    assert fairness["rounds_in_trio_max"] == 0


def test_history_is_written_back_and_feeds_the_next_quarter(tmp_path: Path) -> None:
    import yaml

    df = _pool(6)
    df.to_csv(tmp_path / "pool.csv", index=False)
    (tmp_path / "past.csv").write_text("round,member_a,member_b,member_c\n1,p0,p1,\n1,gone,p2,\n")
    scheme = scheme_dict("peer", gap=None, history={"file": "past.csv", "cooldown": 2})
    (tmp_path / "scheme.yaml").write_text(yaml.safe_dump(scheme))
    first = buddymatch.match(tmp_path / "pool.csv", tmp_path / "scheme.yaml")
    history = first.tables["history"]
    assert history.iloc[:2].values.tolist() == [["1", "p0", "p1", ""], ["1", "gone", "p2", ""]]
    assert set(history["round"].iloc[2:]) == {"2"} and len(history) == 5
    first.write(tmp_path / "q1")
    scheme["history"]["file"] = str(tmp_path / "q1" / "history.csv")
    (tmp_path / "scheme.yaml").write_text(yaml.safe_dump(scheme))
    second = buddymatch.match(tmp_path / "pool.csv", tmp_path / "scheme.yaml")
    assert second.matches["round"].unique().tolist() == [3]
    met_before = {frozenset(r[1:3]) for r in history.values.tolist() if r[0] == "2"}
    now = {frozenset(u[:2]) for u in _units(second)}
    assert not met_before & now  # round 2 pairs are within the cooldown


def test_explain_names_the_history_cooldown(tmp_path: Path) -> None:
    import yaml

    (tmp_path / "past.csv").write_text("round,member_a,member_b,member_c\n4,p0,p1,\n")
    _pool(4).to_csv(tmp_path / "pool.csv", index=False)
    scheme = scheme_dict("peer", gap=None, history={"file": "past.csv", "cooldown": 1})
    (tmp_path / "scheme.yaml").write_text(yaml.safe_dump(scheme))
    result = buddymatch.match(tmp_path / "pool.csv", tmp_path / "scheme.yaml")
    assert result.explain("p0", "p1").splitlines()[-1] == (
        "Not allowed: they met 1 round ago, within the history cooldown of 1."
    )


def test_group_size_three_is_accepted_by_the_scheme_file(tmp_path: Path) -> None:
    scheme = scheme_dict("peer", gap=None, group_size=3)
    result = buddymatch.match(_pool(9), scheme)
    assert sorted(result.groups.groupby("group").size().tolist()) == [3, 3, 3]
    bad = scheme_dict("peer", gap=(0, 1), group_size=3)
    try:
        buddymatch.match(_pool(9), bad)
    except buddymatch.ConfigError as err:
        assert str(err).startswith('scheme: key "rules[1].gap": not available with group_size 3')
    else:  # pragma: no cover
        raise AssertionError("gap with group_size must be refused")
