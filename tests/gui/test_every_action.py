"""Walk every menu item, toolbar button and shortcut of the main window the way a user does.

Each QAction of the menus (with their submenus) and of the toolbars is fired twice: by ``QAction.trigger()``
(a click on the menu item or the button) and, when it has a shortcut, by pressing that key on the window.
Before each one a short run has finished, so File ▸ Export has something to export. Dialogs are answered
as a user would: ``QFileDialog`` by monkeypatching (a typed file name without a suffix), the app's own modal
dialogs (learning-rate sweep, race) by pressing their Start button, any other modal dialog by closing it;
windows an action opens (help, About) are closed afterwards.

The test fails on

* any error dialog: gdstudio's own exception hook (:mod:`gdstudio.gui.errors`) is installed and must see
  no error — an exception in any slot goes through it;
* any warning box (``QMessageBox.warning`` / ``critical``: an export or save that failed);
* any Qt warning (``qt_log_level_fail = WARNING`` in pyproject.toml);
* a File action that did not write (or read) its file.

It fails if the export bug comes back: ``a.export_csv.triggered.connect(self.export_trajectory)`` makes
Qt's ``checked`` flag (False) the path, ``write_csv(False, ...)`` raises TypeError in the slot, the hook
sees it and no CSV is written (checked by putting the line back once).
"""

from __future__ import annotations

import csv
import re

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QMessageBox,
    QToolBar,
    QWidgetAction,
)

from gdstudio.core.runs import RunConfig
from gdstudio.gui import errors

pytestmark = pytest.mark.gui


def every_action(window) -> list[QAction]:
    """The window's actions in menu order (submenus included), then toolbar-only ones; no separators."""
    out: list[QAction] = []

    def add(a: QAction) -> None:
        if a.isSeparator() or isinstance(a, QWidgetAction) or a in out:
            return
        out.append(a)

    def walk(menu) -> None:
        for a in menu.actions():
            if a.menu() is not None:
                walk(a.menu())
            else:
                add(a)

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu())
    for tb in window.findChildren(QToolBar):
        for a in tb.actions():
            add(a)
    return out


def name(a: QAction) -> str:
    return a.text().replace("&", "").rstrip("…")


class User:
    """Answers dialogs like a user and records what the app showed."""

    def __init__(self, tmp_path, monkeypatch):
        self.dir = tmp_path
        self.saved: list[str] = []  # paths typed into save dialogs
        self.opened: list[str] = []
        self.boxes: list[tuple[str, str, str]] = []  # (kind, title, text) of QMessageBox static calls
        self.modal: list[str] = []  # modal dialogs answered
        self.n = 0
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self.save_dialog)
        monkeypatch.setattr(QFileDialog, "getOpenFileName", self.open_dialog)
        for kind in ("information", "warning", "critical", "question"):
            monkeypatch.setattr(QMessageBox, kind, self._box(kind))
        # The app's own modal dialogs run their own event loop (exec()): answer them from a timer.
        self.timer = QTimer()
        self.timer.setInterval(30)
        self.timer.timeout.connect(self.answer_modal)
        self.timer.start()

    def save_dialog(self, parent, caption="", directory="", filters="", *args, **kwargs):
        self.n += 1
        slug = re.sub(r"[^a-z0-9]+", "-", caption.lower()).strip("-")
        path = str(self.dir / f"{self.n:02d}-{slug}")  # typed without a suffix: the app adds it
        self.saved.append(path)
        return path, filters.split(";;")[0]

    def open_dialog(self, parent, caption="", directory="", filters="", *args, **kwargs):
        sessions = sorted(self.dir.glob("*.gdsession"), key=lambda p: p.stat().st_mtime)
        path = str(sessions[-1]) if sessions else ""
        self.opened.append(path)
        return path, filters.split(";;")[0]

    def _box(self, kind):
        def box(parent, title, text, *args, **kwargs):
            self.boxes.append((kind, title, text))
            return QMessageBox.StandardButton.Ok
        return box

    def answer_modal(self) -> None:
        w = QApplication.activeModalWidget()
        if w is None:
            return
        self.modal.append(f"{type(w).__name__}: {w.windowTitle()}")
        box = w.findChild(QDialogButtonBox)
        ok = box.button(QDialogButtonBox.StandardButton.Ok) if box is not None else None
        if ok is not None and w.windowTitle() in ("Learning-rate sweep", "Race optimizers"):
            ok.click()  # "Start" with the dialog's defaults
        elif isinstance(w, QDialog):
            w.reject()
        else:
            w.close()

    def close_windows(self, main) -> list[str]:
        """Close what an action left open besides the main window (help, About); return their names."""
        closed = []
        for w in QApplication.topLevelWidgets():
            if w is not main and w.isVisible() and isinstance(w, (QDialog, QMessageBox)):
                closed.append(type(w).__name__)
                w.close()
        return closed


@pytest.fixture
def hook(qapp, tmp_path):
    h = errors.install(qapp, log_directory=tmp_path / "log", show_dialog=False)
    seen: list[str] = []
    h.sig_error.connect(lambda summary, details: seen.append(details))
    yield h, seen
    errors.uninstall()


