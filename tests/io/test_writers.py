"""Output folder: atomic, formula-safe, deterministic, readable back."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buddymatch.errors import ConfigError, InputError
from buddymatch.io import atomic, writers
from buddymatch.io.writers import (
    csv_bytes,
    neutralise,
    read_results,
    write_csv,
    write_json,
    write_results,
)

SUMMARY: dict[str, Any] = {
    "scheme": "mentoring",
    "status": "optimal",
    "objective": 123.5,
    "bound": 123.5,
    "gap": 0.0,
    "matched": 2,
    "unmatched": 1,
    "solver": "min-cost-flow",
    "seed": 7,
    "runtime_s": 0.25,
    "version": "0.1.0",
    "input_hashes": {"profiles.csv": "ab12"},
}
DANGEROUS = ["=", "+", "-", "@", "\t", "\r"]


def matches() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "round": [1, 1],
            "mentor_id": ["007", "m2"],
            "mentee_id": ["e1", "e2"],
            "score": [71.25, 40.0],
            "same_region": [1.0, 0.0],
            "explanation": ["shares: region", 'says "hi", then\nnew line'],
        }
    )


def unmatched() -> pd.DataFrame:
    return pd.DataFrame(
        {"round": [1], "participant_id": ["e3"], "role": ["mentee"], "reason": ["no mentor left"]}
    )


def tables() -> dict[str, pd.DataFrame]:
    return {"unmatched": unmatched(), "matches": matches()}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# ----------------------------------------------------------------- folder contract


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_writes_the_contract_files(tmp_path: Path, fmt: str) -> None:
    paths = write_results(tmp_path / "out", tables(), SUMMARY, fmt=fmt)
    names = [p.name for p in paths]
    if fmt == "csv":
        assert names == ["matches.csv", "summary.json", "unmatched.csv"]
    else:
        assert names == ["results.xlsx", "summary.json"]
    assert all(p.is_file() for p in paths)
    assert leftovers(tmp_path) == []


def test_refuses_a_non_empty_folder_with_the_exact_message(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(InputError) as caught:
        write_results(out, tables(), SUMMARY)
    assert str(caught.value) == (
        f'Output folder "{out}" already exists and is not empty — '
        "choose another folder or pass --force to replace it"
    )
    assert caught.value.exit_code == 2
    assert snapshot(out) == {"keep.txt": b"mine"}
    assert leftovers(tmp_path) == []


def test_refuses_a_file_as_output_folder(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        write_results(target, tables(), SUMMARY, force=True)
    assert target.read_text() == "x"


def test_an_existing_empty_folder_is_replaced_with_one_rename(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_results(out, tables(), SUMMARY)
    assert sorted(snapshot(out)) == ["matches.csv", "summary.json", "unmatched.csv"]
    assert leftovers(tmp_path) == []


def test_the_working_folder_is_filled_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    inode = here.stat().st_ino
    write_results(".", tables(), SUMMARY)
    assert here.stat().st_ino == inode  # the shell that ran `-o .` still sees the files
    assert sorted(os.listdir(".")) == ["matches.csv", "summary.json", "unmatched.csv"]


def test_failed_fill_of_the_working_folder_leaves_it_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if Path(dst).name == "summary.json":
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(InputError, match="disk full"):
        write_results(".", tables(), SUMMARY)
    assert list(here.iterdir()) == []
    assert leftovers(tmp_path) == []


def test_force_replaces_the_old_folder_entirely(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_results(out, {"matches": matches(), "extra": unmatched()}, SUMMARY)
    write_results(out, tables(), SUMMARY, force=True)
    assert sorted(snapshot(out)) == ["matches.csv", "summary.json", "unmatched.csv"]
    assert leftovers(tmp_path) == []


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("conversion failed mid-write")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_failure_mid_write_keeps_the_old_folder_and_cleans_up(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "out"
    write_results(out, tables(), SUMMARY, fmt=fmt)
    before = snapshot(out)
    bad = unmatched().assign(reason=pd.Series([Unprintable()], dtype=object))
    # matches.csv is written to the staging folder before unmatched fails
    with pytest.raises(RuntimeError, match="mid-write"):
        write_results(out, {"matches": matches(), "unmatched": bad}, SUMMARY, fmt=fmt, force=True)
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_failure_on_a_fresh_target_leaves_nothing(tmp_path: Path) -> None:
    bad = unmatched().assign(reason=pd.Series([Unprintable()], dtype=object))
    with pytest.raises(RuntimeError):
        write_results(tmp_path / "out", {"unmatched": bad}, SUMMARY)
    assert list(tmp_path.iterdir()) == []


def test_failed_swap_puts_the_old_folder_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an atomic exchange (other systems), the old folder is put back on failure."""
    out = tmp_path / "out"
    write_results(out, tables(), SUMMARY)
    before = snapshot(out)
    real_rename = os.rename

    def rename(src: Any, dst: Any) -> None:
        if Path(src).name.startswith(".out.tmp-"):
            raise OSError("disk full")
        real_rename(src, dst)

    monkeypatch.setattr(atomic, "_EXCHANGE", None)
    monkeypatch.setattr(atomic.os, "rename", rename)
    with pytest.raises(InputError, match=r'Cannot write output folder ".*out": disk full'):
        write_results(out, {"matches": matches()}, SUMMARY, force=True)
    monkeypatch.undo()
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_failed_exchange_keeps_the_old_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_results(out, tables(), SUMMARY)
    before = snapshot(out)

    def exchange(a: Path, b: Path) -> bool:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(atomic, "exchange", exchange)
    with pytest.raises(InputError, match="Invalid cross-device link"):
        write_results(out, {"matches": matches()}, SUMMARY, force=True)
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_relative_dot_target_and_permission_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert next(p.name for p in write_results(".", tables(), SUMMARY)) == "matches.csv"
    assert sorted(os.listdir(".")) == ["matches.csv", "summary.json", "unmatched.csv"]

    def refuse(path: Any, mode: int = 0o777) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(writers.os, "mkdir", refuse)
    with pytest.raises(InputError) as caught:
        write_results(tmp_path / "elsewhere", tables(), SUMMARY)
    assert str(caught.value) == (
        f'Cannot write output folder "{tmp_path / "elsewhere"}": Permission denied'
    )


