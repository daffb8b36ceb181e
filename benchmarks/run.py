"""Benchmark harness: runs every scenario module and writes benchmarks/RESULTS.md.

Each scenario module ``benchmarks/scenario_*.py`` exposes
``run(quick: bool) -> str`` returning a Markdown section.  Scenarios time
buddymatch side by side with a baseline in the same process and run, and
report ratios (not absolute seconds as goals) and peak memory.

    python -m benchmarks.run                # every scenario, full size
    python -m benchmarks.run --quick        # small sizes, a smoke run
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
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
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
    out = Path(args.output)
    previous = out.read_text() if out.exists() and args.only else ""
    if previous:
        # Keep sections of scenarios not re-run this time.
        kept = [
            s
            for s in previous.split("\n## ")[1:]
            if not any(s.startswith(sec.removeprefix("## ").split("\n", 1)[0]) for sec in sections)
        ]
        sections = [*sections, *("## " + s for s in kept)]
    out.write_text(header + "\n\n".join(s.strip() + "\n" for s in sections))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
