"""HTML report: self-contained, escaped, deterministic, every scheme's tables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from buddymatch import report
from buddymatch.errors import InputError
from buddymatch.io.writers import write_results
from buddymatch.report import render_report, write_report

EVIL = '<script>alert("x")</script>'
SUMMARY: dict[str, Any] = {
    "scheme": "mentoring",
    "status": "optimal",
    "objective": "max-matched",
    "objective_value": 3.0,
    "bound": 3.0,
    "gap": 0.0,
    "participants": 7,
    "matched": 6,
    "unmatched": 1,
    "solver": "min-cost-flow",
    "seed": 11,
    "version": "0.1.0",
    "input_hash": "ab12",
}


def mentoring() -> dict[str, pd.DataFrame]:
    matches = pd.DataFrame(
        {
            "round": [1, 1, 1],
            "mentor_id": ["m1", "m2", "m1"],
            "mentee_id": ["e1", "e2", "e3"],
            "score": [5.0, 15.0, 100.0],
            "same_region": [1.0, 0.0, 1.0],
            "overlap_interests": [0.5, 0.25, 1.0],
            "locked": [False, False, True],
            "explanation": ["same region", "no overlap", "locked pair"],
            "mentor_Full name": ["Ann", "Bob", "Ann"],
        }
    )
    unmatched = pd.DataFrame(
        {
            "round": [1, 1, 1],
            "participant_id": ["m3", "e4", "e5"],
            "role": ["mentor", "mentee", "mentee"],
            "reason": [
                "all 4 eligible mentees have the mentors they wanted",
                "all 5 eligible mentees have the mentors they wanted",
                "no eligible mentor: band gap removed 3 of p003's mentors",
            ],
        }
    )
    return {"matches": matches, "unmatched": unmatched}


def peer() -> dict[str, pd.DataFrame]:
    matches = pd.DataFrame(
        {
            "round": [1, 1],
            "member_a": ["a", "c"],
            "member_b": ["b", "d"],
            "member_c": ["", "e"],
            "score": [60.0, 70.0],
            "same_region": [1.0, 0.5],
            "explanation": ["pair", "Trio: x | y | z"],
        }
    )
    empty = pd.DataFrame(columns=["round", "participant_id", "role", "reason"])
    return {"matches": matches, "unmatched": empty}


def cohorts() -> dict[str, pd.DataFrame]:
    groups = pd.DataFrame(
        {
            "round": [1] * 7,
            "group": [1, 1, 1, 2, 2, 2, 2],
            "participant_id": [f"p{i}" for i in range(7)],
            "organisation": ["A", "B", "C", "A", "B", "C", "D"],
        }
    )
    summary = pd.DataFrame(
        {"round": [1, 1], "group": [1, 2], "size": [3, 4], "organisation_A": [1, 1]}
    )
    unmatched = pd.DataFrame(
        {"round": [1], "participant_id": ["p9"], "role": ["member"], "reason": ["no room"]}
    )
    return {"groups": groups, "group_summary": summary, "unmatched": unmatched}


def titles(page: str) -> list[str]:
    return re.findall(r"<rect[^>]*><title>([^<]*)</title>", page)


def bar_labels(page: str) -> list[str]:
    return re.findall(r'text-anchor="end" font-size="12"><title>([^<]*)</title>', page)


def test_mentoring_page_has_header_plots_and_tables() -> None:
    page = render_report(mentoring(), SUMMARY)
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert "buddymatch — mentoring" in page and 'class="badge good">optimal' in page
    assert "objective max-matched · solver min-cost-flow · seed 11 · buddymatch 0.1.0" in page
    assert "0.00 %</b><span>gap to bound" in page
    # histogram: 5 -> 0-10, 15 -> 10-20, 100 -> 90-100 (the top bin is closed)
    assert titles(page)[:3] == ["0–10: 1", "10–20: 1", "20–30: 0"]
    assert titles(page)[9] == "90–100: 1"
    # criteria are the numeric columns between score and locked; carried names are not
    assert bar_labels(page)[:2] == ["same_region", "overlap_interests"]
    assert ">0.667<" in page and ">0.583<" in page  # means of the two criteria
    # unmatched reasons grouped by kind, ids like p003 kept, most frequent first
    assert bar_labels(page)[2:] == [
        "all N eligible mentees have the mentors they wanted",
        "no eligible mentor",
    ]
    assert page.index("<h2>Matches") < page.index("<h2>Left unmatched")
    assert "Ann" in page and "locked pair" in page


def test_peer_page_shows_trios_and_an_empty_unmatched_table() -> None:
    page = render_report(peer(), {**SUMMARY, "scheme": "peer", "status": "feasible"})
    assert 'class="badge warn">feasible' in page
    assert "<th>member_c</th>" in page and "<td>e</td>" in page
    assert "Trio: x | y | z" in page
    assert "Nobody was left unmatched." in page and "Everyone was matched." in page


def test_cohorts_page_shows_group_sizes_and_both_group_tables() -> None:
    page = render_report(cohorts(), {**SUMMARY, "scheme": "cohorts"})
    assert "Group sizes" in page and "Match scores" not in page
    assert titles(page) == ["3: 1", "4: 1"]
    assert "<h2>Groups <small>(2)</small></h2>" in page
    assert "<h2>Group members <small>(7)</small></h2>" in page
    # without group_summary the sizes are counted from the member table
    tables = cohorts()
    del tables["group_summary"]
    assert titles(render_report(tables, {})) == ["3: 1", "4: 1"]


@pytest.mark.parametrize("maker", [mentoring, peer, cohorts])
def test_empty_tables_and_summary_render(maker: Any) -> None:
    tables = {name: frame.iloc[0:0] for name, frame in maker().items()}
    page = render_report(tables, {})
    assert "unknown scheme" in page
    assert "No data" in page and "No rows." in page
    assert "Everyone was matched." in page
    assert render_report({}, {}).count("<figure") == 1


def test_every_cell_and_summary_value_is_escaped() -> None:
    tables = mentoring()
    tables["matches"] = tables["matches"].rename(columns={"same_region": EVIL})
    tables["matches"].loc[0, "explanation"] = EVIL
    tables["matches"].loc[1, "mentor_id"] = EVIL
    tables["unmatched"].loc[0, "reason"] = EVIL
    tables["other_table"] = pd.DataFrame({EVIL: [EVIL]})
    page = render_report(tables, {**SUMMARY, "scheme": EVIL, "status": EVIL, EVIL: [EVIL]})
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30), st.text(min_size=1, max_size=30))
def test_cell_text_never_adds_markup(explanation: str, mentor: str, criterion: str) -> None:
    assume(criterion not in mentoring()["matches"].columns)

    def page(e: str, m: str, c: str) -> str:
        tables = mentoring()
        frame = tables["matches"].rename(columns={"same_region": c})
        frame["explanation"] = e
        frame["mentor_id"] = m
        tables["matches"] = frame
        return render_report(tables, SUMMARY)

    assert page(explanation, mentor, criterion).count("<") == page("x", "x", "x").count("<")


def test_self_contained() -> None:
    page = render_report(mentoring(), SUMMARY)
    lowered = page.lower()
    for needle in ("http://", "https://", "<link", "<script", " src=", "url(", "@import"):
        assert needle not in lowered
    assert "default-src 'none'" in page
    assert page.count("<svg") == 3


def test_deterministic_and_independent_of_row_order() -> None:
    tables = mentoring()
    shuffled = {name: frame.iloc[::-1] for name, frame in tables.items()}
    assert render_report(tables, SUMMARY) == render_report(tables, SUMMARY)
    assert render_report(tables, SUMMARY) == render_report(shuffled, SUMMARY)


def test_long_tables_are_cut_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "MAX_ROWS", 2)
    page = render_report(mentoring(), SUMMARY)
    assert page.count('<tr class="why') == 2
    assert "First 2 of 3 rows shown." in page


def test_rounds_table_only_for_several_rounds() -> None:
    rounds = [{"units": 2, "round": r, "status": "optimal"} for r in (1, 2)]
    page = render_report(mentoring(), {**SUMMARY, "rounds": rounds})
    assert "<h2>Rounds</h2>" in page
    assert "<th class=num>round</th><th>status</th><th class=num>units</th>" in page
    assert "<h2>Rounds</h2>" not in render_report(mentoring(), {**SUMMARY, "rounds": rounds[:1]})


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_write_report_from_a_results_folder(tmp_path: Path, fmt: str) -> None:
    write_results(tmp_path / "out", mentoring(), SUMMARY, fmt=fmt)
    path = write_report(tmp_path / "out", tmp_path / "site" / "report.html")
    page = path.read_text(encoding="utf-8")
    assert "buddymatch — mentoring" in page and "no overlap" in page
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]


def test_write_report_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    write_results(tmp_path / "out", peer(), SUMMARY)
    target = tmp_path / "report.html"
    target.write_text("mine")
    with pytest.raises(InputError) as caught:
        write_report(tmp_path / "out", target)
    assert str(caught.value) == (
        f'Report file "{target}" already exists — choose another name or pass --force to replace it'
    )
    assert target.read_text() == "mine"
    write_report(tmp_path / "out", target, force=True)
    assert "buddymatch" in target.read_text()
    with pytest.raises(InputError, match="is a folder"):
        write_report(tmp_path / "out", tmp_path / "out", force=True)
    with pytest.raises(InputError, match="does not exist"):
        write_report(tmp_path / "missing", tmp_path / "r2.html")


def test_scatter_chart_places_every_point_inside_its_axes() -> None:
    points = [(141.0, 71.19, "a"), (144.0, 80.39, "<b>max=4</b>"), (140.0, 73.3, "c")]
    svg = report.scatter_chart(points, "people matched", "mean score")
    found = re.findall(r'<circle cx="([0-9.]+)" cy="([0-9.]+)"[^>]*><title>([^:]+):', svg)
    at = {label: (float(x), float(y)) for x, y, label in found}
    assert len(at) == 3
    assert all(56 <= x <= 504 and 14 <= y <= 254 for x, y in at.values())  # the plot area
    b = at["&lt;b&gt;max=4&lt;/b&gt;"]
    assert b[0] > at["a"][0] > at["c"][0]  # more matched: further right
    assert b[1] < at["c"][1] < at["a"][1]  # higher score: further up
    assert "<b>" not in svg
    single = report.scatter_chart([(5.0, 5.0, "only")], "x", "y")  # one point: still an axis
    assert single.count("<circle") == 1


def test_html_page_is_the_reports_self_contained_shell() -> None:
    page = report.html_page("a <title>", "<p>body</p>")
    assert page.startswith("<!DOCTYPE html>") and "<title>a &lt;title&gt;</title>" in page
    assert "default-src 'none'" in page and "<p>body</p>" in page
