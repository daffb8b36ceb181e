"""Peak resident memory of this process, in MB.

Linux keeps ``ru_maxrss`` across ``exec``: a subprocess started by a parent
that once held 1.7 GB reports at least 1.7 GB whatever it used itself.  The
kernel's per-address-space high-water mark (``VmHWM`` in /proc/self/status)
starts afresh at ``exec``, so scenario workers read that; elsewhere they fall
back to ``ru_maxrss``.
"""

from __future__ import annotations

import resource
from pathlib import Path


def peak_mb() -> float:
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
