"""Open the files a user names: regular files only, never blocking, size-bounded.

Why: every path buddymatch reads (profiles, the scheme, forbid/lock/history/pairwise
files, a results folder) comes from the user.  ``open()`` on a named pipe (FIFO)
blocks until something writes to it, a device can stream forever, and a folder
cannot be read at all.  Each is refused up front with an exit-2 message, and the
file is then opened with ``O_NONBLOCK`` and checked again on the open descriptor,
so a file swapped for a FIFO between the check and the open cannot hang the run.

Callers may rely on: :func:`open_regular` and :func:`read_regular` either return
a regular file's handle/bytes or raise the given error class (an
:class:`~buddymatch.errors.InputError` by default) whose one issue names the
file and what it is instead.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import BuddymatchError, InputError, Issue

_KINDS = (
    (stat.S_ISDIR, "is a folder, not a file"),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a regular file"),
    (stat.S_ISCHR, "is a device, not a regular file"),
    (stat.S_ISBLK, "is a device, not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
)
_MB = 1024**2


def not_regular(mode: int) -> str | None:
    """Why a file of this ``st_mode`` cannot be read as data (None for a regular file)."""
    for test, message in _KINDS:
        if test(mode):
            return message
    return None if stat.S_ISREG(mode) else "is not a regular file"


def regular_file_issue(
    path: str | Path, label: str, fix: str = "give a regular file"
) -> Issue | None:
    """The problem with reading ``path`` as a data file, or None when it is a regular file."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return Issue("file not found", label, fix="check the folder and file name")
    except OSError as exc:
        return Issue(f"cannot be opened ({exc.strerror or type(exc).__name__})", label)
    message = not_regular(mode)
    return None if message is None else Issue(message, label, fix=fix)


def open_regular(
    path: str | Path,
    label: str,
    *,
    error: type[BuddymatchError] = InputError,
    fix: str = "give a regular file",
) -> BinaryIO:
    """Open ``path`` for binary reading if (and only if) it is a regular file."""
    issue = regular_file_issue(path, label, fix)
    if issue is not None:
        raise error(issues=[issue])
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise error(issues=[Issue(f"cannot be opened ({reason})", label)]) from None
    message = not_regular(os.fstat(fd).st_mode)
    if message is not None:  # swapped between the check and the open
        os.close(fd)
        raise error(issues=[Issue(message, label, fix=fix)])
    return os.fdopen(fd, "rb")


def read_regular(
    path: str | Path,
    label: str,
    *,
    max_bytes: int,
    error: type[BuddymatchError] = InputError,
    what: str = "file",
    fix: str = "give a regular file",
) -> bytes:
    """All bytes of a regular file no larger than ``max_bytes`` (else one clear issue)."""
    with open_regular(path, label, error=error, fix=fix) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise error(issues=[too_big(label, size, max_bytes, what)])
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while being read
        raise error(issues=[too_big(label, len(data), max_bytes, what)])
    return data


def too_big(label: str, size: int, limit: int, what: str = "file") -> Issue:
    """The issue for a file over its size limit (sizes in MB, limit named)."""
    return Issue(
        f"{what} is {size / _MB:.1f} MB, over the limit of {limit / _MB:.1f} MB",
        label,
        fix="is it the right file? (limits: docs/security.md)",
    )


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a regular file's bytes, read in chunks (for summary.json's inputs)."""
    digest = hashlib.sha256()
    with open_regular(path, os.fspath(path)) as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


__all__ = [
    "file_sha256",
    "not_regular",
    "open_regular",
    "read_regular",
    "regular_file_issue",
    "too_big",
]
