"""Review decisions edit the scheme's inline rules, and only those."""

from __future__ import annotations

from pathlib import Path

from buddymatch.config import read_scheme_file, validate_scheme
from buddymatch.web.schemestate import Decision, apply, decisions, from_yaml, to_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_lock_then_forbid_the_same_pair_moves_it_and_undo_removes_the_rule() -> None:
    data = read_scheme_file(ROOT / "constraints" / "mentoring.yaml")
    locked = apply(data, Decision("lock", ("M1", "E1")))
    assert {"lock": {"pairs": [["M1", "E1"]]}} in locked["rules"]
    assert {"forbid": {"file": "conflicts.csv"}} in locked["rules"]  # the file rule is untouched
    forbidden = apply(locked, Decision("forbid", ("e1", "m1")))
    assert decisions(forbidden) == [Decision("forbid", ("e1", "m1"))]
    assert apply(forbidden, Decision("forbid", ("E1", "M1")), remove=True)["rules"] == data["rules"]
    assert data == read_scheme_file(ROOT / "constraints" / "mentoring.yaml")  # input unchanged


def test_exclude_and_place_merge_into_one_rule_each() -> None:
    data = read_scheme_file(ROOT / "constraints" / "cohorts.yaml")
    out = apply(data, Decision("exclude", ("a@x",)))
    out = apply(out, Decision("exclude", ("b@x",)))
    out = apply(out, Decision("place", ("a@x",), 2))
    out = apply(out, Decision("place", ("A@X",), 3))
    assert [d for d in decisions(out)] == [
        Decision("exclude", ("a@x",)),
        Decision("exclude", ("b@x",)),
        Decision("place", ("A@X",), 3),
    ]
    validate_scheme(out)
    assert from_yaml(to_yaml(out)) == out


def test_exclude_by_attribute_is_not_mistaken_for_the_inline_rule() -> None:
    data = {
        "version": 1,
        "scheme": "peer",
        "participants": {"id": "Email", "attributes": {"r": {"column": "R"}}},
    }
    data["rules"] = [{"exclude": {"attribute": "r", "values": ["x"]}}]
    out = apply(data, Decision("exclude", ("p@x",)))
    assert out["rules"] == [
        {"exclude": {"attribute": "r", "values": ["x"]}},
        {"exclude": {"ids": ["p@x"]}},
    ]
