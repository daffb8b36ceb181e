"""Peak resident memory of a process, and workers run in a fresh one.

Linux keeps ``ru_maxrss`` across ``exec``: a subprocess started by a parent
that once held 1.7 GB reports at least 1.7 GB whatever it used itself.  The
kernel's per-address-space high-water mark (``VmHWM`` in /proc/self/status)
starts afresh at ``exec``, so scenario workers read that; elsewhere they fall
back to ``ru_maxrss``.  :func:`in_fresh_process` runs a scenario's worker in
a new interpreter, so its imports, kernel loading and peak memory are its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any


def peak_mb() -> float:
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def in_fresh_process(module: str, function: str, *args: object) -> dict[str, Any]:
    """``module.function(*args)`` in a new Python process; its JSON-able dict result.

    ``args`` are plain values (their ``repr`` is the call's source).
    """
    code = f"import json; from {module} import {function}; print(json.dumps({function}(*{args!r})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
