"""Fixtures of the hostile tests: the GUI ones follow tests/gui/conftest.py (same window factory, same private
user files); the core ones need no Qt, so Qt is set up only when it is installed.

``Qt.AA_ShareOpenGLContexts`` must be set before pytest-qt creates the QApplication, or the second GL view of
the session renders black.
"""

from __future__ import annotations

import math

import pytest

try:
    from PySide6.QtCore import QCoreApplication, Qt
except ImportError:  # core-only environment: the GUI tests skip themselves
    QCoreApplication = None
else:
    if QCoreApplication.instance() is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)


@pytest.fixture
def make_window(qtbot, tmp_path):
    """Factory for a shown MainWindow (closed, worker stopped, at teardown). ``store=True`` gives it a settings
    store in tmp_path (as the app does), so settings are restored and remembered."""
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
    """Never the user's own settings or log (also for subprocesses)."""
    d = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("GDSTUDIO_SETTINGS", str(d / "gdstudio.ini"))
    monkeypatch.setenv("XDG_STATE_HOME", str(d / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(d / "config"))
    return d
