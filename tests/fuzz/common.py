"""Shared pieces of the fuzz targets: settings per profile, mutations, markers, checks.

Two profiles (``BUDDYMATCH_FUZZ_PROFILE``):

* ``fuzz-fast`` (default): a few dozen inputs per target, part of ``make test``;
* ``fuzz``: thousands per target, ``make fuzz`` (minutes).

Every target checks the same property: reading or validating the input either
succeeds or raises a :class:`~buddymatch.errors.BuddymatchError` (exit code 1
or 2), and no message contains a marker value planted in a data cell.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from buddymatch.errors import BuddymatchError

settings.register_profile(
    "fuzz-fast",
    max_examples=25,
    deadline=None,
    derandomize=True,  # make test stays reproducible
    suppress_health_check=list(HealthCheck),
    database=None,
)
settings.register_profile(
    "fuzz",
    max_examples=3000,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
PROFILE = os.environ.get("BUDDYMATCH_FUZZ_PROFILE", "fuzz-fast")
FUZZ = settings(settings.get_profile(PROFILE))

# Personal data planted in cells: must never appear in a message.
EMAILS = [f"pii.{i:04d}@example.test" for i in range(1, 9)]
NAMES = [f"Pii Person{i:04d}" for i in range(1, 9)]
_HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
MARKER = re.compile(r"pii\.\d{4}@example\.test|Pii Person\d{4}")

INTERESTING = [
    b",",
    b";",
    b"\t",
    b'"',
    b"\n",
    b"\r",
    b"\r\n",
    b"\x00",
    b"\xef\xbb\xbf",
    "\u202e".encode(),
    b"'",
    b"=",
    b"@",
    b"\xff",
    b"9" * 30,
    b"1e400",
    b"nan",
    b"-",
]


@st.composite
def mutated(draw: Any, base: bytes, extra: Iterable[bytes] = ()) -> bytes:
    """``base`` with a few byte-level edits: flips, inserts, deletes, copies, cuts."""
    data = bytearray(base)
    pieces = [*INTERESTING, *extra]
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            data = bytearray(draw(st.binary(max_size=50)))
            continue
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "insert", "delete", "copy", "cut", "piece"]))
        if op == "flip":
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "copy":
            end = min(len(data), at + draw(st.integers(1, 200)))
            data[at:at] = data[at:end] * draw(st.integers(1, 4))
        elif op == "cut":
            del data[at:]
        else:
            data[at:at] = draw(st.sampled_from(pieces))
    return bytes(data)


@st.composite
def mutated_text(draw: Any, base: str, extra: Iterable[str] = ()) -> str:
    """``base`` with line-level edits (repeat, move, indent, drop) and character edits."""
    lines = base.splitlines()
    pieces = [*extra, "\u202e", "\t", "  ", "[", "]", "{", "}", "&a ", "*a", ": ", "- ", '"']
    for _ in range(draw(st.integers(1, 5))):
        if not lines:
            lines = [draw(st.text(max_size=30))]
        k = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["repeat", "move", "indent", "drop", "piece", "text"]))
        if op == "repeat":
            lines.insert(k, lines[k])
        elif op == "move":
            lines.insert(draw(st.integers(0, len(lines) - 1)), lines.pop(k))
        elif op == "indent":
            lines[k] = "  " + lines[k]
        elif op == "drop":
            del lines[k]
        elif op == "piece":
            at = draw(st.integers(0, len(lines[k])))
            lines[k] = lines[k][:at] + draw(st.sampled_from(pieces)) + lines[k][at:]
        else:
            lines[k] = draw(st.text(max_size=40))
    return "\n".join(lines) + "\n"


def only_buddymatch_errors(
    run: Callable[[], object], *, forbidden: Iterable[str] = ()
) -> BuddymatchError | None:
    """Run; a BuddymatchError is returned (exit 1 or 2), anything else fails the test.

    The error's lines must not contain a marker value, nor any of ``forbidden``.
    """
    try:
        run()
    except BuddymatchError as exc:
        assert exc.exit_code in (1, 2)
        text = "\n".join(exc.lines)
        leaked = MARKER.findall(text) + [f for f in forbidden if f and f in text]
        assert not leaked, f"cell values in a message: {leaked}\n{text}"
        hidden = [c for c in text if unicodedata.category(c) in _HIDDEN and c != "\n"]
        assert not hidden, f"unescaped control characters in a message: {hidden!r}"
        return exc
    return None


class Counter:
    """Inputs tried by one target (reported as inputs/second at the end of the run)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> None:
        self.n += 1


@pytest.fixture
def inputs(request: pytest.FixtureRequest) -> Any:
    counter = Counter()
    yield counter
    request.node.user_properties.append(("fuzz_inputs", counter.n))
