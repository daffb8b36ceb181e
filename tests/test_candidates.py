"""Rules -> weights (candidates.py).

Hard rules as masks agree with the independent checker at the boundary: both
sides use the tolerances of model.py; a pair exactly at a gap bound or exactly
at min_score must be allowed by the rules and accepted by the checker, and one
just outside refused by both.  The class-compressed pair space
(``pair_weights``) equals the uncompressed matrix (``weight_matrix``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import buddymatch
from buddymatch import candidates
from buddymatch.api import load_problem
from buddymatch.candidates import pair_weights, rule_masks, weight_matrix
from buddymatch.check import check_pairs, pair_violations
from buddymatch.model import Pairs
from buddymatch.scoring import pair_scores
from buddymatch.weights import NOT_ALLOWED
from tests.strategies import profiles, scheme_dict

HALVES = st.integers(-20, 20).map(lambda k: k / 2)  # exact in float32 and float64


def _problem(values: list[float], lo: float, hi: float, scheme: str, min_score: float | None):
    n = len(values)
    frame = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "role": ["Either"] * n,
            "years": [repr(v) for v in values],
            "region": ["North" if i % 2 else "South" for i in range(n)],
        }
    )
    participants = {
        "id": "id",
        "attributes": {
            "years": {"column": "years", "numeric": True},
            "region": {"column": "region"},
        },
    }
    if scheme == "mentoring":
        participants["role"] = {"column": "role", "both": ["Either"]}
        participants["capacity"] = {"default": 3}
    data = {
        "version": 1,
        "scheme": scheme,
        "participants": participants,
        "rules": [{"gap": {"attribute": "years", "min": lo, "max": hi}}],
        "criteria": [{"closeness": {"attribute": "years", "weight": 2}},
                     {"same": {"attribute": "region", "weight": 1}}],
        "min_score": min_score,
    }  # fmt: skip
    return load_problem(frame, {k: v for k, v in data.items() if v is not None})


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(HALVES, min_size=2, max_size=7),
    bounds=st.tuples(HALVES, HALVES).map(sorted),
    scheme=st.sampled_from(["mentoring", "peer"]),
)
def test_gap_rule_mask_and_checker_agree_at_the_bounds(
    values: list[float], bounds: list[float], scheme: str
) -> None:
    problem = _problem(values, bounds[0], bounds[1], scheme, None)
    everyone = np.arange(problem.n)
    (label, mask), *_ = rule_masks(problem, everyone, everyone)  # rows = mentees
    for mentee in range(problem.n):
        for mentor in range(problem.n):
            broken = [v for v in pair_violations(problem, mentor, mentee) if "gap" in v]
            assert bool(mask[mentee, mentor]) == (not broken), (label, mentor, mentee)


@settings(max_examples=30, deadline=None)
@given(values=st.lists(HALVES, min_size=3, max_size=6), pick=st.integers(0, 100))
def test_a_pair_exactly_at_min_score_is_allowed_by_both(values: list[float], pick: int) -> None:
    loose = _problem(values, -100, 100, "peer", None)
    a, b = np.triu_indices(loose.n, k=1)
    k = pick % len(a)
    exact = float(pair_scores(loose, Pairs(a[k : k + 1], b[k : k + 1]))[0])
    problem = _problem(values, -100, 100, "peer", exact)
    weights = weight_matrix(problem, np.arange(problem.n), np.arange(problem.n))
    assert weights[a[k], b[k]] != NOT_ALLOWED  # the rules allow it
    unit = (int(a[k]), int(b[k]))
    check_pairs(problem, [[unit]], scores=[[exact]])  # and the checker accepts it


CENTS = st.integers(-10_000_000, 10_000_000).map(lambda k: k / 100)  # not exact in float32


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(CENTS, min_size=2, max_size=6),
    pick=st.tuples(st.integers(0, 100), st.integers(0, 100)),
    nudge=st.sampled_from([0.0, 1e-6, -1e-6, 2e-6, -2e-6, 1e-9, -1e-9]),
    scheme=st.sampled_from(["mentoring", "peer"]),
)
def test_gap_rule_on_large_decimals_agrees_with_the_checker(
    values: list[float], pick: tuple[int, int], nudge: float, scheme: str
) -> None:
    """Bounds exactly at (or a hair around) a real difference of two people:
    float32 would round 100000.01 and disagree with the checker's float64."""
    i, j = pick[0] % len(values), pick[1] % len(values)
    d = values[i] - values[j]
    bound = abs(d) + nudge if scheme == "peer" else d + nudge
    problem = _problem(values, -1e6, bound, scheme, None)
    everyone = np.arange(problem.n)
    (label, mask), *_ = rule_masks(problem, everyone, everyone)
    for mentee in range(problem.n):
        for mentor in range(problem.n):
            broken = [v for v in pair_violations(problem, mentor, mentee) if "gap" in v]
            assert bool(mask[mentee, mentor]) == (not broken), (label, mentor, mentee)


