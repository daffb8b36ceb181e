"""Re-matching: invariants (nothing changes without changes; kept pairs pass the
independent check; --max-changes 0 breaks nothing) and optimality of the placement
given the kept pairs, against brute force."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import buddymatch
from buddymatch.check import pair_violations
from buddymatch.errors import ConfigError, InfeasibleError
from buddymatch.model import BOTH, MENTEE, MENTOR, text_key
from tests.strategies import BANDS, profiles, scheme_dict

IDS = {"mentoring": ["mentor_id", "mentee_id"], "peer": ["member_a", "member_b", "member_c"]}


def rows(result: buddymatch.MatchResult, kind: str) -> list[tuple[tuple[str, ...], bool]]:
    """(unit, kept) per row of matches.csv; pool units sorted."""
    out = []
    for rec in result.matches.to_dict(orient="records"):
        ids = [str(rec[c]) for c in IDS[kind] if c in rec and isinstance(rec[c], str) and rec[c]]
        unit = tuple(ids) if kind == "mentoring" else tuple(sorted(ids))
        out.append((unit, bool(rec.get("kept", False))))
    return out


def units(result: buddymatch.MatchResult, kind: str) -> set[tuple[str, ...]]:
    return {u for u, _ in rows(result, kind)}


@st.composite
def changes(draw: Any, df: pd.DataFrame) -> pd.DataFrame:
    """Today's intake: some people gone, some bands changed, some joiners."""
    keep = [i for i in range(len(df)) if not draw(st.booleans()) or draw(st.booleans())]
    later = df.iloc[keep].copy()
    for i in later.index:
        if draw(st.integers(0, 5)) == 0:
            later.loc[i, "band"] = draw(st.sampled_from(BANDS))
    joiners = draw(profiles(min_size=0, max_size=3)) if draw(st.booleans()) else df.iloc[:0]
    joiners = joiners.assign(id=[f"j{k}" for k in range(len(joiners))])
    return pd.concat([later, joiners], ignore_index=True)


@settings(max_examples=40, deadline=None)
@given(profiles(min_size=2, max_size=8), st.sampled_from(["mentoring", "peer"]))
def test_with_no_changes_nothing_changes(df: pd.DataFrame, kind: str) -> None:
    scheme = scheme_dict(kind)
    first = buddymatch.match(df, scheme)
    again = buddymatch.rematch(first, df, scheme)
    assert units(again, kind) == units(first, kind)
    assert again.matches["kept"].all()
    assert again.tables["changes"].empty
    assert again.summary["rematch"]["ended"] == 0 and again.summary["rematch"]["new"] == 0
    assert again.unmatched["participant_id"].tolist() == first.unmatched["participant_id"].tolist()


def _valid(problem: buddymatch.model.Problem, unit: tuple[str, ...]) -> bool:
    """An independent verdict on a previous unit: everyone still in and every pair allowed."""
    index = {text_key(v): i for i, v in enumerate(problem.ids)}
    members = [index.get(text_key(v)) for v in unit]
    if any(m is None or problem.excluded[m] for m in members):
        return False
    people = [m for m in members if m is not None]
    if problem.directed and (
        problem.role[people[0]] not in (MENTOR, BOTH)
        or problem.role[people[1]] not in (MENTEE, BOTH)
    ):
        return False
    return all(not pair_violations(problem, a, b) for a, b in itertools.combinations(people, 2))


@settings(max_examples=50, deadline=None)
@given(st.data(), st.sampled_from(["mentoring", "peer"]))
def test_every_valid_pair_is_kept_and_every_kept_pair_checks(data: Any, kind: str) -> None:
    df = data.draw(profiles(min_size=2, max_size=8))
    scheme = scheme_dict(kind)
    first = buddymatch.match(df, scheme)
    later = data.draw(changes(df))
    if later.empty:
        return
    result = buddymatch.rematch(first, later, scheme)  # max_changes 0
    problem = result.problem
    now = units(result, kind)
    kept = {u for u, flag in rows(result, kind) if flag}
    before = units(first, kind)
    for unit in before:
        if len(unit) == 2 and _valid(problem, unit):
            assert unit in now, f"valid pair {unit} was not kept"  # capacities did not change
    for unit in now:
        assert _valid(problem, unit)
    assert all(u in before or any(set(u) < set(b) for b in before) for u in kept)
    kept_pairs = {frozenset(p) for u in kept for p in itertools.combinations(u, 2)}
    ended = {frozenset(p) for u in before for p in itertools.combinations(u, 2)} - kept_pairs
    made = {frozenset(p) for u in now for p in itertools.combinations(u, 2)}
    assert not (ended & made), "an ended pair was made again"


