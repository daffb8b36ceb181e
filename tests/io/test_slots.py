"""Availability grids: day columns combined into "Day slot" values, inverted when asked."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

import buddymatch
from buddymatch.api import load_problem
from buddymatch.check import pair_violations
from buddymatch.errors import ConfigError, InputError

GRID = pd.DataFrame(
    {
        "id": ["a", "b", "c"],
        "Unavailable [Monday]": ["Morning, Afternoon", "", "morning "],
        "Unavailable [Tuesday]": ["", "Afternoon", "Morning, Afternoon"],
    }
)
COLUMNS = {"Mon": "Unavailable [Monday]", "Tue": "Unavailable [Tuesday]"}


def _free(frame: pd.DataFrame = GRID, **spec: Any) -> tuple[tuple[str, ...], np.ndarray]:
    scheme = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {
            "id": "id",
            "attributes": {"free": {"columns": COLUMNS, "multi": ",", **spec}},
        },
        "groups": {"count": 1},
    }
    att = load_problem(frame, scheme).attributes["free"]
    return att.labels, att.values.astype(int)


def test_day_columns_combine_into_day_slot_values() -> None:
    labels, values = _free()
    assert labels == ("Mon Afternoon", "Mon Morning", "Tue Afternoon", "Tue Morning")
    assert values.tolist() == [[1, 1, 0, 0], [0, 0, 1, 0], [0, 1, 1, 1]]


def test_unavailable_answers_are_inverted_against_every_day_and_slot() -> None:
    labels, values = _free(unavailable=True, slots=["Morning", "Lunchtime", "Afternoon"])
    assert labels == (
        "Mon Morning",
        "Mon Lunchtime",
        "Mon Afternoon",
        "Tue Morning",
        "Tue Lunchtime",
        "Tue Afternoon",
    )
    assert values.tolist() == [  # a blank day: free all day
        [0, 1, 0, 1, 1, 1],
        [1, 1, 1, 1, 1, 0],
        [0, 1, 1, 0, 1, 0],
    ]


def test_an_answer_that_is_not_a_listed_slot_is_an_error_naming_row_and_column() -> None:
    frame = GRID.assign(**{"Unavailable [Tuesday]": ["", "Evening", "Nights, Morning"]})
    with pytest.raises(InputError) as err:
        _free(frame, slots=["Morning", "Afternoon"])
    fix = " — slots: Morning, Afternoon (or add an alias)"
    assert err.value.lines == [
        '<DataFrame> row 3, column "Unavailable [Tuesday]": an answer is not one of the slots '
        "listed in the scheme" + fix,
        '<DataFrame> row 4, column "Unavailable [Tuesday]": an answer is not one of the slots '
        "listed in the scheme" + fix,
    ]


def test_one_unavailable_column_is_inverted_against_the_answers_seen() -> None:
    scheme = {
        "version": 1,
        "scheme": "peer",
        "participants": {
            "id": "id",
            "attributes": {
                "free": {"column": "Unavailable [Monday]", "multi": ",", "unavailable": True}
            },
        },
        "rules": [{"common": {"attribute": "free", "count": 1}}],
    }
    problem = load_problem(GRID, scheme)
    assert problem.attributes["free"].labels == ("Afternoon", "Morning")
    assert problem.attributes["free"].values.astype(int).tolist() == [[0, 0], [1, 1], [1, 0]]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"columns": COLUMNS}, "columns, slots and unavailable are for multi-valued answers"),
        ({"column": "x", "columns": COLUMNS, "multi": ","}, "give column (one heading) or"),
        ({"column": "x", "scale": ["a", "b"], "names": True}, "names: true is for a categorical"),
    ],
)
def test_grid_settings_are_checked(spec: dict, message: str) -> None:
    scheme = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {"id": "id", "attributes": {"free": spec}},
        "groups": {"count": 1},
    }
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_problem(GRID, scheme)


def test_peer_pairs_share_a_free_slot_when_the_rule_says_so() -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "Unavailable [Monday]": ["Morning", "Afternoon", "Morning", "Afternoon"],
        }
    )
    scheme = {
        "version": 1,
        "scheme": "peer",
        "participants": {
            "id": "id",
            "attributes": {
                "free": {
                    "column": "Unavailable [Monday]",
                    "multi": ",",
                    "slots": ["Morning", "Afternoon"],
                    "unavailable": True,
                }
            },
        },
        "rules": [{"common": {"attribute": "free", "count": 1}}],
        "criteria": [{"availability": {"attribute": "free"}}],
    }
    matches = buddymatch.match(frame, scheme).tables["matches"]
    assert sorted(zip(matches["member_a"], matches["member_b"], strict=True)) == [
        ("a", "c"),
        ("b", "d"),
    ]
    problem = load_problem(frame, scheme)
    assert pair_violations(problem, 0, 1) == ["breaks rule common free (0 shared, 1 needed)"]
