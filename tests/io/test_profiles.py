"""Profile tables + scheme -> Problem: encodings, blanks, aliases, roles by file, rule inputs."""

from __future__ import annotations

import copy
import csv
import io
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from buddymatch.config import validate_scheme
from buddymatch.errors import ConfigError, InputError
from buddymatch.io.profiles import build_problem
from buddymatch.io.readers import Table
from buddymatch.model import BOTH, MENTEE, MENTOR, NO_ROLE, Problem

from ..conftest import PROFILES_CSV, SCHEME_YAML

BASE: dict[str, Any] = yaml.safe_load(SCHEME_YAML)


def _table(text: str, file: str = "p.csv") -> Table:
    rows = list(csv.reader(io.StringIO(text)))
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype=object)
    return Table(frame=frame, file=file, rows=np.arange(2, 2 + len(frame)))


def _scheme(**changes: Any) -> Any:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return validate_scheme(data)


def _problem(text: str = PROFILES_CSV, **changes: Any) -> Problem:
    return build_problem([_table(text)], _scheme(**changes))


def _errors(text: str, **changes: Any) -> list[str]:
    with pytest.raises(InputError) as info:
        _problem(text, **changes)
    return info.value.lines


def test_roles_capacity_defaults_and_ids() -> None:
    p = _problem()
    assert p.ids[0] == "m1@example.test"
    assert p.role.tolist() == [MENTOR, MENTOR, MENTEE, MENTEE, MENTEE, BOTH]
    assert p.capacity.tolist() == [2, 1, 1, 1, 1, 1]  # blank -> default 1
    assert p.rows.tolist() == [2, 3, 4, 5, 6, 7]


def test_categorical_ordinal_multi_encodings() -> None:
    p = _problem()
    org = p.attributes["organisation"]
    assert org.kind == "categorical" and org.labels == ("Org A", "Org B", "Org C")
    assert org.values.tolist() == [0, 1, 1, 0, 2, 2]
    band = p.attributes["band"]
    assert band.kind == "ordinal" and band.values.tolist() == [3, 4, 1, 1, 2, 3]
    interests = p.attributes["interests"]
    assert interests.kind == "multi" and interests.labels == ("Digital", "Finance", "Leadership")
    assert interests.values.tolist()[3] == [True, False, True]
    assert not interests.values[0].any()  # blank -> no items


def test_normalisation_case_and_spacing() -> None:
    text = PROFILES_CSV.replace("North,", "north  ,", 1).replace("Org A", " org a ", 1)
    p = _problem(text)
    region = p.attributes["region"]
    assert region.values[0] == region.values[2]  # " north  " == "North"
    assert p.attributes["organisation"].values[0] == p.attributes["organisation"].values[3]
    # North West vs "north west " (two words)
    text = PROFILES_CSV.replace("North,", "North West,").replace("South,", "north  west ,")
    region = _problem(text).attributes["region"]
    assert len(set(region.values.tolist()) - {-1}) == 2  # North West and East only
    assert region.labels[region.values[1]] == "North West"


def test_blank_categorical_and_ordinal_are_missing() -> None:
    p = _problem(PROFILES_CSV.replace("Band 8b", "").replace("South", ""))
    assert p.attributes["band"].values[1] == -1
    assert p.attributes["region"].values[1] == -1


def test_numeric_encoding_and_aliases() -> None:
    lines = PROFILES_CSV.splitlines()
    years = ["Years", "3", "", "2.5", "many", "0", "30"]
    text = "\n".join(f"{line},{y}" for line, y in zip(lines, years, strict=True)) + "\n"
    attrs = {**BASE["participants"]["attributes"]}
    attrs["years"] = {"column": "Years", "numeric": True, "aliases": {"many": "20"}}
    attrs["band"] = {**attrs["band"], "aliases": {"Band 8b": "Band 8a"}}
    p = _problem(text, participants={**BASE["participants"], "attributes": attrs})
    values = p.attributes["years"].values
    assert values[0] == 3 and np.isnan(values[1]) and values[2] == 2.5 and values[3] == 20
    assert p.attributes["band"].values[1] == 3  # aliased to Band 8a


