"""Writing files so that a failure never damages what was there: one helper for every writer.

The data goes to a temporary file in the target's folder, is flushed to disk, and then replaces the target
with ``os.replace`` (atomic on POSIX and Windows). If anything fails, the temporary file is removed and the
exception propagates; an existing target is left as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` (text is encoded as UTF-8) to ``path`` atomically; return the path.

    Raises ``OSError`` (missing or unwritable folder, disk full...) with ``path`` untouched.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
