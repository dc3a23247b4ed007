"""Unexpected errors: written to the log file, shown in one dialog from the GUI thread, app keeps running."""

from __future__ import annotations

import logging
import sys
import threading

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QThread, QTimer  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from gdstudio.gui import errors  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def handler(qapp, tmp_path, monkeypatch):
    monkeypatch.setattr(errors, "log_dir", lambda: tmp_path / "logs")
    before = (sys.excepthook, threading.excepthook)
    h = errors.install(qapp)
    yield h
    errors.uninstall()
    assert (sys.excepthook, threading.excepthook) == before


def _log_text(tmp_path) -> str:
    return (tmp_path / "logs" / errors.LOG_FILE).read_text(encoding="utf-8")


def _close(qtbot, h):
    h.dialog.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: h.dialog is None)


@pytest.mark.qt_no_exception_capture
def test_error_in_a_slot_is_logged_and_shown(qtbot, handler, tmp_path):
    assert errors.log_path() == tmp_path / "logs" / errors.LOG_FILE

    def boom():
        raise RuntimeError("boom in a slot")

    QTimer.singleShot(0, boom)
    qtbot.waitUntil(lambda: handler.dialog is not None and handler.dialog.isVisible())
    box = handler.dialog
    assert "RuntimeError: boom in a slot" in box.text()
    assert "Traceback" in box.detailedText() and "in boom" in box.detailedText()
    assert str(errors.log_path()) in box.informativeText()
    log = _log_text(tmp_path)
    assert "Unhandled exception" in log and "RuntimeError: boom in a slot" in log and "in boom" in log
    _close(qtbot, handler)
    # the app keeps running: the event loop still delivers
    fired = []
    QTimer.singleShot(0, lambda: fired.append(1))
    qtbot.waitUntil(lambda: fired == [1])


@pytest.mark.qt_no_exception_capture
def test_error_in_a_thread_is_shown_from_the_gui_thread(qtbot, handler, qapp, tmp_path):
    shown_in = []
    handler.sig_error.connect(lambda *a: shown_in.append(QThread.currentThread()))

    def work():
        raise ZeroDivisionError("worker failed")

    t = threading.Thread(target=work, name="worker-1")
    t.start()
    t.join()
    qtbot.waitUntil(lambda: handler.dialog is not None and handler.dialog.isVisible())
    assert shown_in == [qapp.thread()]
    assert handler.dialog.thread() is qapp.thread()
    assert "worker-1" in handler.dialog.text()
    assert "ZeroDivisionError: worker failed" in _log_text(tmp_path)
    _close(qtbot, handler)


@pytest.mark.qt_no_exception_capture
def test_a_flood_of_errors_opens_one_dialog(qtbot, handler):
    def boom(i):
        raise ValueError(f"error {i}")

    for i in range(5):
        QTimer.singleShot(0, lambda i=i: boom(i))
    qtbot.waitUntil(lambda: handler.count == 5 and handler.dialog is not None
                    and handler.dialog.property("errors") == 5)
    box = handler.dialog
    assert "5 unexpected errors" in box.text() and "error 0" in box.text()
    assert all(f"ValueError: error {i}" in box.detailedText() for i in range(5))
    assert sum(isinstance(w, QMessageBox) and w.isVisible() for w in qtbot_top_levels()) == 1
    _close(qtbot, handler)


def qtbot_top_levels():
    from PySide6.QtWidgets import QApplication

    return QApplication.topLevelWidgets()


def test_logging_goes_to_the_file(handler, tmp_path):
    logging.getLogger("gdstudio.core.session").info("saved a session")
    logging.getLogger("some.library").warning("a library warning")
    logging.getLogger("some.library").info("library chatter")
    text = _log_text(tmp_path)
    assert "saved a session" in text and "a library warning" in text
    assert "library chatter" not in text


def test_unwritable_log_folder_falls_back_to_stderr(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    try:
        path = errors.configure_logging(blocker / "logs")
        logging.getLogger("gdstudio").error("still reported")
    finally:
        errors.uninstall()
    assert path == blocker / "logs" / errors.LOG_FILE
    err = capsys.readouterr().err
    assert "cannot write the log file" in err and "still reported" in err


def test_keyboard_interrupt_is_not_a_dialog(qtbot, handler, monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "__excepthook__", lambda *a: seen.append(a[0]))
    handler.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert seen == [KeyboardInterrupt] and handler.count == 0


@pytest.mark.qt_no_exception_capture
def test_error_in_an_event_handler_is_shown(qtbot, handler):
    from PySide6.QtWidgets import QWidget

    class Broken(QWidget):
        def mousePressEvent(self, event):
            raise KeyError("clicked a broken widget")

    w = Broken()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    from PySide6.QtCore import QPointF, Qt as _Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    # posted, so the event loop delivers it with no Python caller above (as a real click arrives)
    pos = QPointF(5, 5)
    event = QMouseEvent(QMouseEvent.Type.MouseButtonPress, pos, w.mapToGlobal(pos), _Qt.MouseButton.LeftButton,
                        _Qt.MouseButton.LeftButton, _Qt.KeyboardModifier.NoModifier)
    QApplication.postEvent(w, event)
    qtbot.waitUntil(lambda: handler.dialog is not None and handler.dialog.isVisible())
    assert "KeyError" in handler.dialog.text() and "mousePressEvent" in handler.dialog.detailedText()
    _close(qtbot, handler)
    assert w.isVisible()
