"""Item 1: saving never damages anything but the file being saved (core.files, used by CSV, sessions, images).

Every hostile target is made here, in tmp_path: symbolic links, read-only files, FIFOs, folders. Nothing
here points at a system path.
"""

from __future__ import annotations

import os
import stat
import threading

import pytest

from gdstudio.core.files import NotAFileError, ReadOnlyError, atomic_write, open_atomic

posix = pytest.mark.skipif(os.name != "posix", reason="POSIX file types")


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@posix
def test_a_symlink_is_followed_and_stays_a_link(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    atomic_write(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert leftovers(tmp_path) == []


@posix
def test_a_relative_symlink_into_another_folder_writes_there(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "f.csv").symlink_to("../data/f.csv")  # dangling: the target is created
    atomic_write(tmp_path / "out" / "f.csv", b"x")
    assert (tmp_path / "data" / "f.csv").read_bytes() == b"x"
    assert (tmp_path / "out" / "f.csv").is_symlink()


@posix
def test_the_existing_mode_is_kept(tmp_path):
    f = tmp_path / "shared.csv"
    f.write_text("old")
    f.chmod(0o664)
    atomic_write(f, "new")
    assert stat.S_IMODE(f.stat().st_mode) == 0o664


@posix
def test_a_new_file_gets_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.csv", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o644


@posix
def test_a_read_only_file_is_refused_even_for_root(tmp_path):
    f = tmp_path / "keep.csv"
    f.write_text("precious")
    f.chmod(0o444)
    with pytest.raises(ReadOnlyError, match="read-only"):
        atomic_write(f, "overwritten")
    assert f.read_text() == "precious"
    assert stat.S_IMODE(f.stat().st_mode) == 0o444
    assert leftovers(tmp_path) == []


@posix
def test_a_fifo_is_written_directly_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []

    def read():
        with open(fifo, "rb") as f:
            got.append(f.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    atomic_write(fifo, b"streamed")
    reader.join(10)
    assert got == [b"streamed"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert leftovers(tmp_path) == []


@posix
def test_a_folder_is_refused(tmp_path):
    d = tmp_path / "folder.csv"
    d.mkdir()
    with pytest.raises(NotAFileError):
        atomic_write(d, "x")
    assert d.is_dir()


def test_an_interrupted_stream_leaves_the_target_and_no_temp_file(tmp_path):
    f = tmp_path / "f.csv"
    f.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with open_atomic(f, "w") as out:
            out.write("half")
            raise KeyboardInterrupt
    assert f.read_text() == "old"
    assert leftovers(tmp_path) == []
