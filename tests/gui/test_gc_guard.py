"""Garbage with Qt objects is collected in the GUI thread only (gdstudio.gui.gc_guard explains the deadlock)."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

pytestmark = pytest.mark.gui


class _Cycle:
    pass


def _make_garbage(n: int) -> None:
    for _ in range(n):
        c = _Cycle()
        c.me = c
        del c


def test_a_window_turns_automatic_collection_off_and_the_gui_thread_collects(window, qtbot):
    assert not gc.isenabled()  # no collection can start in a worker thread

    collecting_threads: list[int] = []

    def record(phase, info):
        if phase == "start":
            collecting_threads.append(threading.get_ident())

    freed = threading.Event()
    a, b = _Cycle(), _Cycle()
    a.other, b.other = b, a
    weakref.finalize(a, freed.set)
    del a, b

    def collected() -> bool:
        # Generation 0's count is allocations minus deallocations, so objects of an earlier test freed while we
        # wait can pull it back under the threshold: keep adding garbage until the GUI thread's timer collects.
        _make_garbage(gc.get_threshold()[0] // 4)
        return freed.is_set()

    gc.callbacks.append(record)
    try:
        qtbot.waitUntil(collected, timeout=10_000)
    finally:
        gc.callbacks.remove(record)
    assert collecting_threads, "the cycle was freed without a collection"
    assert set(collecting_threads) == {threading.main_thread().ident}
