"""Writes that cannot lose anything: one rename commits, and the caller knows whether it did.

Why: an interrupted or killed run must leave either the old result or the new
one complete at the output path, never a half-filled folder, never only hidden
siblings, and the message printed afterwards must say which.

Callers may rely on:

* :func:`write_atomic` replaces one file with ``os.replace`` of a fsynced temp file.
* :func:`commit_folder` puts a fully written, fsynced staging folder at ``target``
  with **one** rename: on Linux ``renameat2(RENAME_EXCHANGE)`` swaps the staging
  folder and the existing target atomically, then the old content (now under the
  staging name) is deleted.  Where the exchange is unavailable (other systems,
  some network file systems) the old folder is renamed aside first and put back
  if the second rename fails; a kill between those two renames leaves the old
  result complete in a hidden ``.NAME.old-*`` sibling (documented in
  docs/security.md).  An empty existing folder that is this process's working
  folder (``-o .``) is filled file by file, ``summary.json`` last.
* The commit runs with SIGINT and SIGTERM held back, and :func:`committed` lists
  every path committed since :func:`forget_commits`, so an interrupt handler can
  tell "nothing was written" from "the results were written" truthfully.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

Content = bytes | Callable[[BinaryIO], object]
"""File content: bytes, or a function that streams them into an open binary file."""

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_COMMITTED: list[Path] = []
_HELD = (signal.SIGINT, signal.SIGTERM)


def committed() -> list[Path]:
    """Paths committed (made visible complete) since the last :func:`forget_commits`."""
    return list(_COMMITTED)


def forget_commits() -> None:
    _COMMITTED.clear()


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back for a few system calls (main thread, POSIX only)."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not (
        threading.main_thread()
    ):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry durable; a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_new_file(path: Path, data: Content) -> None:
    """Create ``path`` (which must not exist), write and fsync; mode follows the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    with os.fdopen(os.open(path, flags, 0o666), "wb") as handle:
        if isinstance(data, bytes):
            handle.write(data)
        else:
            data(handle)
        handle.flush()
        os.fsync(handle.fileno())


def sibling(target: Path, tag: str) -> Path:
    """A hidden, unused name next to ``target`` (same file system, so renames are atomic)."""
    while True:
        candidate = target.parent / f".{target.name}.{tag}-{secrets.token_hex(4)}"
        if not os.path.lexists(candidate):
            return candidate


def write_atomic(path: Path, data: Content) -> None:
    """Replace ``path`` with ``data`` via a temp file in the same folder and ``os.replace``.

    ``data`` may be a function writing into the file, so large files stream.
    """
    tmp = sibling(path, "tmp")
    try:
        write_new_file(tmp, data)
        with _signals_held():
            os.replace(tmp, path)
            _COMMITTED.append(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


# --------------------------------------------------------------------------- folders


def _renameat2() -> Callable[..., int] | None:
    """glibc's ``renameat2`` from the running process's own symbols (no library search)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_EXCHANGE: Callable[..., int] | bool | None = True  # True: not looked up yet


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically; False where the system cannot (nothing changed)."""
    global _EXCHANGE
    if _EXCHANGE is True:
        _EXCHANGE = _renameat2()
    if not callable(_EXCHANGE):
        return False
    result = _EXCHANGE(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not supported here
        return False
    raise OSError(errno, os.strerror(errno), str(b))


def commit_folder(staging: Path, target: Path, last: str = "summary.json") -> None:
    """Make the complete ``staging`` folder the ``target`` folder (see the module docstring).

    ``last`` is the file moved in last when the working folder is filled.
    """
    if not os.path.lexists(target):
        with _signals_held():
            os.rename(staging, target)
            _COMMITTED.append(target)
    elif _is_working_folder(target) and not any(target.iterdir()):
        _fill_empty(staging, target, last)
    else:
        _replace(staging, target)
    fsync_dir(target.parent)


def _is_working_folder(target: Path) -> bool:
    try:
        here = Path.cwd().resolve()
    except OSError:
        return False
    return here == target.resolve() or target.resolve() in here.parents


def _replace(staging: Path, target: Path) -> None:
    with _signals_held():
        swapped = exchange(staging, target)
        if swapped:
            _COMMITTED.append(target)
    if swapped:
        _remove(staging)  # the old content now lives under the staging name
        return
    old = sibling(target, "old")
    with _signals_held():
        os.rename(target, old)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(old, target)
            raise
        _COMMITTED.append(target)
    _remove(old)


def _remove(path: Path) -> None:
    if path.is_symlink():  # a link moved aside; never delete through it
        path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


def _fill_empty(staging: Path, target: Path, last: str) -> None:
    """Move the staged files into this process's (empty) working folder, ``last`` last.

    The folder itself is kept, so the shell that ran ``-o .`` still sees it.  On an
    error or interrupt the files already moved are taken out again.
    """
    names = sorted((p.name for p in staging.iterdir()), key=lambda n: (n == last, n))
    moved: list[Path] = []
    try:
        for name in names[:-1]:
            os.replace(staging / name, target / name)
            moved.append(target / name)
        with _signals_held():
            os.replace(staging / names[-1], target / names[-1])
            _COMMITTED.append(target)
    except BaseException:
        for path in moved:
            path.unlink(missing_ok=True)
        raise
    os.rmdir(staging)


__all__ = [
    "Content",
    "commit_folder",
    "committed",
    "exchange",
    "forget_commits",
    "fsync_dir",
    "sibling",
    "write_atomic",
    "write_new_file",
]