def test_unknown_format_and_bad_table_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='Unknown output format "pdf"'):
        write_results(tmp_path / "a", tables(), SUMMARY, fmt="pdf")
    for name in ["summary", "bad/name", "x" * 32, ""]:
        with pytest.raises(ValueError, match="table name"):
            write_results(tmp_path / "b", {name: matches()}, SUMMARY)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------- formula injection


@pytest.mark.parametrize("prefix", DANGEROUS)
def test_csv_neutralises_dangerous_text(tmp_path: Path, prefix: str) -> None:
    frame = pd.DataFrame({"note": [prefix + "cmd|' /C calc'!A0"], "n": [1]})
    rows = list(csv.reader(io.StringIO(csv_bytes(frame).decode(), newline="")))
    assert rows[1] == ["'" + prefix + "cmd|' /C calc'!A0", "1"]
    assert neutralise(prefix + "x") == "'" + prefix + "x"


def test_headings_and_object_columns_are_neutralised_numbers_are_not() -> None:
    frame = pd.DataFrame(
        {
            "=SUM(A1)": ["-1", "safe"],
            "mixed": pd.Series([-3, "@x"], dtype=object),
            "ints": [-3, 4],
            "floats": [-2.5, 0.00001],
        }
    )
    assert csv_bytes(frame).decode() == (
        "'=SUM(A1),mixed,ints,floats\n'-1,-3,-3,-2.5\nsafe,'@x,4,0.00001\n"
    )
    assert neutralise("a=b") == "a=b"
    assert neutralise("") == ""


