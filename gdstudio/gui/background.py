"""Slow, pure work (reading a session, compiling formulas with SymPy) off the GUI thread.

:func:`run_off_thread` calls a function in a *daemon* thread and keeps the window's event loop running until
it returns, so the window repaints and answers while a file is read; then it returns the function's result
(or raises its exception) in the GUI thread, like a plain call. The thread never touches Qt: the GUI polls
it with a timer. Being a daemon, a thread still working when the app quits never keeps the process alive
(``concurrent.futures`` threads are joined at exit: closing mid-compile used to take 16 s).

If the application quits meanwhile, :class:`Abandoned` is raised and the result is dropped.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

#: How long the GUI thread simply waits before it runs an event loop (most work is done by then).
QUICK_S = 0.05
#: How often the event loop checks whether the work is done, in milliseconds.
POLL_MS = 20


class Abandoned(Exception):
    """The application quit before the work was done: its result is dropped."""


def start_daemon(fn: Callable[..., Any], *args) -> tuple[threading.Thread, dict]:
    """Start ``fn(*args)`` in a daemon thread; the dict gets ``result`` or ``error`` when it ends."""
    box: dict = {}

    def work():
        try:
            box["result"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, which re-raises it
            box["error"] = exc

    t = threading.Thread(target=work, daemon=True, name="gdstudio-background")
    t.start()
    return t, box


def run_off_thread(fn: Callable[..., Any], *args) -> Any:
    """``fn(*args)`` computed in a daemon thread while the GUI's event loop runs; its result, or its exception."""
    t, box = start_daemon(fn, *args)
    if QCoreApplication.instance() is None:
        t.join()
    t.join(QUICK_S)
    if t.is_alive():
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(POLL_MS)
        timer.timeout.connect(lambda: None if t.is_alive() else loop.quit())
        timer.start()
        loop.exec()  # returns when the work is done, or when the application quits (every loop exits then)
        timer.stop()
    if t.is_alive():
        raise Abandoned("the application quit before the work was done")
    if "error" in box:
        raise box["error"]
    return box["result"]


__all__ = ["Abandoned", "run_off_thread", "start_daemon"]
