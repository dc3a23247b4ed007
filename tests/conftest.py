"""Fixtures shared by the GUI tests (tests/gui) and the hostile tests (tests/hostile).

Qt is imported only when it is installed: the core tests need none, and a core-only environment skips the GUI
tests (tests/gui/conftest.py). ``Qt.AA_ShareOpenGLContexts`` must be set before pytest-qt creates the
QApplication, or the second GL view of the session renders black (docs/platform-notes.md, fact 1).
"""

from __future__ import annotations

import math

import pytest

try:
    from PySide6.QtCore import QCoreApplication, Qt
except ImportError:  # core-only environment
    QCoreApplication = None
else:
    if QCoreApplication.instance() is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)


@pytest.fixture
def make_window(qtbot, tmp_path):
    """Factory for a shown MainWindow (closed, worker stopped, at teardown). Runs go as fast as possible.
    ``store=True`` gives it a settings store in tmp_path (as the app does), so settings are restored and
    remembered."""
    from gdstudio.gui import settings
    from gdstudio.gui.main_window import MainWindow

    windows = []

    def make(config=None, size=(1200, 800), store=False):
        w = MainWindow(config, store=settings.open_store(str(tmp_path / "gdstudio.ini")) if store else None)
        qtbot.addWidget(w)
        w.resize(*size)
        w.actions.speed.set_speed(math.inf)
        w.show()
        qtbot.waitExposed(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()
        assert not w.controller.engine.isRunning()


@pytest.fixture(autouse=True)
def _private_user_files(monkeypatch, tmp_path_factory):
    """Never the user's own settings or log: the app (and any subprocess) gets a temporary settings file
    (``GDSTUDIO_SETTINGS``, read by gdstudio.gui.app) and temporary XDG folders."""
    d = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("GDSTUDIO_SETTINGS", str(d / "gdstudio.ini"))
    monkeypatch.setenv("XDG_STATE_HOME", str(d / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(d / "config"))
    return d
