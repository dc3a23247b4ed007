"""glibc keeps freed memory for reuse once a process asks (gdstudio.core.heap)."""

import platform
import sys

import numpy as np
import pytest

from gdstudio.core import heap


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="mallopt thresholds are glibc's")
def test_keep_freed_memory_sets_glibcs_thresholds_once(monkeypatch):
    monkeypatch.setattr(heap, "_applied", None)
    assert heap.keep_freed_memory() is True
    monkeypatch.setattr(heap.ctypes, "CDLL", lambda *a: pytest.fail("asked glibc twice"))
    assert heap.keep_freed_memory() is True
    a = np.ones(2**20)  # 8 MB from the heap now: still a working array
    assert a.sum() == 2**20


def test_elsewhere_it_does_nothing(monkeypatch):
    monkeypatch.setattr(heap, "_applied", None)
    monkeypatch.setattr(heap.sys, "platform", "darwin")
    assert heap.keep_freed_memory() is False
