"""Python's cyclic garbage collector runs only in the GUI thread once a window exists.

Why: the collector runs in whichever thread happens to allocate when a generation fills up. When that is a
worker thread (a formula compiling in SymPy, a run, a basin map) and the garbage holds Qt objects (the widgets
and actions of a closed window), the worker destroys QObjects: ``~QObject`` takes a Qt mutex and then waits for
the GIL, while the GUI thread, holding the GIL, waits for the same mutex to delete a widget. Both wait for ever.
This was seen as a test run that hung with the GUI thread in ``QBasicMutex::lockInternal`` under
``QObject::~QObject`` and a "gdstudio-background" thread in ``gc_collect_main`` →
``Shiboken::GilState::acquire`` (docs/platform-notes.md).

So automatic collection is turned off and pyqtgraph's :class:`GarbageCollector` collects on a timer in the GUI
thread, generation by generation with the interpreter's own thresholds. Reference counting still frees
everything that is not in a cycle at once, in any thread.
"""

from __future__ import annotations

#: Seconds between collections in the GUI thread.
INTERVAL_S = 0.5

_collector = None


def install() -> None:
    """Collect garbage only in the GUI thread from now on (idempotent; needs a QApplication)."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _collector = GarbageCollector(interval=INTERVAL_S)
