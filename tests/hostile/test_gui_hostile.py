"""Items 2, 3, 5, 6, 7, 9, 11, 12, 14 through the window, the way a user meets them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QFileDialog, QMessageBox  # noqa: E402

from gdstudio.core import session as S  # noqa: E402
from gdstudio.core.runs import RunConfig  # noqa: E402

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]
BOOTH = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=60, hyperparams={"lr": 0.05})


@pytest.fixture
def warnings_shown(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]) or QMessageBox.StandardButton.Ok)
    return shown


def run_once(qtbot, w, configs=(BOOTH,), **kw):
    with qtbot.waitSignal(w.sig_all_finished, timeout=30000):
        ids = w.start_runs(list(configs), **kw)
    return ids


def snapshot(w):
    p = w.side_panel
    return ([(e.label, e.config) for e in w.model], w.objective.spec(), p.optimizer_name(), p.epochs_spin.value(),
            p.seed_spin.value(), p.x0_edit.text(), p.y0_edit.text())


def session_file(tmp_path, run=None, panel=None, name="s.gdsession"):
    cfg = {**BOOTH.to_dict(), **(run or {})}
    doc = {"format": S.FORMAT, "version": S.VERSION, "objective": {"spec": "booth", "params": {}},
           "runs": [{"config": cfg}], "view": {}}
    if panel is not None:
        doc["view"]["panel"] = {**BOOTH.to_dict(), **panel}
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


# --- item 2 and 11: validate first, then change the window or nothing -----------------------------------
@pytest.mark.parametrize("run", [{"epochs": 2**31}, {"epochs": 10**9}, {"name": "n" * 2_000_000},
                                 {"starts": [[0.0, 0.0]] * 20_000}])
def test_a_refused_session_leaves_the_runs_and_the_panel(make_window, qtbot, tmp_path, warnings_shown, run):
    w = make_window(BOOTH)
    run_once(qtbot, w)
    before = snapshot(w)
    assert not w.open_session(str(session_file(tmp_path, run=run)))
    assert len(warnings_shown) == 1
    assert snapshot(w) == before  # the user's runs are still there, the panel untouched


def test_a_panel_the_spin_boxes_cannot_show_is_dropped_and_the_runs_open(make_window, qtbot, tmp_path,
                                                                         warnings_shown):
    w = make_window(BOOTH)
    w.side_panel.seed_spin.setValue(7)
    path = session_file(tmp_path, run={"seed": 2**40}, panel={"seed": 2**31, "epochs": 2**31})
    with qtbot.waitSignal(w.sig_all_finished, timeout=30000):
        assert w.open_session(str(path))
    assert warnings_shown == []
    assert [e.config.seed for e in w.model] == [2**40]
    assert w.side_panel.seed_spin.value() == 7  # the panel keeps its own settings


def test_opening_a_session_reads_it_off_the_gui_thread(make_window, qtbot, tmp_path, monkeypatch):
    import threading

    from gdstudio.gui import session_io

    w = make_window(BOOTH)
    slow = session_io._prepare
    seen = {}
    gui_ran = threading.Event()

    def prepare(session):
        seen["thread"] = threading.current_thread()
        seen["gui ran meanwhile"] = gui_ran.wait(10)  # only if the GUI's event loop runs during the check
        return slow(session)

    monkeypatch.setattr(session_io, "_prepare", prepare)
    QTimer.singleShot(0, gui_ran.set)
    with qtbot.waitSignal(w.sig_all_finished, timeout=30000):
        assert w.open_session(str(session_file(tmp_path)))
    assert seen["thread"] is not threading.main_thread() and seen["thread"].daemon
    assert seen["gui ran meanwhile"]


# --- item 3 and 14: names ------------------------------------------------------------------------------
def test_a_lone_surrogate_in_a_name_can_be_saved_from_the_menu(make_window, qtbot, tmp_path, monkeypatch,
                                                                warnings_shown):
    w = make_window(BOOTH)
    run_once(qtbot, w, labels=["bad \udcff name"])
    path = tmp_path / "s.gdsession"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    w.actions.save_session.trigger()
    assert warnings_shown == []
    assert S.load(path).runs[0].name == "bad \udcff name"


def test_run_names_are_shown_not_rendered_in_the_legend(make_window, qtbot):
    w = make_window(BOOTH)
    ids = run_once(qtbot, w, labels=["<img src=file:///etc/hostname><b>x</b>"])
    curve = w.loss_chart.layer(ids[0]) if hasattr(w.loss_chart, "layer") else w.loss_chart._runs[ids[0]]
    text = w.loss_chart.legend.getLabel(curve).text
    assert "<img" not in text and "&lt;img src=file:///etc/hostname&gt;&lt;b&gt;x&lt;/b&gt;" in text



def test_run_names_are_shown_not_rendered_in_the_run_list_tooltip(make_window, qtbot):
    from gdstudio.gui.views.run_list import COL_NAME

    w = make_window(BOOTH)
    ids = run_once(qtbot, w, labels=["<img src=file:///etc/hostname><b>x</b>"])
    tip = w.side_panel.runs_list.item(ids[0]).toolTip(COL_NAME)
    assert "<img" not in tip and "&lt;img src=file:///etc/hostname&gt;&lt;b&gt;x&lt;/b&gt;" in tip

# --- item 5 and 7: settings and the hyperparameter form -------------------------------------------------
def test_absurd_settings_do_not_keep_the_window_from_opening(make_window, tmp_path):
    from gdstudio.gui import settings

    store = settings.open_store(str(tmp_path / "gdstudio.ini"))
    for key, raw in (("start/point", f"[{'9' * 400}, 0]"), ("run/speed", "9" * 400),
                     ("optimizer/epochs", "2147483648"), ("optimizer/hyperparams", f'{{"gd": {{"lr": {"9" * 400}}}}}')):
        store.setValue(key, raw)
    store.sync()
    w = make_window(store=True)
    assert w.side_panel.epochs_spin.value() == settings.Settings().epochs


def test_line_search_exact_then_another_optimizer_and_back(make_window, qtbot):
    w = make_window(store=True)  # with a store, each optimizer's hyperparameters are remembered
    p = w.side_panel
    combo = p.optimizer_combo
    combo.setCurrentIndex(combo.findData("line-search"))
    p.hp_form.editors["method"].setCurrentText("exact")
    combo.setCurrentIndex(combo.findData("gd"))
    combo.setCurrentIndex(combo.findData("line-search"))  # KeyError: 'lr' in a slot before the fix
    assert p.hp_form.values()["method"] == "exact"
    assert w.settings.hyperparams_for("line-search")["method"] == "exact"


# --- item 9: formula compiles -------------------------------------------------------------------------
def test_quick_edits_do_not_queue_a_compile_each(make_window, qtbot, monkeypatch):
    from gdstudio.gui.views import formula_field

    started = []
    build = formula_field._build

    def slow_build(text, title, domain):
        started.append(text)
        time.sleep(0.4)
        return build(text, title, domain)

    monkeypatch.setattr(formula_field, "_build", slow_build)
    w = make_window(BOOTH)
    p = w.side_panel
    p.objective_combo.setCurrentIndex(p.objective_combo.count() - 1)
    field = p.formula_field
    qtbot.waitUntil(lambda: not field.busy(), timeout=20000)  # the example formula shown first
    started.clear()
    for text in ("x^2 + y^2", "x^2 + 2*y^2", "x^2 + 3*y^2", "x^2 + 4*y^2"):
        field.formula_edit.setText(text)
        field.check_now()
    qtbot.waitUntil(lambda: field.objective is not None and field.objective.formula == "x^2 + 4*y^2"
                    and not field.busy(), timeout=20000)
    assert started[0] == "x^2 + y^2" and started[-1] == "x^2 + 4*y^2"
    assert len(started) <= 2  # the running one and the latest; the two in between never ran


# --- subprocesses: exits ---------------------------------------------------------------------------------
def run_script(tmp_path, body: str, timeout=60):
    script = tmp_path / "script.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n" + textwrap.dedent(body))
    return subprocess.run([sys.executable, "-X", "faulthandler", str(script), str(tmp_path)],
                          capture_output=True, text=True, timeout=timeout)


def test_quitting_while_the_error_dialog_is_open_exits_zero(tmp_path):
    p = run_script(tmp_path, """
        from PySide6.QtCore import QTimer
        from gdstudio.gui.app import make_app
        app = make_app([])
        from gdstudio.gui import errors
        from gdstudio.gui.main_window import MainWindow
        errors.install(app, log_directory=sys.argv[1])
        w = MainWindow()
        w.show()
        def boom():
            raise ValueError("boom")
        def quit_():
            print("dialog open:", errors._installed.dialog is not None, flush=True)
            app.quit()
        QTimer.singleShot(100, boom)
        QTimer.singleShot(1500, quit_)
        code = app.exec()
        w.close()
        errors.uninstall()
        sys.exit(code)
    """)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "dialog open: True" in p.stdout


def test_a_step_longer_than_the_shutdown_wait_does_not_abort(tmp_path):
    p = run_script(tmp_path, """
        import time
        import numpy as np
        from gdstudio.gui import app as gui_app
        from gdstudio.core.objectives import get_objective
        from gdstudio.core.runs import RunConfig
        from gdstudio.gui.controller import RunController
        from gdstudio.gui.main_window import MainWindow
        from gdstudio.gui.worker import Engine

        RunController.SHUTDOWN_WAIT_MS = 100  # how long closing waits for the step in progress
        Engine.shutdown.__defaults__ = (100,)
        booth = get_objective("booth")

        class Slow(type(booth)):
            def f(self, x, y):
                if np.size(x) == 1 and float(np.ravel(x)[0]) != -8.0:
                    time.sleep(3)  # every step after the start outlasts the wait
                return super().f(x, y)

        def run(self):  # the window's first run (autorun) on the slow objective
            cfg = RunConfig.create("booth", "gd", [(-8.0, 8.0)], 5, {"lr": 0.05})
            return self.controller.start([cfg], Slow())

        MainWindow.run = run
        sys.exit(gui_app.main(["--quit-after", "1.5"]))  # closes mid-step, as the app's own entry point
    """)
    assert p.returncode == 0, p.stderr[-3000:]  # was 134: "QThread: Destroyed while thread is still running"
    assert "QThread: Destroyed" not in p.stderr


def test_closing_mid_compile_does_not_keep_the_process_alive(tmp_path):
    p = run_script(tmp_path, """
        import time
        from PySide6.QtCore import QTimer
        from gdstudio.gui.app import make_app
        app = make_app([])
        from gdstudio.gui.main_window import MainWindow
        from gdstudio.gui.views import formula_field

        def forever(*a):
            time.sleep(120)  # a compile that would take minutes

        formula_field._build = forever
        w = MainWindow()
        w.show()
        p = w.side_panel
        p.objective_combo.setCurrentIndex(p.objective_combo.count() - 1)
        p.formula_field.formula_edit.setText("x^2 + y^2")
        p.formula_field.check_now()
        QTimer.singleShot(500, lambda: (w.close(), app.quit()))
        sys.exit(app.exec())
    """, timeout=30)  # the compile sleeps 120 s: a process that waited for it would time out here
    assert p.returncode == 0, p.stderr[-3000:]
