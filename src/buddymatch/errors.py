"""One exception tree for the whole package.

The CLI translates every :class:`BuddymatchError` into ``Error: ...`` lines and
the exception's ``exit_code``; anything else escaping is a bug.  Messages never
carry names or e-mails: only file names, row numbers, column headings and the
ids the user supplied.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_SHOWN_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: object) -> str:
    """``text`` safe to echo on a terminal or in a log: control and format characters escaped.

    Why: headings, file names and scheme values come from the user's files; a
    right-to-left override (U+202E), an ANSI escape or a newline echoed raw could
    disguise a message or forge extra ``Error:`` lines.  Every such character
    (Unicode categories Cc, Cf, Zl, Zp, surrogates, private and unassigned code
    points) becomes a visible escape (``\\u202e``, ``\\n``), so the user can
    still find it in the file.  Printable text, accents and non-Latin scripts
    are unchanged.
    """
    out = str(text)
    if out.isprintable():
        return out
    return "".join(_escape_char(ch) for ch in out)


_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _escape_char(ch: str) -> str:
    if ch in _SHOWN_CONTROLS:
        return _SHOWN_CONTROLS[ch]
    if unicodedata.category(ch) not in _HIDDEN:
        return ch
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


@dataclass(frozen=True)
class Issue:
    """One problem found in the input, located as precisely as we can.

    ``row`` is the 1-based line number a spreadsheet user sees (the header is
    row 1, the first person is row 2).
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    fix: str | None = None

    def __str__(self) -> str:
        """One line: ``file row N, column "X": message — fix``, with every part made printable."""
        where = []
        if self.file:
            where.append(printable(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        head = " ".join(where)
        if self.column is not None:
            column = printable(self.column)
            head = f'{head}, column "{column}"' if head else f'column "{column}"'
        message = printable(self.message)
        text = f"{head}: {message}" if head else message
        if self.fix:
            text = f"{text} — {printable(self.fix)}"
        return text


class BuddymatchError(Exception):
    """Base of every error the user can cause or act on.

    Attributes
    ----------
    issues : tuple of Issue
        Every problem found (possibly empty when the message says it all).
    exit_code : int
        What the command line exits with: 2 bad input or usage, 1 the rules
        cannot hold or the run failed.

    Examples
    --------
    >>> error = InputError(issues=[Issue("is blank", file="p.csv", row=3, column="Email")])
    >>> error.lines, error.exit_code
    (['p.csv row 3, column "Email": is blank'], 2)
    """

    exit_code = 2

    def __init__(self, message: str | None = None, issues: Iterable[Issue] = ()) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        if message is None:
            message = "\n".join(str(i) for i in self.issues)
        super().__init__(message)

    @property
    def lines(self) -> list[str]:
        """The message split into the lines the CLI prints, one per problem."""
        if self.issues:
            return [str(i) for i in self.issues]
        return [printable(line) for line in str(self).splitlines()] or [type(self).__name__]


class InputError(BuddymatchError):
    """Profiles or other data files are unreadable or inconsistent."""


class ConfigError(BuddymatchError):
    """The scheme file (or options) is invalid."""


class InfeasibleError(BuddymatchError):
    """The rules cannot all be met; the message says which and why."""

    exit_code = 1


class SolverError(BuddymatchError):
    """The solver failed, or its result failed the independent check (a bug)."""

    exit_code = 1