def _brute_mentoring(problem: Any, kept: set[tuple[int, int]], banned: set[frozenset[int]]) -> int:
    """Most pairs given the kept pairs: every way to give free wants to free capacity."""
    mentors, mentees = problem.mentors().tolist(), problem.mentees().tolist()
    cap = {j: int(problem.capacity[j]) - sum(1 for a, _ in kept if a == j) for j in mentors}
    want = {i: int(problem.wants[i]) - sum(1 for _, b in kept if b == i) for i in mentees}
    arcs = [
        (j, i)
        for j in mentors
        for i in mentees
        if j != i
        and (j, i) not in kept
        and frozenset((i, j)) not in banned
        and not pair_violations(problem, j, i)
    ]
    best = 0
    for r in range(len(arcs), 0, -1):
        for chosen in itertools.combinations(arcs, r):
            load_j = pd.Series([j for j, _ in chosen]).value_counts()
            load_i = pd.Series([i for _, i in chosen]).value_counts()
            if all(load_j.get(j, 0) <= cap[j] for j in mentors) and all(
                load_i.get(i, 0) <= want[i] for i in mentees
            ):
                return r
    return best


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_mentoring_placement_is_optimal_given_the_kept_pairs(data: Any) -> None:
    df = data.draw(profiles(min_size=3, max_size=7))
    scheme = scheme_dict("mentoring")
    first = buddymatch.match(df, scheme)
    later = data.draw(changes(df))
    if later.empty:
        return
    result = buddymatch.rematch(first, later, scheme)
    problem = result.problem
    if (problem.role == BOTH).any():
        return  # one side each keeps the enumeration simple
    index = {v: i for i, v in enumerate(problem.ids)}
    rows = result.matches[["mentor_id", "mentee_id", "kept"]].to_numpy().tolist()
    kept = {(index[a], index[b]) for a, b, k in rows if k}
    previous = {
        frozenset((index[a], index[b]))
        for a, b in first.matches[["mentor_id", "mentee_id"]].to_numpy().tolist()
        if a in index and b in index
    }
    banned = previous - {frozenset(k) for k in kept}
    if len(problem.mentors()) * len(problem.mentees()) > 12:
        return
    assert len(rows) - len(kept) == _brute_mentoring(problem, kept, banned)


def _brute_peer(problem: Any, free: list[int], banned: set[frozenset[int]]) -> int:
    """Most people placed among ``free`` in pairs and at most one trio."""

    def ok(a: int, b: int) -> bool:
        return frozenset((a, b)) not in banned and not pair_violations(problem, a, b)

    def best(people: list[int], trio: int) -> int:
        if not people:
            return 0
        i, rest = people[0], people[1:]
        out = best(rest, trio)
        for k, j in enumerate(rest):
            if ok(i, j):
                others = rest[:k] + rest[k + 1 :]
                out = max(out, 2 + best(others, trio))
                for m, h in enumerate(others):
                    if trio and ok(i, h) and ok(j, h):
                        out = max(out, 3 + best(others[:m] + others[m + 1 :], trio - 1))
        return out

    return best(free, 1)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_peer_placement_is_optimal_given_the_kept_units(data: Any) -> None:
    df = data.draw(profiles(min_size=3, max_size=8, roles=False))
    scheme = scheme_dict("peer", gap=None)
    first = buddymatch.match(df, scheme)
    later = data.draw(changes(df))
    if later.empty:
        return
    result = buddymatch.rematch(first, later, scheme)
    problem = result.problem
    index = {v: i for i, v in enumerate(problem.ids)}
    placed_kept, placed_new = set(), 0
    for rec in result.matches.to_dict(orient="records"):
        members = [index[str(rec[c])] for c in IDS["peer"] if isinstance(rec[c], str) and rec[c]]
        if rec["kept"]:
            placed_kept |= set(members)
        else:
            placed_new += len(members)
    previous = set()
    for rec in first.matches.to_dict(orient="records"):
        ids = [str(rec[c]) for c in IDS["peer"] if isinstance(rec[c], str) and rec[c]]
        known = [index[v] for v in ids if v in index]
        previous |= {frozenset(p) for p in itertools.combinations(known, 2)}
    free = [i for i in problem.pool().tolist() if i not in placed_kept]
    banned = {p for p in previous if not p <= placed_kept}
    assert placed_new == _brute_peer(problem, free, banned)


