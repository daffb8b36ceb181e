"""Messages are safe to print: control and format characters from files are escaped."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from buddymatch.errors import InputError, Issue, printable


def test_printable_escapes_what_could_disguise_a_message() -> None:
    assert printable("Reg\u202eion") == "Reg\\u202eion"  # right-to-left override
    assert printable("x\x1b[31mred") == "x\\x1b[31mred"  # ANSI escape
    assert printable("a\nError: forged") == "a\\nError: forged"
    assert printable("zero\u200bwidth") == "zero\\u200bwidth"
    assert printable("Zoë, 中文, Ψ and spaces") == "Zoë, 中文, Ψ and spaces"


def test_issue_escapes_every_part() -> None:
    issue = Issue("bad\u202e", file="a\nb.csv", row=3, column="x\ty", fix="use\u2066 this")
    assert str(issue) == 'a\\nb.csv row 3, column "x\\ty": bad\\u202e — use\\u2066 this'


def test_plain_error_lines_are_escaped() -> None:
    assert InputError('Output folder "a\u202eb" is a file').lines == [
        'Output folder "a\\u202eb" is a file'
    ]


@given(st.text())
def test_printed_issues_hold_only_printable_text(text: str) -> None:
    line = str(Issue(text, file=text, column=text, fix=text))
    assert "\n" not in line and "\r" not in line
    hidden = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
    assert not [ch for ch in line if unicodedata.category(ch) in hidden]
