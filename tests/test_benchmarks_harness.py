"""The benchmark harness keeps RESULTS.md's order when one scenario is re-run."""

from __future__ import annotations

from benchmarks.run import merge_sections


def test_a_rerun_section_keeps_its_place_and_the_rest_stay() -> None:
    previous = "# Benchmark results\n\nheader\n\n## A\n\na1\n\n## B\n\nb1\n\n## C\n\nc1\n"
    merged = merge_sections(previous, ["## B\n\nb2\n", "## D\n\nd1\n"])
    assert [m.split("\n", 1)[0] for m in merged] == ["## A", "## B", "## C", "## D"]
    assert merged[1] == "## B\n\nb2\n" and "a1" in merged[0] and "c1" in merged[2]
    assert merge_sections("", ["## B\n\nb2\n"]) == ["## B\n\nb2\n"]