# --- scenarios ----------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def test_sample_intake_reasons_and_changes(tmp_path: Path) -> None:
    scheme = ROOT / "constraints" / "mentoring.yaml"
    first = buddymatch.match(ROOT / "sample_data" / "profiles.csv", scheme, seed=1)
    first.write(tmp_path / "round-1")
    result = buddymatch.rematch(
        tmp_path / "round-1", ROOT / "sample_data" / "profiles_later.csv", scheme
    )
    block = result.summary["rematch"]
    assert block["kept"] + block["ended"] == len(first.matches)
    assert block["ended_by_reason"] == {
        "capacity now lower": 1,
        "dropped out": 9,
        "rule now fails": 1,
    }
    assert block["dropped_out"] == 8 and block["joined"] == 8
    changes = result.tables["changes"].set_index("participant_id")
    assert changes.loc["p00001@example.nhs.uk", "why"].startswith("rule now fails: breaks rule gap")
    assert changes.loc["p00114@example.nhs.uk", "change"] == "left"
    assert changes.loc["p00151@example.nhs.uk", "change"] == "joined"
    assert set(result.matches["round"]) == {1}
    history = result.tables["history"]
    assert len(history) == len(first.matches) + block["new"]  # ended pairs stay in the history
    written = result.write(tmp_path / "round-1b")
    assert any(p.name == "changes.csv" for p in written)
    text = buddymatch.explain_result(
        tmp_path / "round-1b",
        "p00045@example.nhs.uk",
        "p00001@example.nhs.uk",
        profiles=ROOT / "sample_data" / "profiles_later.csv",
        scheme=scheme,
    )
    assert "Paired before the re-match; that ended: rule now fails" in text
    kept = result.matches[result.matches["kept"]].iloc[0]
    new = result.matches[~result.matches["kept"]].iloc[0]
    for row, note in ((kept, "Kept from before the re-match."), (new, "New in the re-match.")):
        lines = result.explain(row["mentor_id"], row["mentee_id"]).splitlines()
        assert lines[-2:] == ["Made in round 1.", note]


def test_feedback_ends_pairs_with_their_reason(tmp_path: Path) -> None:
    scheme = scheme_dict("peer", gap=None)
    df = pd.DataFrame(
        {"id": [f"p{i}" for i in range(6)], "org": list("ABCDEF"), "band": ["B6"] * 6,
         "region": ["North"] * 6, "needs": ["QI"] * 6, "offers": [""] * 6}
    )  # fmt: skip
    first = buddymatch.match(df, scheme)
    a, b = first.matches.iloc[0][["member_a", "member_b"]]
    c, d = first.matches.iloc[1][["member_a", "member_b"]]
    (tmp_path / "fb.csv").write_text(
        f"member_a,member_b,outcome\n{a},{b},did-not-work\n{c},{d},continuing\n", encoding="utf-8"
    )
    result = buddymatch.rematch(
        first, df, {**scheme, "feedback": {"file": str(tmp_path / "fb.csv")}}
    )
    assert result.summary["rematch"]["ended_by_reason"] == {"feedback: did-not-work": 1}
    made = units(result, "peer")
    assert tuple(sorted((a, b))) not in made and tuple(sorted((c, d))) in made
    why = result.tables["changes"].set_index("participant_id").loc[a, "why"]
    assert why.startswith("feedback says the pair did not work; not placed: ")


