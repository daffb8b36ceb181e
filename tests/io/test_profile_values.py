"""Values as coordinators type them: numbers with separators, spacing and case."""

from __future__ import annotations

import numpy as np
import pandas as pd

from buddymatch.api import load_problem


def _problem(values: list[str]):  # type: ignore[no-untyped-def]
    df = pd.DataFrame(
        {
            "id": [f"x{i}" for i in range(len(values))],
            "years": values,
            "region": ["north west ", "North West", "NORTH  WEST"][: len(values)],
        }
    )
    scheme = {
        "version": 1,
        "scheme": "peer",
        "participants": {
            "id": "id",
            "attributes": {
                "years": {"column": "years", "numeric": True},
                "region": {"column": "region"},
            },
        },
    }
    return load_problem(df, scheme)


def test_thousands_separators_and_decimal_commas() -> None:
    p = _problem(["1,000", "2,5", "1,234.5"])
    assert p.attributes["years"].values.tolist() == [1000.0, 2.5, 1234.5]


def test_spacing_and_case_make_one_category_with_the_first_spelling() -> None:
    p = _problem(["1", "2", "3"])
    region = p.attributes["region"]
    assert region.labels == ("north west",)  # the first spelling seen, trimmed
    assert np.all(region.values == 0)