@pytest.mark.parametrize("prefix", DANGEROUS)
def test_xlsx_text_cells_are_strings_never_formulas(tmp_path: Path, prefix: str) -> None:
    frame = pd.DataFrame({"note": [prefix + "1+1", "#N/A"], "score": [-4, -0.5]})
    write_results(tmp_path / "out", {"matches": frame}, SUMMARY, fmt="xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "out" / "results.xlsx")["matches"]
    note, error_like = sheet["A2"], sheet["A3"]
    assert note.data_type == "s"
    assert note.value.startswith("'" + prefix.replace("\r", "\n"))  # XML turns CR into LF
    assert (error_like.data_type, error_like.value) == ("s", "#N/A")
    assert [(c.data_type, c.value) for c in sheet["B"][1:]] == [("n", -4), ("n", -0.5)]


def test_xlsx_summary_sheet_holds_key_value_rows(tmp_path: Path) -> None:
    write_results(tmp_path / "out", tables(), SUMMARY, fmt="xlsx")
    book = openpyxl.load_workbook(tmp_path / "out" / "results.xlsx")
    assert book.sheetnames == ["matches", "unmatched", "summary"]
    rows = dict(book["summary"].iter_rows(min_row=2, values_only=True))
    assert rows["scheme"] == "mentoring"
    assert rows["matched"] == 2
    assert json.loads(rows["input_hashes"]) == {"profiles.csv": "ab12"}


# ------------------------------------------------------------------- determinism


def test_csv_formatting_rules() -> None:
    frame = pd.DataFrame(
        {
            "f": [1.0, 1e-05, math.nan, 0.1 + 0.2],
            "b": [True, False, True, False],
            "nb": pd.Series([True, None, False, None], dtype="boolean"),
            "ni": pd.Series([1, None, 3, None], dtype="Int64"),
            "lists": pd.Series([["a", "b"], {"z", "y"}, None, ()], dtype=object),
        }
    )
    assert csv_bytes(frame).decode() == (
        "f,b,nb,ni,lists\n"
        "1.0,true,true,1,a;b\n"
        "0.00001,false,,,y;z\n"
        ",true,false,3,\n"
        "0.30000000000000004,false,,,\n"
    )
    assert csv_bytes(pd.DataFrame()) == b""
    assert csv_bytes(pd.DataFrame({"only": [""]})) == b'only\n""\n'


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_repeat_writes_are_byte_identical(tmp_path: Path, fmt: str) -> None:
    first = write_results(tmp_path / "a", tables(), SUMMARY, fmt=fmt)
    reordered = {"matches": matches(), "unmatched": unmatched()}
    summary = dict(reversed(list(SUMMARY.items())))
    second = write_results(tmp_path / "b", reordered, summary, fmt=fmt)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_xlsx_dates_are_pinned(tmp_path: Path) -> None:
    write_results(tmp_path / "out", tables(), SUMMARY, fmt="xlsx")
    with zipfile.ZipFile(tmp_path / "out" / "results.xlsx") as archive:
        infos = archive.infolist()
        core = archive.read("docProps/core.xml").decode()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert "1980-01-01T00:00:00Z</dcterms:created>" in core
    assert "1980-01-01T00:00:00Z</dcterms:modified>" in core


# --------------------------------------------------------------------------- JSON


def test_write_json_is_sorted_typed_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("old")
    data = {
        "b": np.float64("nan"),
        "a": np.int64(3),
        "c": [np.bool_(True), float("inf"), {"z": 1, "y": None}],
        "d": np.array([1.5, 2.5]),
        "e": {"b", "a"},
    }
    write_json(path, data)
    assert path.read_text() == (
        "{\n"
        '  "a": 3,\n'
        '  "b": null,\n'
        '  "c": [\n    true,\n    null,\n    {\n      "y": null,\n      "z": 1\n    }\n  ],\n'
        '  "d": [\n    1.5,\n    2.5\n  ],\n'
        '  "e": [\n    "a",\n    "b"\n  ]\n'
        "}\n"
    )
    assert leftovers(tmp_path) == []
    with pytest.raises(TypeError, match="cannot be written as JSON"):
        write_json(path, {"x": object()})
    assert json.loads(path.read_text())["a"] == 3


def test_write_csv_replaces_a_single_file(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("old")
    write_csv(path, matches())
    assert path.read_bytes() == csv_bytes(matches())
    with pytest.raises(RuntimeError):
        write_csv(path, pd.DataFrame({"x": [Unprintable()]}))
    assert path.read_bytes() == csv_bytes(matches())
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------------ reading


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_read_results_round_trip(tmp_path: Path, fmt: str) -> None:
    write_results(tmp_path / "out", tables(), SUMMARY, fmt=fmt)
    read, summary = read_results(tmp_path / "out")
    assert summary == SUMMARY
    assert sorted(read) == ["matches", "unmatched"]
    expected = matches()
    if fmt == "xlsx":  # Excel stores 1.0 as 1: integral floats come back as ints
        expected["same_region"] = expected["same_region"].astype("int64")
    pd.testing.assert_frame_equal(read["matches"], expected, check_dtype=False)
    assert read["matches"]["mentor_id"].tolist() == ["007", "m2"]  # ids stay text
    assert read["matches"]["score"].dtype == np.float64
    pd.testing.assert_frame_equal(read["unmatched"], unmatched(), check_dtype=False)


def test_read_results_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_results(tmp_path / "nope")
    (tmp_path / "out").mkdir()
    with pytest.raises(InputError, match=r"has no summary\.json"):
        read_results(tmp_path / "out")
    (tmp_path / "out" / "summary.json").write_text("{broken")
    with pytest.raises(InputError, match=r"summary\.json: is not valid JSON"):
        read_results(tmp_path / "out")
    (tmp_path / "out" / "summary.json").write_text("{}")
    (tmp_path / "out" / "matches.csv").write_text("a,b\n1,2\n3\n")
    with pytest.raises(InputError, match=r"matches\.csv row 3: has 1 cells"):
        read_results(tmp_path / "out")


def test_read_accepts_a_csv_saved_by_excel(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_results(out, tables(), SUMMARY)
    (out / "unmatched.csv").write_bytes(
        b"\xef\xbb\xbfround,participant_id,role,reason\r\n1,e3,mentee,no mentor left\r\n"
    )
    read, _ = read_results(out)
    pd.testing.assert_frame_equal(read["unmatched"], unmatched(), check_dtype=False)


# --------------------------------------------------------------------- properties

CELL_TEXT = st.text(max_size=8)
COLUMNS = st.one_of(
    st.lists(st.one_of(CELL_TEXT, st.none()), min_size=3, max_size=3),
    st.lists(st.integers(-(2**62), 2**62), min_size=3, max_size=3),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=3, max_size=3),
    st.lists(st.booleans(), min_size=3, max_size=3),
    st.lists(st.one_of(st.integers(-9, 9), st.floats(-9, 9), CELL_TEXT), min_size=3, max_size=3),
)
TABLE = st.lists(COLUMNS, min_size=1, max_size=4).map(
    lambda cols: pd.DataFrame(
        {
            f"c{i}": pd.Series(c, dtype=object if any(isinstance(v, str) for v in c) else None)
            for i, c in enumerate(cols)
        }
    )
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TABLE)
def test_csv_write_read_write_is_byte_identical(frame: pd.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write_results(Path(tmp) / "a", {"t": frame}, {})
        read, _ = read_results(Path(tmp) / "a")
        write_results(Path(tmp) / "b", read, {})
        assert (Path(tmp) / "a" / "t.csv").read_bytes() == (Path(tmp) / "b" / "t.csv").read_bytes()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(CELL_TEXT, min_size=2, max_size=2), max_size=5))
def test_text_tables_round_trip_cell_by_cell(rows: list[list[str]]) -> None:
    """Arbitrary text comes back as written (neutralising undone exactly, ids and
    other text alike), empty text comes back missing, canonical numbers and bools
    come back typed."""
    frame = pd.DataFrame(rows, columns=["a", "b_id"], dtype=object)
    with tempfile.TemporaryDirectory() as tmp:
        write_results(Path(tmp) / "out", {"t": frame}, {})
        read, _ = read_results(Path(tmp) / "out")
    back = read["t"]
    assert list(back.columns) == ["a", "b_id"]
    assert len(back) == len(rows)
    for i, (a, b) in enumerate(rows):
        text, ident = back["a"].iloc[i], back["b_id"].iloc[i]
        if a == "":
            assert pd.isna(text)
        else:  # _scalar unwraps numpy scalars and neutralises again
            assert writers._cell_text(writers._scalar(text)) == neutralise(a)
        if b == "":
            assert pd.isna(ident)
        else:  # ids come back as given, "'=x" included: neutralise is injective
            assert ident == b


XLSX_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(XLSX_TEXT, st.integers(-1000, 1000)), min_size=1, max_size=4))
def test_xlsx_text_round_trips(rows: list[tuple[str, int]]) -> None:
    frame = pd.DataFrame(rows, columns=["note", "n"])
    with tempfile.TemporaryDirectory() as tmp:
        write_results(Path(tmp) / "out", {"t": frame}, {}, fmt="xlsx")
        back = read_results(Path(tmp) / "out")[0]["t"]
    expected = [text or None for text, _ in rows]
    got = [None if pd.isna(v) else v for v in back["note"].astype(object)]
    assert got == expected
    assert back["n"].tolist() == [n for _, n in rows]