# --- profile classes ----------------------------------------------------------------

RULE_SETS = [
    [{"different": "org"}, {"gap": {"attribute": "band", "min": 1, "max": 2}}],
    [{"common": {"attribute": "needs", "count": 1}}, {"different": "org"}],
    [{"same": "region"}, {"different": "needs"}],
    [{"gap": {"attribute": "band", "max": 1}}, {"same": "org"}],
    [],
]


@settings(max_examples=80, deadline=None)
@given(
    profiles(min_size=2, max_size=9),
    st.sampled_from(RULE_SETS),
    st.sampled_from([None, 20.0, 55.0]),
    st.sampled_from([0, 32]),
    st.booleans(),
)
def test_compressed_equals_uncompressed(
    df: pd.DataFrame, rules: list, min_score: float | None, group_values: int, preference: bool
) -> None:
    """Profile classes (and per-person codes for rules on many values) change nothing."""
    extra = {} if min_score is None else {"min_score": min_score}
    scheme = scheme_dict("mentoring", rules=rules, **extra)
    if preference:
        df = df.assign(likes=[f"p{(k * 3) % len(df)}" if k % 2 else "" for k in range(len(df))])
        scheme["participants"]["attributes"]["likes"] = {"column": "likes"}
        scheme["criteria"].append({"preference": {"like": "likes", "weight": 2}})
    problem = load_problem(df, scheme)
    mentees, mentors = problem.mentees(), problem.mentors()
    used = np.array([[mentors[0], mentees[-1]]]) if len(mentors) and len(mentees) else None
    old = candidates.GROUP_VALUES
    candidates.GROUP_VALUES = group_values
    try:
        compressed = pair_weights(problem, mentees, mentors, extra_forbidden=used)
    finally:
        candidates.GROUP_VALUES = old
    expected = weight_matrix(problem, mentees, mentors, extra_forbidden=used)
    assert (compressed.dense() == expected).all()


def test_history_forbids_and_penalises_like_the_matrix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = buddymatch.sample_profiles("mentoring", 80, seed=4)
    scheme = buddymatch.sample_scheme("mentoring")
    problem = load_problem(df, scheme)
    mentees, mentors = problem.mentees(), problem.mentors()
    ids = problem.ids
    rows = [(2, ids[mentors[k]], ids[mentees[k]]) for k in range(5)]
    rows += [(1, ids[mentors[k]], ids[mentees[k + 1]]) for k in range(5)]
    pd.DataFrame(rows, columns=["round", "mentor_id", "mentee_id"]).to_csv(
        tmp_path / "history.csv", index=False
    )
    scheme["history"] = {"file": str(tmp_path / "history.csv"), "cooldown": 1, "penalty": 30}
    problem = load_problem(df, scheme)
    compressed = pair_weights(problem, mentees, mentors)
    assert compressed.override_values.size and compressed.blocked_cols.size
    assert (compressed.dense() == weight_matrix(problem, mentees, mentors)).all()


