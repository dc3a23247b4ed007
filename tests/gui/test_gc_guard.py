"""Garbage with Qt objects is collected in the GUI thread only (gdstudio.gui.gc_guard explains the deadlock)."""

from __future__ import annotations

import gc
import threading

import pytest

pytestmark = pytest.mark.gui


def test_a_window_turns_automatic_collection_off_and_the_gui_thread_collects(window, qtbot):
    assert not gc.isenabled()  # no collection can start in a worker thread

    class Cycle:
        pass

    freed = threading.Event()
    a, b = Cycle(), Cycle()
    a.other, b.other = b, a
    import weakref

    weakref.finalize(a, freed.set)
    del a, b
    for _ in range(gc.get_threshold()[0] + 10):  # fill generation 0 so the next check collects it
        c = Cycle()
        c.me = c
        del c
    qtbot.waitUntil(freed.is_set, timeout=5000)  # the GUI thread's timer collected the cycle
