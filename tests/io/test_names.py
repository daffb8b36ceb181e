"""Requests by name: matched by id or name key, never guessed, never quoted in messages."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from buddymatch.api import load_problem
from buddymatch.errors import ConfigError, InputError
from buddymatch.io.names import NameIndex, name_key

PEOPLE = pd.DataFrame(
    {
        "id": ["p1", "p2", "p3", "p4", "p5", "p6"],
        "first": ["José", "Ann", "Bob", "Ann", "Siobhán", "Chris"],
        "last": ["O'Brien", "Lee", "Kay", "Moss", "Ó Briain", "Kay"],
    }
)


def _scheme(**attrs: Any) -> dict:
    return {
        "version": 1,
        "scheme": "cohorts",
        "participants": {
            "id": "id",
            "name": ["first", "last"],
            "attributes": {
                "wants": {"column": "wants", "multi": ",", "names": True, **attrs},
            },
        },
        "groups": {"count": 2},
        "criteria": [{"preference": {"like": "wants"}}],
    }


def _load(wants: list[str], **attrs: Any):  # type: ignore[no-untyped-def]
    return load_problem(PEOPLE.assign(wants=wants), _scheme(**attrs))


def test_name_keys_ignore_accents_case_order_and_apostrophes() -> None:
    assert name_key("José O'Brien") == name_key("obrien jose") == name_key("O'BRIEN,  Jose")
    assert name_key("Siobhán Ó Briain") == ("briain", "o", "siobhan")
    assert name_key("Ann Lee") != name_key("Ann Moss")


def test_typed_names_and_ids_become_the_named_people() -> None:
    problem = _load(["lee ann, Kay Bob", "JOSE OBRIEN", "p4", "", "siobhan o briain", "-"])
    wants = problem.attributes["wants"]
    named = {
        problem.ids[i]: sorted(wants.labels[k] for k, on in enumerate(row) if on)
        for i, row in enumerate(wants.values)
    }
    assert named == {
        "p1": ["p2", "p3"],
        "p2": ["p1"],
        "p3": ["p4"],
        "p4": [],
        "p5": [],  # naming oneself is ignored
        "p6": [],
    }


def test_unmatched_and_ambiguous_names_are_reported_per_row_with_candidate_rows() -> None:
    with pytest.raises(InputError) as err:
        _load(["Ann", "Bob Kaye, Chris Kay", "", "Zed Zebra", "", ""])
    lines = err.value.lines
    assert lines == [
        '<DataFrame> row 2, column "wants": the name matches no participant; close '
        "candidates: <DataFrame> rows 3, 5 — correct the name as it is in the name "
        "column(s), or type the person's id",
        '<DataFrame> row 3, column "wants": name 1 of 2 matches no participant; close '
        "candidates: <DataFrame> row 4 — correct the name as it is in the name "
        "column(s), or type the person's id",
        '<DataFrame> row 5, column "wants": the name matches no participant, and no name '
        "is close — check the name, or type the person's id",
    ]
    text = "\n".join(lines)
    for secret in ("Ann", "Bob", "Kaye", "Zed", "Lee", "p2", "p3"):  # no names, no ids
        assert secret not in text


def test_a_name_two_people_share_is_ambiguous_unless_one_of_them_typed_it() -> None:
    people = PEOPLE.assign(first=["Ann", "Ann", "Bob", "Cat", "Dan", "Eve"], last="Lee")
    with pytest.raises(InputError) as err:
        load_problem(people.assign(wants=["", "", "ann lee", "", "", ""]), _scheme())
    assert err.value.lines[0].startswith(
        '<DataFrame> row 4, column "wants": the name matches 2 participants '
        "(<DataFrame> rows 2, 3) — type that person's id instead"
    )
    problem = load_problem(people.assign(wants=["Ann Lee", "", "", "", "", ""]), _scheme())
    assert problem.attributes["wants"].labels == ("p2",)  # p1 named "Ann Lee": the other one


def test_aliases_turn_none_answers_into_blanks() -> None:
    problem = _load(["None", "no", "", "", "", ""], aliases={"None": "", "no": ""})
    assert not problem.attributes["wants"].values.any()


def test_without_a_name_column_ids_are_matched_and_near_ids_suggested() -> None:
    index = NameIndex(["p00012@example.nhs.uk", "p00013@example.nhs.uk"], None)
    assert index.match(" P00012@example.nhs.uk").index == 0
    miss = index.match("p00012@exmple.nhs.uk")
    assert miss.index == -1 and miss.candidates[0] == 0


def test_rule_forms_need_a_names_attribute() -> None:
    scheme = _scheme()
    scheme["participants"]["attributes"]["plain"] = {"column": "wants"}
    scheme["rules"] = [{"keep_apart": {"attribute": "plain"}}]
    with pytest.raises(ConfigError) as err:
        load_problem(PEOPLE.assign(wants=""), scheme)
    assert err.value.lines == [
        'scheme: key "rules[0].keep_apart.attribute": attribute "plain" does not name '
        "participants — add names: true to it"
    ]


def test_requests_become_keep_apart_pairs_and_forbidden_pairs() -> None:
    scheme = _scheme()
    scheme["rules"] = [{"keep_apart": {"attribute": "wants"}}]
    problem = load_problem(PEOPLE.assign(wants=["Ann Lee", "", "", "", "", "chris kay"]), scheme)
    assert [s.tolist() for s in problem.apart] == [[0, 1]]  # p6 named himself: ignored
    peer = _scheme()
    peer.update(scheme="peer", rules=[{"forbid": {"attribute": "wants"}}])
    del peer["groups"]
    problem = load_problem(PEOPLE.assign(wants=["Ann Lee", "", "Chris Kay", "", "", ""]), peer)
    assert sorted(problem.forbidden.tolist()) == [[0, 1], [2, 5]]
