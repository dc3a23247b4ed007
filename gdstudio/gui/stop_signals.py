"""SIGINT, SIGTERM and SIGHUP close the window the way its close button does, then the app exits.

Why: a desktop session that logs out, ``kill``, or Ctrl-C in the terminal that started ``gdstudio`` send one of
these. Python's default would end the process at once (SIGTERM, SIGHUP) or raise ``KeyboardInterrupt`` somewhere
inside a Qt callback (SIGINT): either way the settings (window layout, objective, optimizer, hyperparameters) were
not saved and the next launch looked like a first launch.

How: Python runs a signal handler only when the interpreter gets control, and Qt's event loop is C++. So the
C-level handler writes the signal number to a socket (:func:`signal.set_wakeup_fd`); a
:class:`~PySide6.QtCore.QSocketNotifier` on the other end wakes the event loop, a Python slot runs, and the
pending Python handler with it. The handler asks every window to close (which saves the settings and stops the
workers, as the close button does) and the event loop to quit with the shell's code for the signal,
128 + its number (130 for SIGINT, 143 for SIGTERM), as ``gdstudio run`` does. A second signal while closing
ends the process at once with that code.
"""

from __future__ import annotations

import os
import signal
import socket
from typing import Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

#: The signals handled.
SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


class StopSignals(QObject):
    """While installed, the handled signals call ``close_all()`` then ``quit(128 + signum)`` in the GUI thread."""

    def __init__(self, close_all: Callable[[], None], quit: Callable[[int], None], parent: QObject | None = None):
        super().__init__(parent)
        self._close_all, self._quit = close_all, quit
        self.received: int | None = None
        self._rsock, self._wsock = socket.socketpair()
        self._rsock.setblocking(False)
        self._wsock.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._wsock.fileno())
        self._previous = {s: signal.signal(s, self._on_signal) for s in SIGNALS}
        self._notifier = QSocketNotifier(self._rsock.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)

    def _drain(self, *_args) -> None:
        # Reading the byte is all that is needed: the Python handler runs as soon as this slot's bytecode does.
        try:
            while self._rsock.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _on_signal(self, signum: int, _frame) -> None:
        if self.received is not None:  # a second signal while closing: stop now
            os._exit(128 + signum)
        self.received = signum
        QTimer.singleShot(0, self._stop)

    def _stop(self) -> None:
        code = 128 + int(self.received or 0)
        try:
            self._close_all()
        finally:
            self._quit(code)

    def uninstall(self) -> None:
        """Give the signals back their previous handlers."""
        self._notifier.setEnabled(False)
        for s, h in self._previous.items():
            signal.signal(s, h)
        signal.set_wakeup_fd(self._previous_fd)
        self._rsock.close()
        self._wsock.close()


def install(app) -> StopSignals:
    """Handle the signals for ``app`` (a QApplication): close all windows, then ``app.exit(128 + signum)``."""
    return StopSignals(app.closeAllWindows, app.exit, parent=app)
