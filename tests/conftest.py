"""Shared fixtures: a small valid mentoring profile set and its scheme, written to tmp_path.

Generic on purpose (other test modules may use it): six people across three
organisations, the column headings of sample_data/, a scheme mapping them.
"""

# ruff: noqa: E501
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROFILES_CSV = """\
Email,Full name,Organisation,I want to be a,How many mentees can you take?,Band,Region,Areas you'd like support with,Areas you can offer
m1@example.test,Ann One,Org A,Mentor,2,Band 8a,North,,Finance; Leadership
m2@example.test,Bob Two,Org B,Mentor,,Band 8b,South,,Digital
e1@example.test,Cat Three,Org B,Mentee,,Band 6,North,Finance,
e2@example.test,Dan Four,Org A,Mentee,,Band 6,South,Digital; Leadership,
e3@example.test,Eve Five,Org C,Mentee,,Band 7,North,Leadership,
b1@example.test,Fay Six,Org C,Either,1,Band 8a,East,Finance,Digital
"""

SCHEME_YAML = """\
version: 1
scheme: mentoring
participants:
  id: Email
  role: {column: I want to be a, mentor: [Mentor], mentee: [Mentee], both: [Either]}
  capacity: {column: "How many mentees can you take?", default: 1}
  attributes:
    organisation: {column: Organisation}
    band: {column: Band, scale: [Band 5, Band 6, Band 7, Band 8a, Band 8b, Band 8c, Band 8d, Band 9]}
    region: {column: Region}
    interests: {column: "Areas you'd like support with", multi: ";"}
    expertise: {column: "Areas you can offer", multi: ";"}
rules:
  - different: organisation
  - gap: {attribute: band, min: 1, max: 3}
criteria:
  - overlap: {mentee: interests, mentor: expertise, weight: 5}
  - same: {attribute: region, weight: 3}
objective: max-matched
"""


@pytest.fixture
def valid_inputs(tmp_path: Path) -> tuple[Path, Path]:
    """(profiles.csv, scheme.yaml) in tmp_path; both valid together."""
    profiles = tmp_path / "profiles.csv"
    profiles.write_text(PROFILES_CSV, encoding="utf-8")
    scheme = tmp_path / "scheme.yaml"
    scheme.write_text(SCHEME_YAML, encoding="utf-8")
    return profiles, scheme


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """A temporary copy of sample_data/, constraints/ and examples/, made the working folder."""
    for folder in ("sample_data", "constraints", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


@pytest.fixture(scope="session")
def dask_scheduler() -> Iterator[str]:
    """The address of one LocalCluster (2 worker processes) shared by the batch tests.

    Started on first use only, closed at the end of the session (per xdist worker).
    """
    from buddymatch.batch import local_cluster

    with local_cluster(2) as cluster:
        yield str(cluster.scheduler_address)


# --- fuzz throughput: inputs per second per target, printed at the end of the run ----------

_FUZZ: dict[str, list[float]] = {}  # nodeid -> [inputs, seconds]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect each fuzz target's input count and run time (works under xdist too)."""
    if "/fuzz/" not in report.nodeid.replace("\\", "/"):
        return
    entry = _FUZZ.setdefault(report.nodeid, [0.0, 0.0])
    if report.when == "call":
        entry[1] = report.duration
    for key, value in report.user_properties:
        if key == "fuzz_inputs" and report.when == "teardown":
            entry[0] = float(value)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    counted = {k: v for k, v in _FUZZ.items() if v[0]}
    if not counted:
        return
    for nodeid, (n, seconds) in sorted(counted.items()):
        name = nodeid.split("::")[-1]
        terminalreporter.write_line(
            f"fuzz {name}: {n:.0f} inputs in {seconds:.1f} s ({n / max(seconds, 1e-9):.0f}/s)"
        )
    total = sum(v[0] for v in counted.values())
    seconds = sum(v[1] for v in counted.values())
    terminalreporter.write_line(
        f"fuzz total: {total:.0f} inputs in {seconds:.1f} s ({total / max(seconds, 1e-9):.0f} "
        "inputs/s)"
    )