def settle(qtbot, window) -> None:
    """Let a started run finish (resume it if an action paused it)."""
    for _ in range(3):
        QApplication.processEvents()
    if window.controller.busy:
        if window.controller.paused:
            window.resume()
        qtbot.waitUntil(lambda: not window.controller.busy, timeout=30000)
    QApplication.processEvents()


def ensure_a_run(qtbot, window) -> None:
    if not window.results():
        with qtbot.waitSignal(window.sig_all_finished, timeout=30000):
            assert window.run()


def press(qtbot, window, a: QAction) -> None:
    combo = a.shortcut()[0]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, combo.key(), combo.keyboardModifiers())


def check_file_action(a: QAction, user: User, before_saved: int, messages: list[str]) -> None:
    """A File action wrote the file the user typed (with the right suffix), or opened the saved session, and
    said so in the status bar."""
    text = name(a)
    if text == "Open session":
        assert user.opened and user.opened[-1], "Open session found no saved session to open"
        assert any(m.startswith("Opened ") for m in messages), messages
        return
    assert len(user.saved) == before_saved + 1, f"{text}: no save dialog"
    typed = user.saved[-1]
    written = [p for p in user.dir.glob(typed.rsplit("/", 1)[1] + ".*")]
    assert len(written) == 1, f"{text}: nothing written for {typed!r}"
    f = written[0]
    assert any(str(f) in m for m in messages), f"{text}: the status bar did not say where: {messages}"
    if text == "Export trajectory":
        assert f.suffix == ".csv"
        with f.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert len(rows) > 10 and "loss" in rows[0]
    elif text == "Save session":
        assert f.suffix == ".gdsession"
    else:
        assert f.suffix in (".png", ".svg") and f.stat().st_size > 1000


@pytest.mark.qt_no_exception_capture  # every exception must reach gdstudio's own hook, counted below
def test_every_menu_item_toolbar_button_and_shortcut(make_window, qtbot, tmp_path, monkeypatch, hook):
    handler, seen = hook
    user = User(tmp_path, monkeypatch)
    cfg = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=80, hyperparams={"lr": 0.05})
    window = make_window(cfg)
    ensure_a_run(qtbot, window)
    assert window.save_session(str(tmp_path / "00-earlier.gdsession"))  # File ▸ Open session has one to open
    actions = every_action(window)
    names = [name(a) for a in actions]
    # the walk really reaches every menu: these must be among them
    for expected in ("Open session", "Save session", "Export trajectory", "Contour map", "Run", "Pause",
                     "Step", "Reset", "Learning-rate sweep", "Race optimizers", "Log scale (loss)",
                     "Reset camera", "gdstudio Help", "About gdstudio", "Quit"):
        assert expected in names, f"{expected!r} not found in {names}"
    quit_action = window.actions.quit
    file_menu = {a for a in window.menuBar().actions()[0].menu().actions()}
    file_actions = set(window.actions.export_image.values()) | (file_menu - {quit_action})

    fired = []
    for a in actions:
        if a is quit_action:
            continue
        ways = [("trigger", lambda a=a: a.trigger())]
        if not a.shortcut().isEmpty():
            ways.append((a.shortcut().toString(), lambda a=a: press(qtbot, window, a)))
        for how, fire in ways:
            ensure_a_run(qtbot, window)
            before = len(user.saved)
            if not a.isEnabled():  # Pause: only while a run is going; start one, paused at its first step
                window.step()
                assert a.isEnabled(), f"{name(a)} stays disabled"
            was_checked = a.isChecked()
            hits, messages = [], []

            def hit(*_args, hits=hits):
                hits.append(1)

            def said(text, messages=messages):
                if text:
                    messages.append(text)
            a.triggered.connect(hit)
            window.statusBar().clearMessage()  # the same message again would not be signalled
            window.statusBar().messageChanged.connect(said)
            fire()
            a.triggered.disconnect(hit)
            assert len(hits) == 1, f"{name(a)} [{how}] did not trigger the action"
            settle(qtbot, window)
            window.statusBar().messageChanged.disconnect(said)
            user.close_windows(window)
            fired.append(f"{name(a)} [{how}]")
            assert not seen and handler.count == 0, f"{name(a)} [{how}] raised:\n" + "\n".join(seen)
            bad = [b for b in user.boxes if b[0] in ("warning", "critical")]
            assert not bad, f"{name(a)} [{how}] showed {bad}"
            if a in file_actions:
                check_file_action(a, user, before, messages)
            if a.isCheckable() and a.isChecked() != was_checked:
                a.trigger()  # a toggle goes back, so the next action meets the usual window
                settle(qtbot, window)
    assert window.isVisible()
    assert any("Export trajectory [Ctrl+E]" == f for f in fired)
    assert {"Learning-rate sweep", "Race optimizers"} <= {m.split(": ", 1)[1] for m in user.modal}

    # Quit, by its menu item and by its shortcut (on a second window)
    quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    other = make_window(cfg)
    press(qtbot, other, other.actions.quit)
    qtbot.waitUntil(lambda: not other.isVisible(), timeout=5000)
    QApplication.processEvents()
    assert not seen and handler.count == 0, "\n".join(seen)
    assert QKeySequence(quit_action.shortcut()).toString()
