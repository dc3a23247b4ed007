"""Settings through the window: close → reopen restores what was shown; a corrupt store gives the defaults;
``gdstudio --quit-after`` shows the window and exits 0 by itself."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from gdstudio.core.runs import RunConfig
from gdstudio.gui import defaults
from gdstudio.gui import settings as app_settings
from gdstudio.gui.main_window import MainWindow

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def open_window(qtbot):
    windows = []

    def make(store):
        w = MainWindow(store=store)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()


def shown_config(w: MainWindow) -> RunConfig:
    return w.side_panel.current_config()


def test_settings_round_trip_through_the_window(open_window, tmp_path, qtbot):
    ini = str(tmp_path / "settings.ini")
    w = open_window(app_settings.open_store(ini))
    assert shown_config(w).objective == defaults.FIRST_OBJECTIVE  # nothing stored yet: first launch
    cfg = RunConfig.create("booth", "adam", starts=[(2.5, -1.0)], epochs=321,
                           hyperparams={"lr": 0.05, "beta1": 0.8}, gradient="central", fd_step=0.001)
    w.side_panel.apply_config(cfg)
    w.actions.speed.set_speed(50)
    w.resize(1180, 777)
    w.top_splitter.setSizes([300, 500])
    qtbot.wait(50)
    sizes = w.top_splitter.sizes()
    w.close()
    assert os.path.getsize(ini) > 0

    w2 = open_window(app_settings.open_store(ini))
    got = shown_config(w2)
    assert (got.objective, got.optimizer, got.starts.tolist(), got.epochs, got.gradient, got.fd_step) == \
        ("booth", "adam", [[2.5, -1.0]], 321, "central", 0.001)
    assert got.hp["lr"] == 0.05 and got.hp["beta1"] == 0.8
    assert w2.objective.name == "booth"
    assert w2.actions.speed.speed() == 50
    assert (w2.width(), w2.height()) == (1180, 777)
    assert w2.top_splitter.sizes() == sizes


def test_custom_formula_name_domain_and_recent_are_restored(open_window, tmp_path, qtbot):
    ini = str(tmp_path / "settings.ini")
    w = open_window(app_settings.open_store(ini))
    field = w.side_panel.formula_field
    combo = w.side_panel.objective_combo
    with qtbot.waitSignal(w.sig_objective_changed, timeout=10000):
        combo.setCurrentIndex(combo.findData("expr:"))
    field.title_edit.setText("egg crate")
    field.domain_edits["xmin"].setText("-3")
    with qtbot.waitSignal(field.sig_committed, timeout=10000):
        field.set_formula("sin(x)*sin(y) + 0.05*(x^2 + y^2)", check=False)
        field._on_return()
    assert w.objective.title == "egg crate"
    w.actions.speed.set_speed(math.inf)
    w.close()

    w2 = open_window(app_settings.open_store(ini))
    # the formula compiles in the background after the window is shown (tests/gui/test_formula_startup.py)
    qtbot.waitUntil(lambda: w2.objective is not None, timeout=20000)
    obj = w2.objective
    assert obj.spec() == "expr:sin(x)*sin(y) + 0.05*(x^2 + y^2)" and obj.title == "egg crate"
    assert obj.domain[0] == (-3.0, 5.0)
    f2 = w2.side_panel.formula_field
    assert f2.isVisible() and f2.title() == "egg crate" and f2.domain_edits["xmin"].text() == "-3"
    assert f2.recent()[0] == "sin(x)*sin(y) + 0.05*(x^2 + y^2)"
    assert math.isinf(w2.actions.speed.speed())


@pytest.mark.parametrize("garbage", [b"\x00\xff\xfe[[[not ini",
                                     (b"[problem]\nobjective=\"{{{\"\noptimizer/name=42\n"
                                      b"[window]\ngeometry=@ByteArray(\\xff)\n")])
def test_corrupt_store_gives_the_defaults(open_window, tmp_path, garbage):
    ini = tmp_path / "settings.ini"
    ini.write_bytes(garbage)
    w = open_window(app_settings.open_store(str(ini)))
    cfg = shown_config(w)
    first = defaults.first_config()
    assert (cfg.objective, cfg.optimizer, cfg.starts.tolist()) == (first.objective, first.optimizer,
                                                                   first.starts.tolist())
    assert w.isVisible()
    w.close()  # saving over the damaged file works
    assert app_settings.load(app_settings.open_store(str(ini))).optimizer == first.optimizer


def test_a_stored_formula_that_no_longer_parses_gives_the_defaults(open_window, tmp_path):
    ini = str(tmp_path / "settings.ini")
    store = QSettings(ini, QSettings.Format.IniFormat)
    store.setValue("problem/objective", '"expr:x^^2"')
    store.sync()
    w = open_window(app_settings.open_store(ini))
    assert shown_config(w).objective == defaults.FIRST_OBJECTIVE


def test_without_a_store_nothing_is_written(make_window, tmp_path, monkeypatch):
    w = make_window()
    assert w.settings_store is None and w.save_settings() is False


def test_quit_after_shows_the_window_and_exits_zero(tmp_path):
    """`gdstudio --quit-after 1` (what the packaging test runs on the bundle), here from the source tree."""
    shot = tmp_path / "shot.png"
    env = dict(os.environ, GDSTUDIO_SETTINGS=str(tmp_path / "s.ini"), XDG_STATE_HOME=str(tmp_path / "state"))
    proc = subprocess.run([sys.executable, "-X", "faulthandler", "-m", "gdstudio", "--quit-after", "1.5",
                           "--screenshot", str(shot)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the window was really shown
    # closing saved the settings to the store named by the environment, not the user's
    assert app_settings.load(app_settings.open_store(str(tmp_path / "s.ini"))).window_geometry


def test_command_line_opens_a_session(tmp_path):
    """`gdstudio SESSION.gdsession` opens the window with the session (what the .desktop entry's %f does)."""
    from gdstudio.core import session as sess

    s = sess.Session("booth", runs=(sess.SessionRun(RunConfig.create("booth", "gd", [[1.0, 2.0]], epochs=5,
                                                                     hyperparams={"lr": 0.01})),))
    path = sess.save(tmp_path / "mine.gdsession", s)
    ini = tmp_path / "s.ini"
    env = dict(os.environ, GDSTUDIO_SETTINGS=str(ini), XDG_STATE_HOME=str(tmp_path / "state"))
    proc = subprocess.run([sys.executable, "-m", "gdstudio", str(path), "--quit-after", "2"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # the window showed the session's objective
    assert app_settings.load(app_settings.open_store(str(ini))).objective == "booth"


def test_each_optimizer_keeps_its_hyperparameters(open_window, tmp_path):
    ini = str(tmp_path / "settings.ini")
    w = open_window(app_settings.open_store(ini))
    panel = w.side_panel
    combo = panel.optimizer_combo
    combo.setCurrentIndex(combo.findData("gd"))
    lr = panel.hp_form.editors["lr"]
    lr.setText("0.125")
    lr.editingFinished.emit()
    combo.setCurrentIndex(combo.findData("adam"))
    assert panel.hp_form.values()["lr"] != 0.125
    combo.setCurrentIndex(combo.findData("gd"))
    assert panel.hp_form.values()["lr"] == 0.125
    combo.setCurrentIndex(combo.findData("adam"))
    w.close()
    w2 = open_window(app_settings.open_store(ini))
    assert w2.side_panel.optimizer_name() == "adam"
    w2.side_panel.optimizer_combo.setCurrentIndex(w2.side_panel.optimizer_combo.findData("gd"))
    assert w2.side_panel.hp_form.values()["lr"] == 0.125
