"""The real CLI on adversarial inputs under 1 MB, in a subprocess capped at 1 GB of address
space and 60 s: it must exit 0, 1, 2 or 130, say what is wrong, and print no cell value.

Each case is a regression test for a hang, a blow-up or an internal error found
by hand or by the fuzz targets (alias bombs, deep nesting, XLSX row numbers near
10⁹, cells in the last column, unused shared strings, FIFOs, ``-o .``).
"""

from __future__ import annotations

import io
import os
import random
import resource
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from .base import PROFILES, SCHEME, workbook
from .common import MARKER

MEMORY = 1 << 30  # bytes of address space
SECONDS = 60
MB = 1 << 20
BUDDYMATCH = str(Path(sys.executable).with_name("buddymatch"))
VALIDATE = ["validate", "profiles.csv", "-c", "scheme.yaml"]


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_capped(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [BUDDYMATCH, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SECONDS,
        preexec_fn=_cap,
        env=env,
    )


def _sheet(rows: str) -> bytes:
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    return f'<worksheet xmlns="{ns}"><sheetData>{rows}</sheetData></worksheet>'.encode()


def _book(parts: dict[str, bytes]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(workbook(shared_strings=True))) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members.update(parts)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


HEAD = '<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c></row>'


def _laughs() -> str:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 12)]
    return "\n".join(lines) + "\n"


def _unused_strings() -> bytes:
    """The workbook's own shared strings, then 120,000 random ones no cell uses."""
    with zipfile.ZipFile(io.BytesIO(workbook(shared_strings=True))) as zf:
        used = zf.read("xl/sharedStrings.xml").decode()
    rng = random.Random(7)
    # random text: does not compress into a "zip bomb", about 1 MB packed
    extra = "".join(f"<si><t>{rng.getrandbits(40):x}</t></si>" for _ in range(120_000))
    return used.replace("</sst>", extra + "</sst>").encode()


def _with(profiles: str | bytes, scheme: str, name: str = "profiles.csv") -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        data = profiles.encode() if isinstance(profiles, str) else profiles
        (folder / name).write_bytes(data)
        (folder / "scheme.yaml").write_text(scheme, encoding="utf-8")

    return make


def _fifo(name: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        _with(PROFILES, SCHEME)(folder)
        (folder / name).unlink(missing_ok=True)
        os.mkfifo(folder / name)

    return make


ROW_FAR = '<row r="999999999"><c r="A999999999" t="inlineStr"><is><t>x</t></is></c></row>'
LAST_COLUMN = "".join(
    f'<row r="{i}"><c r="A{i}"><v>{i}</v></c><c r="XFD{i}"><v>1</v></c></row>'
    for i in range(2, 12_000)
)
WIDE_ROW = '<row r="1">' + "<c/>" * 200_000 + "</row>"
CASES: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "yaml alias bomb": (_with(PROFILES, _laughs()), VALIDATE),
    "yaml recursive anchor": (_with(PROFILES, "a: &a [*a]\n" + SCHEME), VALIDATE),
    "yaml deep nesting": (_with(PROFILES, "[" * 400_000 + "]" * 400_000), VALIDATE),
    "yaml repeated rules key": (_with(PROFILES, SCHEME + "rules: []\n"), VALIDATE),
    "toml deep nesting": (
        _with(PROFILES, ""),
        ["validate", "profiles.csv", "-c", "deep.toml"],
    ),
    "xlsx row near 10^9": (
        _with(_book({"xl/worksheets/sheet1.xml": _sheet(HEAD + ROW_FAR)}), SCHEME, "p.xlsx"),
        ["validate", "p.xlsx", "-c", "scheme.yaml"],
    ),
    "xlsx cells in the last column": (
        _with(_book({"xl/worksheets/sheet1.xml": _sheet(HEAD + LAST_COLUMN)}), SCHEME, "p.xlsx"),
        ["validate", "p.xlsx", "-c", "scheme.yaml"],
    ),
    "xlsx a row of 200,000 cells": (
        _with(
            _book(
                {"xl/worksheets/sheet1.xml": _sheet('<row r="1">' + "<c/>" * 200_000 + "</row>")}
            ),
            SCHEME,
            "p.xlsx",
        ),
        ["validate", "p.xlsx", "-c", "scheme.yaml"],
    ),
    "xlsx unused shared strings": (
        _with(_book({"xl/sharedStrings.xml": _unused_strings()}), SCHEME, "p.xlsx"),
        ["validate", "p.xlsx", "-c", "scheme.yaml"],
    ),
    "csv wide heading, many lines": (
        _with(",".join(f"h{i}" for i in range(30_000)) + "\n" + "x\n" * 300_000, SCHEME),
        VALIDATE,
    ),
    "csv one huge quoted value": (
        _with(PROFILES.replace("Org A", '"' + "A" * 900_000 + '"', 1), SCHEME),
        VALIDATE,
    ),
    "csv cut mid-row": (_with(PROFILES.rstrip("\n")[:-12], SCHEME), VALIDATE),
    "fifo profiles": (_fifo("profiles.csv"), VALIDATE),
    "fifo scheme": (_fifo("scheme.yaml"), VALIDATE),
    "seed beyond 64 bits": (
        _with(PROFILES, SCHEME),
        ["match", "profiles.csv", "-c", "scheme.yaml", "-o", "out", "--seed", str(2**70)],
    ),
    "infinite time limit": (
        _with(PROFILES, SCHEME),
        ["match", "profiles.csv", "-c", "scheme.yaml", "-o", "out", "--time-limit", "inf"],
    ),
    "output over the inputs": (
        _with(PROFILES, SCHEME),
        ["match", "profiles.csv", "-c", "scheme.yaml", "-o", ".", "--force"],
    ),
}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only (FIFOs, setrlimit)")
@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_stays_within_1_gb_and_60_s(case: str, tmp_path: Path) -> None:
    make, args = CASES[case]
    make(tmp_path)
    if case == "toml deep nesting":
        (tmp_path / "deep.toml").write_text("a = " + "[" * 400_000 + "]" * 400_000)
    sizes = [p.stat().st_size for p in tmp_path.iterdir() if p.is_file()]
    assert max(sizes) < MB, "the adversarial input must stay under 1 MB"
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run_capped(args, tmp_path)
    printed = done.stdout + done.stderr
    assert done.returncode in (0, 1, 2, 130), printed[-2000:]
    assert "Traceback" not in printed and "internal error" not in printed, printed[-2000:]
    assert not MARKER.findall(printed)
    if done.returncode == 2:
        assert done.stderr.startswith("Error: ")
    assert set(before) <= {p.name for p in tmp_path.iterdir()}  # no input was deleted