def test_roles_by_file_pattern() -> None:
    header, *rows = PROFILES_CSV.splitlines()
    participants = {**BASE["participants"], "capacity": {"default": 2}}
    participants["role"] = {"files": {"mentors*.csv": "mentor", "mentees*.csv": "mentee"}}
    scheme = _scheme(participants=participants)
    tables = [
        _table("\n".join([header, *rows[:2]]), "in/Mentors-2026.csv"),
        _table("\n".join([header, *rows[2:5]]), "in/mentees.csv"),
    ]
    p = build_problem(tables, scheme)
    assert p.role.tolist() == [MENTOR, MENTOR, MENTEE, MENTEE, MENTEE]
    assert p.capacity.tolist() == [2] * 5
    assert p.file_index.tolist() == [0, 0, 1, 1, 1] and p.rows.tolist() == [2, 3, 2, 3, 4]
    with pytest.raises(InputError) as info:
        build_problem([*tables, _table("\n".join([header, rows[5]]), "other.csv")], scheme)
    assert info.value.lines == [
        "other.csv: file matches none of participants.role.files — patterns: mentors*.csv, "
        "mentees*.csv"
    ]


def test_carry_columns_and_exclude_rule() -> None:
    participants = {**BASE["participants"], "carry": ["Full name"]}
    rules = [*BASE["rules"], {"exclude": {"attribute": "region", "values": ["east"]}}]
    p = _problem(participants=participants, rules=rules)
    assert p.carry is not None and p.carry["Full name"].tolist()[0] == "Ann One"
    assert p.excluded.tolist() == [False] * 5 + [True]


def test_exclude_by_ids_and_unknown_id() -> None:
    rules = [*BASE["rules"], {"exclude": {"ids": ["E2@example.test ", "m1@example.test"]}}]
    p = _problem(rules=rules)
    assert p.excluded.tolist() == [True, False, False, True, False, False]
    both = [{"exclude": {"attribute": "region", "values": ["east"], "ids": ["m2@example.test"]}}]
    assert _problem(rules=both).excluded.tolist() == [False, True, False, False, False, True]
    with pytest.raises(InputError) as info:
        _problem(rules=[{"exclude": {"ids": ["m1@example.test", "nobody@example.test"]}}])
    assert info.value.lines == ['key "rules[0].exclude.ids": item 2 is not an id in the profiles']


def test_exclude_needs_attribute_or_ids() -> None:
    with pytest.raises(ConfigError) as info:
        validate_scheme({**BASE, "rules": [{"exclude": {"values": ["east"]}}]})
    assert "give attribute with values: [...], ids: [...], or both" in str(info.value)


def test_cohort_rules_keep_together_apart_place() -> None:
    data = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {"id": "Email", "attributes": {"region": {"column": "Region"}}},
        "groups": {"count": 2},
        "rules": [
            {"keep_together": [["m1@example.test", "E1@EXAMPLE.TEST"]]},
            {"keep_apart": [["m2@example.test", "e2@example.test", "e3@example.test"]]},
            {"place": {"b1@example.test": 2}},
        ],
    }
    p = build_problem([_table(PROFILES_CSV)], validate_scheme(data))
    assert [t.tolist() for t in p.together] == [[0, 2]]
    assert [a.tolist() for a in p.apart] == [[1, 3, 4]]
    assert p.placed is not None and p.placed.tolist() == [-1] * 5 + [1]
    assert p.role.tolist() == [NO_ROLE] * 6
    data["rules"] = [{"keep_apart": [["nobody@example.test", "m1@example.test"]]}]
    with pytest.raises(InputError) as info:
        build_problem([_table(PROFILES_CSV)], validate_scheme(data))
    assert info.value.lines == [
        'key "rules[0].keep_apart.sets[0]": item 1 is not an id in the profiles'
    ]


