"""Scoring follows the documented definitions (checked against a naive reference)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings

from buddymatch.api import load_problem
from buddymatch.model import Pairs
from buddymatch.scoring import pair_layers, pair_scores, score_matrix
from tests.strategies import BANDS, profiles, scheme_dict


def _set(text: str) -> set[str]:
    return {t.strip().casefold() for t in text.split(";") if t.strip()}


def naive_mentoring_score(df: pd.DataFrame, mentee: int, mentor: int) -> float:
    """The DESIGN.md definitions, written out per pair with no numpy."""
    e, m = df.iloc[mentee], df.iloc[mentor]
    needs, offers = _set(e["needs"]), _set(m["offers"])
    overlap = len(needs & offers) / len(needs) if needs else 0.0
    same = 1.0 if e["region"].strip().casefold() == m["region"].strip().casefold() else 0.0
    d = BANDS.index(m["band"]) - BANDS.index(e["band"])
    close = max(0.0, 1 - abs(d - 1) / 2)
    return 100 * (5 * overlap + 3 * same + 1 * close) / 9


def naive_peer_score(df: pd.DataFrame, a: int, b: int) -> float:
    x, y = df.iloc[a], df.iloc[b]
    na, nb = _set(x["needs"]), _set(y["needs"])
    jac = len(na & nb) / len(na | nb) if na | nb else 0.0
    same = 1.0 if x["region"].strip().casefold() == y["region"].strip().casefold() else 0.0
    close = max(0.0, 1 - abs(BANDS.index(x["band"]) - BANDS.index(y["band"])) / 3)
    return 100 * (5 * jac + 3 * same + close) / 9


@settings(max_examples=40, deadline=None)
@given(profiles(min_size=2, max_size=7))
def test_mentoring_scores_match_definitions(df: pd.DataFrame) -> None:
    problem = load_problem(df, scheme_dict("mentoring"))
    rows, cols = np.arange(problem.n), np.arange(problem.n)
    matrix = score_matrix(problem, rows, cols)
    for i in range(problem.n):
        for j in range(problem.n):
            assert abs(matrix[i, j] - naive_mentoring_score(df, i, j)) < 1e-3
    first, second = np.repeat(rows, problem.n), np.tile(cols, problem.n)
    aligned = pair_scores(problem, Pairs(second, first))  # (mentor, mentee)
    assert np.allclose(aligned, matrix.reshape(-1), atol=1e-3)


@settings(max_examples=40, deadline=None)
@given(profiles(min_size=2, max_size=7, roles=False))
def test_peer_scores_match_definitions_and_are_symmetric(df: pd.DataFrame) -> None:
    problem = load_problem(df, scheme_dict("peer", gap=None))
    idx = np.arange(problem.n)
    matrix = score_matrix(problem, idx, idx)
    assert np.allclose(matrix, matrix.T, atol=1e-4)
    for i in range(problem.n):
        for j in range(problem.n):
            assert abs(matrix[i, j] - naive_peer_score(df, i, j)) < 1e-3


def test_scores_are_graded_not_all_or_nothing() -> None:
    df = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "role": ["Mentee", "Mentor", "Mentor", "Mentor"],
            "cap": ["1"] * 4,
            "org": ["A", "B", "C", "D"],
            "band": ["B5", "B6", "B7", "B6"],
            "region": ["North", "North", "South", "North"],
            "needs": ["QI; Finance", "", "", ""],
            "offers": ["", "QI; Finance", "QI", "Digital"],
        }
    )
    problem = load_problem(df, scheme_dict("mentoring"))
    s = score_matrix(problem, np.array([0]), np.array([1, 2, 3]))[0]
    assert len({round(float(x), 2) for x in s}) == 3  # three different grades
    layers = pair_layers(problem, Pairs(np.array([1, 2]), np.array([0, 0])))
    assert layers["overlap_needs_offers"].tolist() == [1.0, 0.5]
    assert layers["same_region"].tolist() == [1.0, 0.0]


def test_missing_values_earn_no_credit() -> None:
    df = pd.DataFrame(
        {
            "id": ["a", "b"],
            "role": ["Mentee", "Mentor"],
            "cap": ["1", "1"],
            "org": ["A", "B"],
            "band": ["", "B6"],
            "region": ["", ""],
            "needs": ["", ""],
            "offers": ["", "QI"],
        }
    )
    problem = load_problem(df, scheme_dict("mentoring", gap=None))
    assert float(score_matrix(problem, np.array([0]), np.array([1]))[0, 0]) == 0.0