def test_feedback_and_split_by_like_the_matrix() -> None:
    """Feedback points (a pair's own weight, above its class's too) and split_by parts."""
    root = Path(__file__).resolve().parents[1]
    problem = load_problem(
        root / "sample_data" / "profiles.csv", root / "constraints" / "mentoring-feedback.yaml"
    )
    mentees, mentors = problem.mentees(), problem.mentors()
    compressed = pair_weights(problem, mentees, mentors)
    assert compressed.override_values.size
    assert (compressed.dense() == weight_matrix(problem, mentees, mentors)).all()
    data = yaml.safe_load((root / "constraints" / "mentoring.yaml").read_text())
    data["rules"] = [r for r in data["rules"] if "forbid" not in r]
    data["split_by"] = "region"
    problem = load_problem(root / "sample_data" / "profiles.csv", data)
    compressed = pair_weights(problem, mentees, mentors)
    assert (compressed.dense() == weight_matrix(problem, mentees, mentors)).all()


@pytest.mark.parametrize("size", [400, 3000])
def test_sampler_compresses(size: int) -> None:
    """On realistic profiles the class matrix is far smaller than rows × columns."""
    problem = load_problem(
        buddymatch.sample_profiles("mentoring", size, seed=2), buddymatch.sample_scheme("mentoring")
    )
    mentees, mentors = problem.mentees(), problem.mentors()
    pw = pair_weights(problem, mentees, mentors)
    assert pw.class_weights.size < len(mentees) * len(mentors)
    if size <= 400:
        assert (pw.dense() == weight_matrix(problem, mentees, mentors)).all()


@settings(max_examples=40, deadline=None)
@given(profiles(min_size=2, max_size=9), st.data())
def test_directed_blocks_block_one_direction_only(df: pd.DataFrame, data: st.DataObject) -> None:
    """A (mentor, mentee) pair blocked by a both-roles branch is not allowed that way round;
    the same two people the other way round keep their weight."""
    scheme = scheme_dict("mentoring", gap=None, rules=[])
    problem = load_problem(df, scheme)
    mentees, mentors = problem.mentees(), problem.mentors()
    if not len(mentees) or not len(mentors):
        return
    blocks = data.draw(
        st.lists(st.tuples(st.sampled_from(mentors.tolist()), st.sampled_from(mentees.tolist())))
    )
    directed = np.array(blocks, dtype=np.int64).reshape(-1, 2)
    got = pair_weights(problem, mentees, mentors, directed_blocks=directed).dense()
    expected = weight_matrix(problem, mentees, mentors)
    row = {int(x): k for k, x in enumerate(mentees)}
    col = {int(x): k for k, x in enumerate(mentors)}
    for a, b in blocks:
        expected[row[b], col[a]] = NOT_ALLOWED
    assert (got == expected).all()


@pytest.mark.parametrize("threads", [2, 4])
def test_scoring_blocks_in_threads_gives_the_same_matrix(
    threads: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Row blocks are scored in parallel: the matrix must not depend on how many ran at once
    (history penalties, feedback points and forbidden pairs included)."""
    root = Path(__file__).resolve().parents[1]
    problem = load_problem(
        root / "sample_data" / "profiles.csv", root / "constraints" / "mentoring-feedback.yaml"
    )
    pool = np.arange(problem.n)
    used = np.array([[0, 5], [7, 3]])
    monkeypatch.setattr(buddymatch.scoring, "BLOCK_ENTRIES", 150 * 7)  # 7 rows a block
    monkeypatch.setattr(candidates, "SCORING_THREADS", 1)
    one = weight_matrix(problem, pool, pool, extra_forbidden=used)
    monkeypatch.setattr(candidates, "SCORING_THREADS", threads)
    monkeypatch.setattr(candidates.os, "cpu_count", lambda: threads)
    assert (weight_matrix(problem, pool, pool, extra_forbidden=used) == one).all()
