"""Benchmark harness: runs every scenario module and writes benchmarks/RESULTS.md.

Each scenario module ``benchmarks/scenario_*.py`` exposes
``run(quick: bool) -> str`` returning a Markdown section.  Scenarios time
buddymatch side by side with a baseline in the same process and run, and
report ratios (not absolute seconds as goals) and peak memory.

    python -m benchmarks.run                # every scenario, full size
    python -m benchmarks.run --quick        # small sizes, a smoke run (RESULTS-quick.md)
    python -m benchmarks.run mentoring      # scenarios whose name contains "mentoring"
    python -m benchmarks.run peer           # exactly scenario_peer (an exact name wins)
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import platform
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help="run scenarios whose name contains any of these")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument(
        "--output", help="default RESULTS.md, or RESULTS-quick.md with --quick (never mixed)"
    )
    args = parser.parse_args()
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("scenario_")
    )
    if args.only:
        # a scenario's exact name picks that one ("peer": not also peer_odd and peer_run)
        names = [
            n
            for n in names
            if any(
                n == f"scenario_{o}" or (f"scenario_{o}" not in names and o in n) for o in args.only
            )
        ]
    sections = []
    for name in names:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        sections.append(module.run(quick=args.quick))
    header = (
        "# Benchmark results\n\n"
        f"Written by `python -m benchmarks.run{' --quick' if args.quick else ''}` "
        f"on {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"Python {platform.python_version()}. Ratios compare runs made side by side "
        "in the same process on the same machine.\n\n"
    )
    out = Path(args.output or HERE / ("RESULTS-quick.md" if args.quick else "RESULTS.md"))
    previous = out.read_text() if out.exists() and args.only else ""
    sections = merge_sections(previous, sections)
    out.write_text(header + "\n\n".join(s.strip() + "\n" for s in sections))
    print(f"wrote {out}")


def merge_sections(previous: str, sections: list[str]) -> list[str]:
    """Sections re-run replace theirs where they stood in ``previous``; the rest are kept."""
    fresh = {sec.removeprefix("## ").split("\n", 1)[0]: sec for sec in sections}
    merged = []
    for old in previous.split("\n## ")[1:]:
        title = old.split("\n", 1)[0]
        merged.append(fresh.pop(title) if title in fresh else "## " + old)
    return [*merged, *fresh.values()]


if __name__ == "__main__":
    main()
