"""Writing files so that a failure never damages what was there: one helper for every writer.

What a write does depends on what is at the path (checked before anything is written):

* nothing, or a regular file: the data goes to a temporary file in the same folder, is flushed to disk,
  and then replaces the target with ``os.replace`` (atomic on POSIX and Windows). A file that was there
  keeps its permission bits (and, where allowed, its owner); a new file gets the usual ``0666 & ~umask``.
  If anything fails (or the process is interrupted), the temporary file is removed and the exception
  propagates; the target is left as it was.
* a symbolic link: the write goes to the file the link points to (the link stays a link), by the rules
  here; a dangling link creates its target.
* a read-only regular file (no write bit at all in its mode): refused with :class:`ReadOnlyError`
  (a ``PermissionError``), even for root, who could otherwise replace it. Nothing is changed.
* a character device or a FIFO (a terminal, ``/dev/null``, a named pipe): written directly, like standard
  output; it is never replaced by a regular file. Such a write is not atomic (there is nothing to replace).
* anything else (a folder, a block device, a socket): refused with :class:`NotAFileError` (an
  ``OSError``).

:func:`open_atomic` is the streaming form (a context manager yielding a file object); :func:`atomic_write`
writes one ``bytes`` or ``str`` value.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Iterator


class ReadOnlyError(PermissionError):
    """The target is a read-only file: gdstudio does not replace it."""


class NotAFileError(OSError):
    """The target is neither a regular file nor something written like a stream (folder, block device...)."""


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would, for a moment, for every thread)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def resolve_target(path: str | os.PathLike) -> Path:
    """The path a write to ``path`` really goes to: symbolic links followed (also dangling ones)."""
    p = Path(path)
    if p.is_symlink():
        return Path(os.path.realpath(p))
    return p


def check_target(path: str | os.PathLike) -> tuple[Path, os.stat_result | None]:
    """Resolve ``path`` (see :func:`resolve_target`) and check a write may go there.

    Returns the target and its ``stat`` (None when nothing is there). Raises :class:`ReadOnlyError` for a
    read-only regular file and :class:`NotAFileError` for a folder, block device or socket.
    """
    target = resolve_target(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target, None
    mode = st.st_mode
    if stat.S_ISREG(mode):
        # The mode bits, not os.access: root may write anything, but a file marked read-only is not ours to replace.
        if not mode & 0o222:
            raise ReadOnlyError(errno.EACCES, "the file is read-only (not replaced)", str(target))
        return target, st
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return target, st
    kind = "a folder" if stat.S_ISDIR(mode) else "a block device" if stat.S_ISBLK(mode) else \
        "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
    raise NotAFileError(errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL, f"it is {kind} (not replaced)",
                        str(target))


def is_stream(st: os.stat_result | None) -> bool:
    """Whether a target with this ``stat`` is written directly (a character device or a FIFO)."""
    return st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode))


@contextlib.contextmanager
def open_atomic(path: str | os.PathLike, mode: str = "wb", *, encoding: str = "utf-8",
                newline: str | None = None) -> Iterator[IO]:
    """Open ``path`` for writing by the rules of the module docstring; the context commits on success.

    ``mode`` is ``"wb"`` or ``"w"`` (text, ``encoding``/``newline`` as for :func:`open`). On an exception
    (including ``KeyboardInterrupt``) the temporary file is removed and the target is left as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    target, st = check_target(path)
    text_kw = {"encoding": encoding, "newline": newline} if mode == "w" else {}
    if is_stream(st):  # a terminal, /dev/null, a named pipe: write to it, never replace it
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, mode, **text_kw) as f:
            yield f
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, **text_kw) as f:
            yield f
            f.flush()
            if st is not None:
                os.fchmod(f.fileno(), stat.S_IMODE(st.st_mode))
                with contextlib.suppress(OSError):  # only root may give a file away; others keep their own
                    if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                        os.fchown(f.fileno(), st.st_uid, st.st_gid)
            else:
                os.fchmod(f.fileno(), 0o666 & ~_umask())
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` (text is encoded as UTF-8) to ``path`` by the rules of the module docstring.

    Returns ``path``. Raises ``OSError`` (missing or unwritable folder, disk
    full, :class:`ReadOnlyError`, :class:`NotAFileError`...) with the target untouched.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open_atomic(path, "wb") as f:
        f.write(data)
    return Path(path)


__all__ = ["NotAFileError", "ReadOnlyError", "atomic_write", "check_target", "is_stream", "open_atomic",
           "resolve_target"]
