"""Hypothesis strategies and small builders shared by the tests.

Profiles are plain DataFrames with short headings; ``scheme_dict`` maps them.
Everything here is deliberately tiny so brute force references stay cheap.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import strategies as st

TOPICS = ("QI", "Finance", "Leadership", "Digital")
BANDS = ("B5", "B6", "B7", "B8")


@st.composite
def profiles(
    draw: Any, *, min_size: int = 2, max_size: int = 8, roles: bool = True
) -> pd.DataFrame:
    n = draw(st.integers(min_size, max_size))
    rows = []
    for i in range(n):
        rows.append(
            {
                "id": f"p{i}",
                "role": draw(st.sampled_from(["Mentor", "Mentee", "Either"])) if roles else "",
                "cap": str(draw(st.integers(0, 3))),
                "org": draw(st.sampled_from(["A", "B", "C", ""])),
                "band": draw(st.sampled_from(BANDS)),
                "region": draw(st.sampled_from(["North", "South", "north "])),
                "needs": "; ".join(
                    draw(st.lists(st.sampled_from(TOPICS), max_size=3, unique=True))
                ),
                "offers": "; ".join(
                    draw(st.lists(st.sampled_from(TOPICS), max_size=3, unique=True))
                ),
            }
        )
    return pd.DataFrame(rows)


def scheme_dict(
    scheme: str = "mentoring",
    *,
    objective: str = "max-matched",
    gap: tuple[int, int] | None = (1, 2),
    rules: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    participants: dict[str, Any] = {
        "id": "id",
        "attributes": {
            "org": {"column": "org"},
            "band": {"column": "band", "scale": list(BANDS)},
            "region": {"column": "region"},
            "needs": {"column": "needs", "multi": ";"},
            "offers": {"column": "offers", "multi": ";"},
        },
    }
    if scheme == "mentoring":
        participants["role"] = {
            "column": "role",
            "mentor": ["Mentor"],
            "mentee": ["Mentee"],
            "both": ["Either"],
        }
        participants["capacity"] = {"column": "cap", "default": 1}
        criteria: list[dict[str, Any]] = [
            {"overlap": {"mentee": "needs", "mentor": "offers", "weight": 5}},
            {"same": {"attribute": "region", "weight": 3}},
            {"closeness": {"attribute": "band", "target": 1, "range": 2, "weight": 1}},
        ]
    else:
        criteria = [
            {"overlap": {"attribute": "needs", "weight": 5}},
            {"same": {"attribute": "region", "weight": 3}},
            {"closeness": {"attribute": "band", "range": 3, "weight": 1}},
        ]
    base_rules: list[dict[str, Any]] = [{"different": "org"}]
    if gap is not None:
        base_rules.append({"gap": {"attribute": "band", "min": gap[0], "max": gap[1]}})
    data = {
        "version": 1,
        "scheme": scheme,
        "participants": participants,
        "rules": base_rules if rules is None else rules,
        "criteria": criteria,
        "objective": objective,
    }
    data.update(extra)
    return data