def test_csv_bytes_are_utf8_without_bom() -> None:
    data = csv_bytes(pd.DataFrame({"name": ["Zoë"]}))
    assert data == "name\nZoë\n".encode()
    assert io.BytesIO(data).read(3) != b"\xef\xbb\xbf"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_ids_are_neutralised_on_disk_but_read_back_as_given(tmp_path: Path, fmt: str) -> None:
    frame = pd.DataFrame({"participant_id": ["-17", "+44 7700", "=x", "007"], "note": ["-17"] * 4})
    write_results(tmp_path / "out", {"unmatched": frame}, {}, fmt=fmt)
    if fmt == "csv":
        on_disk = (tmp_path / "out" / "unmatched.csv").read_text()
        assert on_disk.splitlines()[1:3] == ["'-17,'-17", "'+44 7700,'-17"]
    back = read_results(tmp_path / "out")[0]["unmatched"]
    assert back["participant_id"].tolist() == ["-17", "+44 7700", "=x", "007"]
    assert back["note"].tolist() == ["-17"] * 4  # text, not the number -17


@given(st.text(max_size=12))
def test_unneutralise_is_the_exact_inverse(text: str) -> None:
    from buddymatch.io.writers import unneutralise

    written = neutralise(text)
    assert unneutralise(written) == text
    assert not written.lstrip("'").startswith(tuple(DANGEROUS)) or written.startswith("'")


def test_text_that_looks_neutralised_gets_one_more_quote() -> None:
    from buddymatch.io.writers import unneutralise

    assert neutralise("'=x") == "''=x" and unneutralise("''=x") == "'=x"
    assert neutralise("'Tis") == "'Tis" and unneutralise("'Tis") == "'Tis"
    assert neutralise("''") == "''"
