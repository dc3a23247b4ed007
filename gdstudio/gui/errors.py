"""Unexpected errors: logged to a file, shown in a dialog, and the app keeps running.

:func:`install` replaces ``sys.excepthook`` (errors in the main thread, including those raised in Qt slots
and event handlers, which PySide6 reports through it) and ``threading.excepthook`` (errors that end a
Python thread). Each error is

1. written with its traceback to the log file (:func:`log_path`, in ``platformdirs.user_log_dir("gdstudio")``, or
   beside the settings file named by ``GDSTUDIO_SETTINGS``),
   through :mod:`logging`, which :func:`configure_logging` points at the same file for the whole app;
2. printed to stderr, as Python would;
3. shown in a :class:`~PySide6.QtWidgets.QMessageBox` with the traceback as detailed text, when a
   ``QApplication`` exists. The dialog is opened from the GUI thread only: the hook emits a signal with a
   queued connection, so an error raised in a worker thread (or in the middle of a paint) is shown later by
   the event loop. While a dialog is open, further errors are added to it instead of opening more dialogs
   (an error in a paint handler repeats on every frame).

``KeyboardInterrupt`` keeps Python's behaviour. Errors the app expects (bad input, unreadable files) are not
for this module: they get a message where they happen.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

import platformdirs
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

LOG_FILE = "gdstudio.log"
log = logging.getLogger("gdstudio")

_handler: logging.Handler | None = None
_installed: "ExceptionHandler | None" = None


def log_dir() -> Path:
    """The user's log folder for gdstudio (created on first use by :func:`configure_logging`); the folder of
    the settings file when ``GDSTUDIO_SETTINGS`` names one (tests and portable set-ups keep both together)."""
    settings_file = os.environ.get("GDSTUDIO_SETTINGS")
    if settings_file:
        return Path(settings_file).expanduser().resolve().parent
    return Path(platformdirs.user_log_dir("gdstudio", appauthor=False))


def log_path() -> Path:
    """The log file in use (after :func:`configure_logging`), else where it would be."""
    if _handler is not None and isinstance(_handler, logging.FileHandler):
        return Path(_handler.baseFilename)
    return log_dir() / LOG_FILE


def configure_logging(directory: str | Path | None = None, level: int = logging.INFO) -> Path:
    """Send the ``gdstudio`` loggers (``level`` and above) and other libraries' warnings to the log file.

    The file rotates at 1 MB, keeping three old ones. Calling again replaces the previous file handler.
    If the folder cannot be created, logging goes to stderr only and the intended path is returned.
    """
    global _handler
    path = Path(directory) / LOG_FILE if directory is not None else log_dir() / LOG_FILE
    _remove_handler()
    root = logging.getLogger()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8", delay=True)
    except OSError as e:
        handler = logging.StreamHandler(sys.stderr)
        print(f"gdstudio: cannot write the log file {path} ({e}); logging to stderr", file=sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.DEBUG)
    root.addHandler(handler)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    log.setLevel(level)
    _handler = handler
    return path


def _remove_handler() -> None:
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
        _handler = None


def format_exception(exc_type, exc, tb) -> str:
    return "".join(traceback.format_exception(exc_type, exc, tb))


class ExceptionHandler(QObject):
    """Receives unhandled exceptions from any thread; logs them and shows them from the GUI thread.

    ``sig_error(summary, details)`` is emitted for each error (queued to the GUI thread). ``dialog`` is the
    open message box, if any; ``count`` the number of errors seen.
    """

    sig_error = Signal(str, str)

    def __init__(self, parent: QObject | None = None, show_dialog: bool = True):
        super().__init__(parent)
        self.show_dialog = show_dialog
        self.dialog: QMessageBox | None = None
        self._last_dialog: QMessageBox | None = None
        self.count = 0
        self._lock = threading.Lock()
        self._previous = (sys.excepthook, threading.excepthook)
        self.sig_error.connect(self._on_error, Qt.ConnectionType.QueuedConnection)

    # --- hooks (any thread) ---------------------------------------------------------------------------
    def excepthook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.handle(exc_type, exc, tb, where="")

    def threading_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        self.handle(args.exc_type, args.exc_value, args.exc_traceback, where=f" in thread {name!r}")

    def handle(self, exc_type, exc, tb, where: str = "") -> None:
        """Log one exception, print it to stderr, and ask the GUI thread to show it."""
        details = format_exception(exc_type, exc, tb)
        with self._lock:
            self.count += 1
        try:
            log.error("Unhandled exception%s:\n%s", where, details.rstrip())
        except Exception:  # noqa: BLE001 - the error hook itself must never raise
            pass
        try:
            sys.stderr.write(f"gdstudio: unhandled exception{where}\n{details}")
        except Exception:  # noqa: BLE001
            pass
        summary = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
        if QApplication.instance() is not None:
            self.sig_error.emit(summary + where, details)

    # --- the dialog (GUI thread) ------------------------------------------------------------------------
    @Slot(str, str)
    def _on_error(self, summary: str, details: str) -> None:
        if not self.show_dialog or QApplication.instance() is None:
            return
        if self.dialog is not None and self.dialog.isVisible():
            n = int(self.dialog.property("errors") or 1) + 1
            self.dialog.setProperty("errors", n)
            self.dialog.setText(f"{n} unexpected errors occurred. The first one:\n{self.dialog.property('first')}")
            self.dialog.setDetailedText(self.dialog.detailedText() + "\n" + details)
            return
        parent = QApplication.activeWindow()
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("gdstudio: unexpected error")
        box.setText(f"An unexpected error occurred:\n{summary}")
        box.setInformativeText(
            "gdstudio keeps running, but what you were doing may not have finished.\n"
            f"The details were written to {log_path()}.\nPlease include them if you report this problem.")
        box.setDetailedText(details)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setProperty("errors", 1)
        box.setProperty("first", summary)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._on_dialog_finished)
        self.dialog = box
        box.open()  # window-modal, non-blocking: the event loop keeps running

    @Slot()
    def _on_dialog_finished(self) -> None:
        # ``finished`` is emitted from inside the box's own done()/closeEvent (e.g. when quitting closes every
        # window). A box without a parent is owned by Python: dropping the last reference here would delete it
        # in the middle of that call (a segfault in QDialog::setResult). Keep it until the next box; Qt deletes
        # it (WA_DeleteOnClose) once the call has returned, and the wrapper then just goes stale.
        self._last_dialog = self.dialog
        self.dialog = None


def install(app: QApplication | None = None, log_directory: str | Path | None = None,
            show_dialog: bool = True) -> ExceptionHandler:
    """Configure logging to the log file and install the exception hooks; return the handler.

    Call once the ``QApplication`` exists (``app`` becomes the handler's parent, so it lives in the GUI
    thread). Calling again replaces the previous handler. :func:`uninstall` restores the previous hooks.
    """
    global _installed
    if _installed is not None:
        uninstall()
    configure_logging(log_directory)
    handler = ExceptionHandler(app if app is not None else QApplication.instance(), show_dialog=show_dialog)
    sys.excepthook = handler.excepthook
    threading.excepthook = handler.threading_excepthook
    _installed = handler
    log.info("gdstudio started; logging to %s", log_path())
    return handler


def uninstall() -> None:
    """Restore the hooks that were in place before :func:`install` and close the log file."""
    global _installed
    if _installed is not None:
        sys.excepthook, threading.excepthook = _installed._previous
        if _installed.dialog is not None:
            _installed.dialog.close()
        _installed.sig_error.disconnect()
        _installed = None
    _remove_handler()


__all__ = ["ExceptionHandler", "LOG_FILE", "configure_logging", "install", "log_dir", "log_path", "uninstall"]