def test_max_changes_places_more_people_and_reports_the_trade_off() -> None:
    # one mentor; the kept mentee has another mentor option, a joiner has only this mentor
    df = pd.DataFrame(
        {"id": ["m1", "m2", "e1"], "role": ["Mentor", "Mentor", "Mentee"], "cap": ["1", "0", ""],
         "org": ["A", "B", "C"], "band": ["B8", "B8", "B6"], "region": ["North"] * 3,
         "needs": [""] * 3, "offers": [""] * 3}
    )  # fmt: skip
    scheme = scheme_dict("mentoring")
    first = buddymatch.match(df, scheme)
    assert units(first, "mentoring") == {("m1", "e1")}
    later = df.copy()
    later.loc[1, "cap"] = "1"
    later = pd.concat(
        [later, pd.DataFrame([{"id": "e2", "role": "Mentee", "cap": "", "org": "B", "band": "B6",
                               "region": "North", "needs": "", "offers": ""}])],
        ignore_index=True,
    )  # fmt: skip
    zero = buddymatch.rematch(first, later, scheme)
    assert units(zero, "mentoring") == {("m1", "e1")}  # e2 cannot have m2 (same organisation)
    one = buddymatch.rematch(first, later, scheme, max_changes=1)
    assert units(one, "mentoring") == {("m1", "e2"), ("m2", "e1")}
    block = one.summary["rematch"]
    assert block["changes_used"] == 1 and block["ended_by_reason"] == {"changed by max-changes": 1}
    assert block["trade_off"] == [
        {"changes": 0, "objective_value": 1.0},
        {"changes": 1, "objective_value": 2.0},
    ]
    with pytest.raises(ConfigError, match="max-matched or max-score"):
        buddymatch.rematch(first, later, {**scheme, "objective": "fair"}, max_changes=1)


def test_a_result_of_another_scheme_is_refused(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {"id": ["a", "b"], "org": ["A", "B"], "band": ["B6", "B6"], "region": ["N", "N"],
         "needs": ["", ""], "offers": ["", ""]}
    )  # fmt: skip
    first = buddymatch.match(df, scheme_dict("peer", gap=None))
    with pytest.raises(ConfigError, match="previous result is a peer result"):
        buddymatch.rematch(
            first, df, scheme_dict("cohorts", gap=None, rules=[], groups={"count": 1})
        )


def _cohort_frame() -> pd.DataFrame:
    rows = []
    for i in range(12):
        rows.append({"id": f"p{i}", "org": f"O{i % 4}", "band": BANDS[i % 4], "region": "N",
                     "needs": "", "offers": "", "fac": "Yes" if i < 3 else "No"})  # fmt: skip
    return pd.DataFrame(rows)


def _cohort_scheme() -> dict[str, Any]:
    data = scheme_dict("cohorts", gap=None, rules=[], groups={"size": {"min": 3, "max": 5}})
    data["participants"]["attributes"]["fac"] = {"column": "fac"}
    data["rules"] = [{"at_least": {"attribute": "fac", "value": "Yes", "count": 1}}]
    data["solver"] = {"iterations": 5}
    return data


def test_cohorts_keep_members_place_joiners_and_move_only_to_repair() -> None:
    df, scheme = _cohort_frame(), _cohort_scheme()
    first = buddymatch.match(df, scheme)
    groups = dict(zip(first.groups["participant_id"], first.groups["group"], strict=True))
    joiner = df.iloc[[4]].assign(id="new1", fac="No")
    later = pd.concat([df[df["id"] != "p5"], joiner], ignore_index=True)
    result = buddymatch.rematch(first, later, scheme)
    now = dict(zip(result.groups["participant_id"], result.groups["group"], strict=True))
    assert all(now[p] == g for p, g in groups.items() if p != "p5")
    assert "new1" in now and result.summary["rematch"]["changes_used"] == 0
    # the facilitator of a group leaves and a new one joins elsewhere: someone must move
    gone = next(p for p in ("p0", "p1", "p2") if True)
    fac_joiner = df.iloc[[4]].assign(id="fac2", fac="Yes")
    later = pd.concat([df[df["id"] != gone], fac_joiner], ignore_index=True)
    try:
        buddymatch.rematch(first, later, scheme)
    except InfeasibleError as error:
        assert "--max-changes" in str(error)
    moved = buddymatch.rematch(first, later, scheme, max_changes=3)
    used = moved.summary["rematch"]["changes_used"]
    assert used <= 3
    moves = moved.tables["changes"]
    assert (moves["change"] == "moved").sum() == used