def test_many_row_issues_are_capped_per_column() -> None:
    header, row = PROFILES_CSV.splitlines()[:2]
    rows = [row.replace("m1@", f"m{i}@").replace("Band 8a", "Band 99") for i in range(30)]
    lines = _errors("\n".join([header, *rows]) + "\n")
    assert len(lines) == 21
    assert lines[-1] == 'p.csv, column "Band": more problems like the above in this column'


def test_no_rows_is_an_error() -> None:
    assert _errors(PROFILES_CSV.splitlines()[0] + "\n") == [
        "no participants in the profile files — check the files are the right ones"
    ]


# --- property: arbitrary string tables raise only InputError ----------------------------

_HEAD = next(csv.reader(io.StringIO(PROFILES_CSV)))
_HEADING = st.sampled_from([*_HEAD, *(h.upper() for h in _HEAD), "x"]) | st.text(max_size=5)
_CELL = st.sampled_from(
    ["", " ", "Mentor", "mentee ", "Either", "Band 6", "band 9", "2", "-1", "1e400", "nan",
     "inf", "1,000", "Org A", "a;b;;", ";", "e1@x", "E1@X ", "North"]
) | st.text(max_size=6)  # fmt: skip
_SCHEME = validate_scheme(BASE)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_HEADING, min_size=1, max_size=11, unique=True).flatmap(
        lambda hs: st.tuples(
            st.just(hs), st.lists(st.lists(_CELL, min_size=len(hs), max_size=len(hs)), max_size=6)
        )
    ),
    st.booleans(),
)
def test_arbitrary_tables_raise_only_input_error(
    table: tuple[list[str], list[list[str]]], with_all_columns: bool
) -> None:
    headings, rows = table
    if with_all_columns:  # get past the column check into the value checks
        headings = list(dict.fromkeys([*_HEAD, *headings]))
        rows = [r + [""] * (len(headings) - len(r)) for r in rows]
    frame = pd.DataFrame(rows, columns=headings, dtype=object)
    t = Table(frame=frame, file="p.csv", rows=np.arange(2, 2 + len(rows)))
    try:
        p = build_problem([t], _SCHEME)
    except InputError as exc:
        assert exc.lines
    else:
        assert p.n == len(rows) and (p.capacity >= 0).all()


def test_place_errors_name_the_entry_not_the_id() -> None:
    data = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {"id": "Email", "attributes": {"region": {"column": "Region"}}},
        "groups": {"count": 2},
        "rules": [{"place": {"m1@example.test": 1, "nobody@x.test": 2, "e1@example.test": 0}}],
    }
    with pytest.raises(InputError) as info:
        build_problem([_table(PROFILES_CSV)], validate_scheme(data))
    assert info.value.lines == [
        'key "rules[0].place.members": item 2 is not an id in the profiles',
        'key "rules[0].place.members": item 3: group numbers start at 1',
    ]


def test_roles_by_file_allow_side_specific_columns() -> None:
    frame = _table(PROFILES_CSV).frame
    mentors = frame[frame["I want to be a"] == "Mentor"].drop(
        columns=["Areas you'd like support with"]
    )
    mentees = frame[frame["I want to be a"] == "Mentee"].drop(columns=["Areas you can offer"])
    tables = [
        Table(frame=f.reset_index(drop=True), file=name, rows=np.arange(2, 2 + len(f)))
        for f, name in ((mentors, "mentors.csv"), (mentees, "mentees.csv"))
    ]
    participants = {**BASE["participants"]}
    participants["role"] = {"files": {"mentors*.csv": "mentor", "mentees*.csv": "mentee"}}
    p = build_problem(tables, _scheme(participants=participants))
    assert not p.attributes["interests"].values[:2].any()
    assert not p.attributes["expertise"].values[2:].any()
    # a column no file has is still an error; so is one missing with a role column
    with pytest.raises(InputError, match="Areas you can offer"):
        build_problem([tables[1], tables[1]], _scheme(participants=participants))
    with pytest.raises(InputError, match="Areas you can offer"):
        build_problem(tables, _scheme())


