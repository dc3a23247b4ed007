"""The window's helpers (image export, settings, sessions) each work alone, on a stand-in that has only
the parts their Protocol names — no MainWindow is built here."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QMainWindow, QMessageBox, QSplitter, QWidget

from gdstudio.core import session as sessions
from gdstudio.core.objectives import get_objective
from gdstudio.core.runs import RunConfig
from gdstudio.gui import image_export, persistence, session_io
from gdstudio.gui import settings as app_settings
from gdstudio.gui.actions import SpeedControl
from gdstudio.gui.run_model import RunModel
from gdstudio.gui.views.side_panel import SidePanel

pytestmark = pytest.mark.gui


@pytest.fixture
def warnings_shown(monkeypatch):
    out = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: out.append(a[2]) or QMessageBox.StandardButton.Ok)
    return out


class NoGL:
    """A 3D view without an OpenGL picture."""

    def isValid(self) -> bool:
        return False


def export_stand_in(qtbot) -> QMainWindow:
    host = QMainWindow()
    qtbot.addWidget(host)
    central = QWidget()
    host.setCentralWidget(central)
    plots = {}
    for key in ("contour", "loss"):
        pw = pg.PlotWidget(central)
        pw.plot(np.arange(50.0), np.sin(np.arange(50.0) / 5), pen="r")
        pw.setGeometry(0, 0 if key == "contour" else 200, 300, 200)
        plots[key] = SimpleNamespace(plot_widget=pw)
    host.contour_view, host.loss_chart = plots["contour"], plots["loss"]
    host.surface_view = SimpleNamespace(view=NoGL())
    host.resize(320, 420)
    host.show()
    qtbot.waitExposed(host)
    return host


def test_image_export_on_a_stand_in(qtbot, tmp_path, warnings_shown):
    host = export_stand_in(qtbot)
    assert image_export.render(host, "contour", "png").startswith(b"\x89PNG")
    assert image_export.render(host, "all", "png").startswith(b"\x89PNG")
    assert image_export.export_image(host, str(tmp_path / "loss.png"), "loss")
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert "loss.png" in host.statusBar().currentMessage()
    # the 3D view has no GL picture: a message, no file
    assert not image_export.export_image(host, str(tmp_path / "3d.png"), "3d")
    assert "no OpenGL picture" in warnings_shown[-1] and not (tmp_path / "3d.png").exists()


def settings_stand_in(qtbot, objective=None) -> QMainWindow:
    host = QMainWindow()
    qtbot.addWidget(host)
    host.top_splitter = QSplitter()
    host.central_splitter = QSplitter()
    for sp in (host.top_splitter, host.central_splitter):
        sp.addWidget(QWidget())
        sp.addWidget(QWidget())
    host.side_panel = SidePanel(RunModel())
    host.actions = SimpleNamespace(speed=SpeedControl())
    host.objective = objective
    host.settings = app_settings.Settings()
    host.objectives_set = []
    host.set_objective = host.objectives_set.append
    return host


def test_settings_capture_and_restore_on_stand_ins(qtbot):
    cfg = RunConfig.create("booth", "adam", starts=[(2.5, -1.0)], epochs=321,
                           hyperparams={"lr": 0.05, "beta1": 0.8}, gradient="central", fd_step=0.001)
    a = settings_stand_in(qtbot, get_objective("booth"))
    a.side_panel.apply_config(cfg)
    a.actions.speed.set_speed(50)
    s = persistence.capture(a, app_settings.Settings())
    assert (s.objective, s.optimizer, s.epochs, s.start, s.speed) == ("booth", "adam", 321, (2.5, -1.0), 50)
    assert s.hyperparams["adam"]["beta1"] == 0.8
    assert len(s.splitter_state) > 8  # both splitters packed

    b = settings_stand_in(qtbot)
    persistence.restore(b, s)
    assert b.side_panel.current_config() == a.side_panel.current_config()
    assert b.actions.speed.speed() == 50

    # a formula with its own name is handed to the panel's formula field, which compiles it in the background
    named = dataclasses.replace(s, objective="expr:x**2 + 3*y**2", objective_params={}, objective_title="bowl")
    c = settings_stand_in(qtbot)
    persistence.restore(c, named)
    assert c.objectives_set == []  # nothing compiled on this thread
    qtbot.waitUntil(lambda: c.side_panel.formula_field.objective is not None, timeout=20000)
    assert c.side_panel.current_objective().title == "bowl"
    assert c.side_panel.current_config().optimizer == "adam"
    # one that no longer parses: the default objective at once, the text kept in the field
    d = settings_stand_in(qtbot)
    persistence.restore(d, dataclasses.replace(named, objective="expr:x**"))
    assert [o.name for o in d.objectives_set] == ["rosenbrock"]
    assert d.side_panel.formula_field.text() == "x**"


class FakeController:
    def __init__(self):
        self.started = []
        self.resets = 0

    def reset(self):
        self.resets += 1

    def start(self, configs, objective, **kwargs):
        self.started.append((list(configs), objective, kwargs))
        return list(range(1, len(configs) + 1))


def session_stand_in(qtbot, *, closing=False) -> QMainWindow:
    host = settings_stand_in(qtbot, get_objective("booth"))
    host.model = RunModel()
    host.controller = FakeController()
    host.actions = SimpleNamespace(pause=SimpleNamespace(setChecked=lambda on: None))
    host.closing = closing
    return host


def test_session_save_and_open_on_stand_ins(qtbot, tmp_path, warnings_shown):
    a = session_stand_in(qtbot)
    a.side_panel.apply_config(RunConfig.create("booth", "momentum", starts=[(1.0, 2.0)], epochs=40))
    path = tmp_path / "s.gdsession"
    assert session_io.save_session(a, str(path))  # no runs: the objective and the panel's settings
    assert sessions.load(path).view["panel"]["optimizer"] == "momentum"

    runs = tuple(sessions.SessionRun(RunConfig.create("booth", opt, starts=[(1.0, 2.0)], epochs=30, name=opt),
                                     "#112233", opt == "gd") for opt in ("gd", "adam"))
    sessions.save(path, sessions.Session("booth", {}, runs, {}))
    b = session_stand_in(qtbot)
    assert session_io.open_session(b, str(path))
    (configs, objective, kwargs), = b.controller.started
    assert [c.optimizer for c in configs] == ["gd", "adam"] and objective.spec() == "booth"
    assert kwargs["labels"] == ["gd", "adam"] and kwargs["colors"] == ["#112233", "#112233"]
    assert b.side_panel.optimizer_name() == "adam"  # the panel shows the last run's settings
    assert warnings_shown == []

    # a window that closes while the file is read shows nothing
    c = session_stand_in(qtbot, closing=True)
    assert not session_io.open_session(c, str(path))
    assert c.controller.started == [] and c.controller.resets == 0


def protocol_members(proto) -> set[str]:
    names = set(getattr(proto, "__annotations__", {}))
    names |= {n for n, v in vars(proto).items() if not n.startswith("_") and (callable(v) or isinstance(v, property))}
    return names


@pytest.mark.parametrize("proto", [image_export.ExportWindow, persistence.SettingsWindow, session_io.SessionWindow],
                         ids=lambda p: p.__name__)
def test_the_window_has_what_each_protocol_names(window, proto):
    members = protocol_members(proto)
    assert {"statusBar", "set_objective", "side_panel", "loss_chart"} & members  # the reader sees the members
    assert [m for m in sorted(members) if not hasattr(window, m)] == []