def test_a_programme_of_2000_keeps_every_valid_pair_and_places_the_rest_optimally(
    tmp_path: Path,
) -> None:
    """10 % left, 5 % joined, 3 % changed band (benchmarks/scenario_rematch.py builds it)."""
    from benchmarks.scenario_rematch import make_scenario, reference_new_pairs

    first_csv, scheme, later_csv = make_scenario(2000, tmp_path)
    first = buddymatch.match(first_csv, scheme)
    result = buddymatch.rematch(first, later_csv, scheme)
    problem = result.problem
    kept = {u for u, flag in rows(result, "mentoring") if flag}
    load = pd.Series([a for a, _ in kept]).value_counts()
    valid = [u for u in units(first, "mentoring") if _valid(problem, u)]
    assert len(valid) > 0.75 * len(first.matches)
    for unit in valid:  # capacities did not change, so every valid pair fits
        assert unit in kept
    assert (load <= pd.Series(problem.capacity, index=problem.ids)[load.index]).all()
    new = len(result.matches) - len(kept)
    assert new == reference_new_pairs(first, result) > 0
    assert result.summary["status"] == "optimal"
    block = result.summary["rematch"]
    assert block["dropped_out"] == 200 and block["joined"] == 100


def test_rematch_outputs_are_byte_identical(tmp_path: Path) -> None:
    scheme = ROOT / "constraints" / "mentoring-feedback.yaml"
    first = buddymatch.match(ROOT / "sample_data" / "profiles.csv", scheme, seed=1)
    later = ROOT / "sample_data" / "profiles_later.csv"
    texts = []
    for k in range(2):
        buddymatch.rematch(first, later, scheme, max_changes=2).write(tmp_path / str(k))
        texts.append({p.name: p.read_bytes() for p in sorted((tmp_path / str(k)).iterdir())})
    assert texts[0] == texts[1] and "changes.csv" in texts[0]


# --- priorities through rematch ---------------------------------------------------------------


def _one_mentor_two_mentees() -> tuple[pd.DataFrame, pd.DataFrame]:
    """m1 (room for one) met e1 last round; e2 joins, as good a partner for m1 as e1."""
    df = pd.DataFrame(
        {"id": ["m1", "e1"], "role": ["Mentor", "Mentee"], "cap": ["1", ""], "org": ["A", "C"],
         "band": ["B8", "B6"], "region": ["North"] * 2, "needs": [""] * 2, "offers": [""] * 2}
    )  # fmt: skip
    joiner = {"id": "e2", "role": "Mentee", "cap": "", "org": "D", "band": "B6",
              "region": "North", "needs": "", "offers": ""}  # fmt: skip
    return df, pd.concat([df, pd.DataFrame([joiner])], ignore_index=True)


def test_rematch_with_priorities_keeps_pairs_and_reports_each_level() -> None:
    df, later = _one_mentor_two_mentees()
    levels = ["mentees-covered", "mentors-covered", "pairs", "score"]
    scheme = scheme_dict("mentoring", objective="max-matched")
    scheme["objective"] = {"priorities": levels}
    first = buddymatch.match(df, scheme)
    again = buddymatch.rematch(first, later, scheme)  # max_changes 0: the kept pair stays
    assert units(again, "mentoring") == {("m1", "e1")} and again.matches["kept"].all()
    reported = again.summary["priorities"]
    assert [lv["name"] for lv in reported] == levels
    assert [lv["value"] for lv in reported[:3]] == [1, 1, 1]
    with pytest.raises(ConfigError, match="max-matched or max-score"):
        buddymatch.rematch(first, later, scheme, max_changes=1)


def test_rematch_budget_counts_the_priority_bonus() -> None:
    """With --max-changes, priority:'s bonus is part of the objective the budget trades for."""
    df, later = _one_mentor_two_mentees()
    plain = scheme_dict("mentoring", objective="max-score")
    first = buddymatch.match(df, plain)
    assert units(buddymatch.rematch(first, later, plain, max_changes=1), "mentoring") == {
        ("m1", "e1")
    }  # a tie: nothing is worth a change
    favour = {**plain, "priority": {"attribute": "org", "values": ["D"], "bonus": 10}}
    moved = buddymatch.rematch(first, later, favour, max_changes=1)
    assert units(moved, "mentoring") == {("m1", "e2")}
    assert moved.summary["rematch"]["changes_used"] == 1