# --- side files: read like profiles, heading row required, ids read back exactly ----------

FORBID = {"forbid": {"file": "conflicts.csv"}}


def _with_side_file(tmp_path: Any, name: str, text: str, rule: dict[str, Any]) -> list[str]:
    (tmp_path / name).write_text(text, encoding="utf-8")
    scheme = _scheme(rules=[*BASE["rules"], rule])
    try:
        build_problem([_table(PROFILES_CSV)], scheme, base_dir=tmp_path)
    except InputError as exc:
        return [line.replace(f"{tmp_path}/", "") for line in exc.lines]
    return []


def test_forbid_file_without_heading_row_is_an_error_not_a_lost_pair(tmp_path: Any) -> None:
    text = "m1@example.test,e3@example.test\nm2@example.test,e1@example.test\n"
    lines = _with_side_file(tmp_path, "conflicts.csv", text, FORBID)
    assert lines == [
        "conflicts.csv row 1: has no heading row: row 1 holds ids or numbers, not headings — "
        "add a heading row; expected a heading row, then one pair per row in two id columns, "
        "e.g. person_a,person_b"
    ]
    one_line = _with_side_file(tmp_path, "conflicts.csv", "m1@example.test,e3@example.test", FORBID)
    assert one_line == lines  # a single pair is not silently read as headings


def test_forbid_file_with_headings_keeps_every_pair(tmp_path: Any) -> None:
    (tmp_path / "conflicts.csv").write_text("a,b\nm1@example.test,e3@example.test\n")
    scheme = _scheme(rules=[*BASE["rules"], FORBID])
    p = build_problem([_table(PROFILES_CSV)], scheme, base_dir=tmp_path)
    assert p.forbidden.tolist() == [[0, 4]]
    (tmp_path / "conflicts.csv").write_text("a,b\n")  # headings only: an empty list
    assert not len(build_problem([_table(PROFILES_CSV)], scheme, base_dir=tmp_path).forbidden)


def test_lock_and_pairwise_without_headings(tmp_path: Any) -> None:
    lock = {"lock": {"file": "keep.csv"}}
    assert _with_side_file(tmp_path, "keep.csv", "m1@example.test,e3@example.test\n", lock)[
        0
    ].startswith("keep.csv row 1: has no heading row")
    cohorts = {
        "version": 1,
        "scheme": "cohorts",
        "participants": {"id": "Email", "attributes": {"region": {"column": "Region"}}},
        "groups": {"count": 2},
        "criteria": [{"pairwise": {"file": "pairs.csv"}}],
    }
    (tmp_path / "pairs.csv").write_text("x,y,5\n")  # the number gives it away
    with pytest.raises(InputError) as caught:
        build_problem([_table(PROFILES_CSV)], validate_scheme(cohorts), base_dir=tmp_path)
    assert caught.value.lines[0].startswith(f"{tmp_path}/pairs.csv row 1: has no heading row")


@pytest.mark.parametrize("value", ["1e300", "-1e13", "inf", "nan", "ten"])
def test_numeric_attribute_out_of_range_names_no_value(value: str) -> None:
    attributes = {
        **BASE["participants"]["attributes"],
        "years": {"column": "Years", "numeric": True},
    }
    participants = {**BASE["participants"], "attributes": attributes}
    header, *rows = PROFILES_CSV.splitlines()
    text = "\n".join([header + ",Years", *[r + ",3" for r in rows[:-1]], rows[-1] + f",{value}"])
    (line,) = _errors(text + "\n", participants=participants)
    assert line.startswith('p.csv row 7, column "Years": the value ')
    assert value not in line.split(":", 1)[1]


