"""Only regular files are read: FIFOs, devices and folders are refused before open()."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from buddymatch.errors import ConfigError, InputError
from buddymatch.files import file_sha256, open_regular, read_regular, regular_file_issue

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


@needs_fifo
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "profiles.csv"
    os.mkfifo(fifo)
    done = threading.Event()
    caught: list[BaseException] = []

    def read() -> None:
        try:
            read_regular(fifo, "profiles.csv", max_bytes=10)
        except BaseException as exc:  # the assertion is on the main thread
            caught.append(exc)
        done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(10), "reading a FIFO blocked"
    assert isinstance(caught[0], InputError)
    assert caught[0].lines == [
        "profiles.csv: is a named pipe (FIFO), not a regular file — give a regular file"
    ]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_device_and_folder_are_refused(tmp_path: Path) -> None:
    issue = regular_file_issue("/dev/zero", "zero")
    assert (
        issue is not None
        and str(issue) == "zero: is a device, not a regular file — give a regular file"
    )
    with pytest.raises(ConfigError) as caught:
        open_regular(tmp_path, "folder", error=ConfigError, fix="give a .yaml file")
    assert caught.value.lines == ["folder: is a folder, not a file — give a .yaml file"]


def test_missing_file_and_size_limit(tmp_path: Path) -> None:
    assert str(regular_file_issue(tmp_path / "nope", "nope")) == (
        "nope: file not found — check the folder and file name"
    )
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(InputError) as caught:
        read_regular(big, "big.txt", max_bytes=1024, what="list")
    assert caught.value.lines[0].startswith("big.txt: list is 0.0 MB, over the limit of 0.0 MB")
    assert read_regular(big, "big.txt", max_bytes=2048) == b"x" * 2048


def test_symlink_to_a_regular_file_is_read_and_hashed(tmp_path: Path) -> None:
    target = tmp_path / "real.csv"
    target.write_bytes(b"a,b\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert read_regular(link, "link.csv", max_bytes=100) == b"a,b\n"
    assert file_sha256(link) == file_sha256(target)
    assert len(file_sha256(target)) == 64
