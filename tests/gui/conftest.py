"""GUI test fixtures. Qt is imported here only (tests/core never imports this file).

``Qt.AA_ShareOpenGLContexts`` must be set before pytest-qt creates the QApplication, or the second GL view
of the session renders black (docs/platform-notes.md, fact 1).
"""

from __future__ import annotations

import math

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QCoreApplication, Qt  # noqa: E402

if QCoreApplication.instance() is None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

from gdstudio.core.runs import RunConfig  # noqa: E402


@pytest.fixture
def booth_config():
    return RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=120, hyperparams={"lr": 0.05})


@pytest.fixture
def make_window(qtbot):
    """Factory for a shown MainWindow (closed, worker stopped, at teardown). Runs go as fast as possible."""
    from gdstudio.gui.main_window import MainWindow

    windows = []

    def make(config=None, size=(1200, 800)):
        w = MainWindow(config)
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


@pytest.fixture
def window(make_window, booth_config):
    return make_window(booth_config)


@pytest.fixture(autouse=True)
def _private_user_files(monkeypatch, tmp_path_factory):
    """Never the user's own settings or log: the app (and any subprocess) gets a temporary settings file
    (``GDSTUDIO_SETTINGS``, read by gdstudio.gui.app) and temporary XDG folders."""
    d = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("GDSTUDIO_SETTINGS", str(d / "gdstudio.ini"))
    monkeypatch.setenv("XDG_STATE_HOME", str(d / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(d / "config"))
    return d