@pytest.mark.parametrize("round_value", ["0", "2.5", "1e300", "-3", "x"])
def test_history_round_numbers_are_bounded_whole_numbers(tmp_path: Any, round_value: str) -> None:
    (tmp_path / "past.csv").write_text(
        f"round,member_a,member_b\n{round_value},m1@example.test,e1@example.test\n"
    )
    with pytest.raises(InputError) as caught:
        _problem_with_history(tmp_path)
    assert caught.value.lines == [
        f'{tmp_path}/past.csv row 2, column "round": round must be a whole number from 1 to '
        "1,000,000"
    ]


def _problem_with_history(tmp_path: Any) -> Problem:
    scheme = _scheme(history={"file": "past.csv", "cooldown": 1})
    return build_problem([_table(PROFILES_CSV)], scheme, base_dir=tmp_path)


DANGEROUS_IDS = ["=1+1", "+44 7700 900123", "-5", "@home", "'=x", "''+y", "\tz", "plain"]


def test_history_written_by_buddymatch_reads_back_with_formula_like_ids(tmp_path: Any) -> None:
    """A peer run writes history.csv with neutralised ids; the next run must know every pair."""
    import buddymatch

    profiles = pd.DataFrame(
        {
            "Email": DANGEROUS_IDS,
            "Organisation": ["A", "B", "C", "D", "A", "B", "C", "D"],
        }
    )
    scheme: dict[str, Any] = {
        "version": 1,
        "scheme": "peer",
        "participants": {"id": "Email", "attributes": {"org": {"column": "Organisation"}}},
        "rules": [{"different": "org"}],
    }
    first = buddymatch.match(profiles, scheme, seed=1)
    first.write(tmp_path / "q1")
    on_disk = (tmp_path / "q1" / "history.csv").read_text()
    assert "'=1+1" in on_disk and "''=x" in on_disk  # neutralised for spreadsheets
    made = {
        frozenset((a, b))
        for a, b in zip(first.matches["member_a"], first.matches["member_b"], strict=True)
    }
    scheme["history"] = {"file": str(tmp_path / "q1" / "history.csv"), "cooldown": 1}
    problem = buddymatch.load_problem(profiles, scheme)
    known = {frozenset((problem.ids[a], problem.ids[b])) for a, b in problem.history.pairs}
    assert known == made  # every pair recognised: none can repeat next round
    second = buddymatch.match(profiles, scheme, seed=1)
    again = {
        frozenset((a, b))
        for a, b in zip(second.matches["member_a"], second.matches["member_b"], strict=True)
    }
    assert not again & made
    second.write(tmp_path / "q2")
    assert (tmp_path / "q2" / "history.csv").read_text().startswith(on_disk)  # carried as is


def test_a_damaged_heading_row_never_lists_a_persons_cells() -> None:
    """Found by the fuzz suite: a stray quote in row 1 swallowed row 2 into the headings,
    and the missing-column message listed them (a name among them)."""
    header, *rows = PROFILES_CSV.splitlines()
    damaged = header.replace("I want to be a,", 'I want to be a,"', 1)
    text = "\n".join([damaged, *rows]) + "\n"
    lines = _errors(text)
    assert lines and not [x for x in lines if "Ann One" in x or "@example.test" in x]
    assert all("row 1 has" in x for x in lines if "named in the scheme" in x)


def test_side_file_heading_holding_an_email_is_not_echoed(tmp_path: Any) -> None:
    """Found by the fuzz suite: a mangled id in the heading row was printed as a column name."""
    text = "person_a,\xefm9@example.test\nm1@example.test,e3@example.test\n"
    lines = _with_side_file(tmp_path, "conflicts.csv", text, FORBID)
    assert lines and lines[0].startswith("conflicts.csv row 1: has no heading row")
    assert not [x for x in lines if "@example.test" in x]


