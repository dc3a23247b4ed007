"""Keep freed memory in the process, so numpy's temporaries are not page-faulted afresh at every step.

A run of many starts makes a few dozen arrays of ``N × d`` numbers per step and frees them at once. With
glibc's default settings ``malloc`` serves arrays over 128 kB by ``mmap`` (fresh pages, zeroed by the
kernel and faulted in one 4 kB page at a time) and gives the top of its heap back to the system whenever
more than 128 kB there is free (``brk`` shrinks, and the next step faults the same pages back in). Which of
the two a process meets depends on where its arrays happen to lie, so the same run took 0.11 s in one
process and 0.24 s in the next (10,000 Adam steps × 1,000 starts on Rosenbrock: 71 page faults per step;
see ``benchmarks/RESULTS.md``).

:func:`keep_freed_memory` sets glibc's two thresholds once (``mallopt``): arrays up to
:data:`MMAP_THRESHOLD` come from the heap, and up to :data:`TRIM_THRESHOLD` of free memory at its top is
kept for reuse instead of being returned. The memory kept is memory the process has already used (its
peak does not grow); large arrays (over 32 MB) are still mapped. Elsewhere than glibc (macOS, Windows,
musl) it does nothing: those allocators keep freed blocks by themselves or have no such setting.
"""

from __future__ import annotations

import ctypes
import sys

#: glibc's ``mallopt`` parameter numbers (``<malloc.h>``).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

#: Blocks up to this size come from the heap (32 MiB: glibc's largest allowed value on 64-bit systems).
MMAP_THRESHOLD = 32 * 2**20
#: Free memory at the top of the heap kept for reuse.
TRIM_THRESHOLD = 128 * 2**20

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Ask glibc's ``malloc`` to keep freed memory for reuse (once per process). True when it did."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl without mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _applied
