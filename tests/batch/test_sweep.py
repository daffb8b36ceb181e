"""OUT/sweep.html from batch rows (no cluster: rows made here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from buddymatch.batch import load_manifest, plan_runs
from buddymatch.batch.sweep import write_sweep_report
from buddymatch.batch.worker import base_row

ROOT = Path(__file__).resolve().parents[2]


def _rows(plan: Any) -> dict[str, dict[str, Any]]:
    rows = {}
    for k, spec in enumerate(plan.runs):
        row = base_row(spec)
        if k == 4:
            row.update(status="failed", error="rules cannot all hold <script>")
        else:
            row.update(status="optimal", participants=150, matched=130 + k, mean_score=60.0 + k)
        rows[spec.name] = row
    return rows


def test_sweep_page_plots_each_setting_and_is_self_contained(tmp_path: Path) -> None:
    manifest = load_manifest(ROOT / "examples" / "gap-sweep.yaml")
    plan = plan_runs(manifest, tmp_path)
    rows = _rows(plan)
    path = write_sweep_report(tmp_path, manifest, plan, rows)
    assert path == tmp_path / "sweep.html"
    page = path.read_text(encoding="utf-8")
    assert page.count("<circle") == 8  # the failed setting has no point
    assert "max=2, weight=1" in page and "1 setting(s) failed" in page
    assert "&lt;script&gt;" in page and "<script" not in page
    assert not re.search(r"(src|href)=\"?(https?:)?//", page)
    assert "default-src 'none'" in page
    again = write_sweep_report(tmp_path, manifest, plan, dict(reversed(rows.items())))
    assert again is not None and again.read_bytes() == page.encode("utf-8")  # no clock, no order


def test_no_sweep_no_page(tmp_path: Path) -> None:
    manifest = load_manifest(ROOT / "examples" / "regions.yaml")
    plan = plan_runs(manifest, tmp_path)
    assert write_sweep_report(tmp_path, manifest, plan, {}) is None
    assert not (tmp_path / "sweep.html").exists()