def test_a_cohorts_groups_csv_is_read_as_history_pair_by_pair(tmp_path: Any) -> None:
    """Everyone sharing a (round, part, group) met; rounds ago count from the last round;
    a bad round is reported at the groups.csv row it came from."""
    (tmp_path / "past.csv").write_text(
        "round,part,group,participant_id,band\n"
        "1,North,1,m1@example.test,5\n"
        "1,North,1,e1@example.test,6\n"
        "1,North,1,e3@example.test,6\n"
        "1,South,1,m2@example.test,7\n"  # same group number, other part: never met
        "2,North,2,m1@example.test,5\n"
        "2,North,2,m2@example.test,7\n"
    )
    problem = _problem_with_history(tmp_path)
    met = {
        (frozenset((problem.ids[a], problem.ids[b])), int(ago))
        for (a, b), ago in zip(
            problem.history.pairs.tolist(), problem.history.rounds_ago.tolist(), strict=True
        )
    }
    assert met == {
        (frozenset(("m1@example.test", "e1@example.test")), 2),
        (frozenset(("m1@example.test", "e3@example.test")), 2),
        (frozenset(("e1@example.test", "e3@example.test")), 2),
        (frozenset(("m1@example.test", "m2@example.test")), 1),
    }
    (tmp_path / "past.csv").write_text(
        "round,group,participant_id\nx,1,m1@example.test\nx,1,e1@example.test\n"
    )
    with pytest.raises(InputError) as caught:
        _problem_with_history(tmp_path)
    assert caught.value.lines[0].startswith(f'{tmp_path}/past.csv row 2, column "round"')


# --- priority: who is favoured ----------------------------------------------------------------


def _favoured(tmp_path, text: str, **priority: Any) -> np.ndarray:  # type: ignore[no-untyped-def]
    (tmp_path / "prev.csv").write_text(text, encoding="utf-8")
    scheme = _scheme(priority={"file": "prev.csv", "bonus": 5, **priority})
    problem = build_problem([_table(PROFILES_CSV)], scheme, base_dir=tmp_path)
    assert problem.favoured is not None
    return problem.favoured


def test_priority_reads_the_latest_round_of_unmatched_csv(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (
        "round,participant_id,role,reason\n"
        "1,e1@example.test,mentee,old\n"
        "2,E3@Example.test ,mentee,now\n"
        "2,gone@example.test,mentee,left since\n"
    )
    assert _favoured(tmp_path, text).tolist() == [False, False, False, False, True, False]


def test_priority_reads_trios_and_a_named_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    trios = "round,member_a,member_b,member_c\n1,m1@example.test,e1@example.test,\n"
    trios += "1,m2@example.test,e2@example.test,b1@example.test\n"
    assert _favoured(tmp_path, trios).tolist() == [False, True, False, True, False, True]
    plain = "who\ne2@example.test\n"
    assert _favoured(tmp_path, plain, column="Who").tolist()[3]


def test_priority_file_errors_name_file_row_and_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "prev.csv").write_text("round,name\nx,Ann\n", encoding="utf-8")
    scheme = _scheme(priority={"file": "prev.csv", "bonus": 5})
    with pytest.raises(InputError) as info:
        build_problem([_table(PROFILES_CSV)], scheme, base_dir=tmp_path)
    (line,) = info.value.lines
    assert "an id column for priority: is not in the file" in line and "prev.csv" in line
    assert "priority.column" in line and "Ann" not in line
    (tmp_path / "prev.csv").write_text("round,participant_id\nlast,e1@example.test\n")
    with pytest.raises(InputError) as info:
        build_problem([_table(PROFILES_CSV)], scheme, base_dir=tmp_path)
    (line,) = info.value.lines
    assert "prev.csv" in line and "row 2" in line and "round" in line and "whole number" in line
    missing = _scheme(priority={"file": "nowhere.csv", "bonus": 5})
    with pytest.raises(InputError, match=r"nowhere\.csv"):
        build_problem([_table(PROFILES_CSV)], missing, base_dir=tmp_path)


def test_priority_by_attribute() -> None:
    problem = _problem(priority={"attribute": "region", "values": ["north"], "bonus": 5})
    assert problem.favoured is not None
    assert problem.favoured.tolist() == [True, False, True, False, True, False]
