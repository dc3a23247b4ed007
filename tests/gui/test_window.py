"""The main window, for real under Xvfb: objectives, clicks, runs, pause/step/reset, export, divergence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from gdstudio.core.export import write_csv
from gdstudio.core.objectives import objective_names
from gdstudio.core.runs import RunConfig, Status, run

pytestmark = pytest.mark.gui


def start_xy(window):
    return float(window.side_panel.x0_edit.text()), float(window.side_panel.y0_edit.text())


def run_to_end(qtbot, window, timeout=20000):
    with qtbot.waitSignal(window.sig_all_finished, timeout=timeout):
        ids = window.run()
        assert ids
    return window.model.get(ids[0])


def test_first_launch_shows_the_default_objective(window):
    # Opened with a config: the panel and every view show it.
    assert window.side_panel.objective_name() == "booth"
    assert window.surface is not None and window.surface.objective.name == "booth"
    assert window.contour_view.image.image is not None
    assert "Ready" in window.status_label.text()


def test_changing_the_objective_changes_the_surfaces(window, qtbot):
    before_img = np.array(window.contour_view.image.image, copy=True)
    before_z = np.array(window.surface_view.surface_item._z, copy=True)
    combo = window.side_panel.objective_combo
    combo.setCurrentIndex(combo.findData("rosenbrock"))
    assert window.objective.name == "rosenbrock"
    after_img = window.contour_view.image.image
    after_z = window.surface_view.surface_item._z
    assert after_img.shape == before_img.shape
    assert not np.allclose(np.nan_to_num(after_img), np.nan_to_num(before_img))
    assert not np.allclose(np.nan_to_num(after_z), np.nan_to_num(before_z))
    # Rosenbrock spans decades: the drawn contour lines sit at losses log-spaced between the lowest and
    # highest sampled values: 1 + f_k − f* = (1 + lo − f*)^(1 − t) (1 + hi − f*)^t, t = k/15, k = 1..14,
    # with f* = 0 the known minimum (computed here from the raw grid, not through the view's scale functions).
    f = window.surface.f
    lo, hi, fstar = float(np.nanmin(f)), float(np.nanmax(f)), 0.0
    drawn = np.asarray(window.contour_view.levels)
    assert len(window.contour_view.isocurves) == 1 and window.contour_view.isocurves[0].xData.size  # one item
    f_drawn = fstar + np.expm1(drawn)
    t = np.arange(1, 15) / 15
    expected = fstar - 1 + (1 + lo - fstar) ** (1 - t) * (1 + hi - fstar) ** t
    np.testing.assert_allclose(f_drawn, expected, rtol=1e-9)
    assert np.diff(f_drawn)[-1] > 100 * np.diff(f_drawn)[0]  # not linear: the valley floor gets lines too
    # Objective parameters form: quadratic has kappa.
    combo.setCurrentIndex(combo.findData("quadratic"))
    assert "kappa" in window.side_panel.objective_form.editors


def test_every_objective_draws(window):
    combo = window.side_panel.objective_combo
    for name in objective_names():
        combo.setCurrentIndex(combo.findData(name))
        assert window.objective.name == name
        assert np.isfinite(window.surface.c).any()


def test_click_on_contour_sets_the_start(window, qtbot):
    cv = window.contour_view
    target = (2.5, -4.0)
    pos = cv.scene_position(*target)
    QTest.mouseClick(cv.plot_widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(round(pos.x()), round(pos.y())))
    x, y = start_xy(window)
    px = 20.0 / cv.plot_widget.width()  # one pixel of the domain (20 wide), twice
    assert abs(x - target[0]) < 20 * px * 2 and abs(y - target[1]) < 20 * px * 2


@pytest.mark.parametrize("camera", [dict(elevation=55, azimuth=-65), dict(elevation=40, azimuth=130)])
def test_click_on_3d_surface_picks_the_surface_point(make_window, qtbot, camera):
    cfg = RunConfig.create("sphere", "gd", starts=[(3.0, 3.0)], epochs=10, hyperparams={"lr": 0.1})
    w = make_window(cfg)
    sv = w.surface_view
    if not sv.view.isValid():
        pytest.skip("no OpenGL context")
    sv.view.setCameraPosition(**camera)
    target = (1.0, -1.5)
    px, py = sv.screen_position(*target)
    assert 0 < px < sv.view.width() and 0 < py < sv.view.height()
    QTest.mouseClick(sv.view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(round(px), round(py)))
    x, y = start_xy(w)
    tol = 10.0 / 60  # domain 10 wide; a pixel is about 10/500 at this size: allow a few
    assert abs(x - target[0]) < tol and abs(y - target[1]) < tol


def test_drag_on_3d_view_rotates_and_does_not_pick(window, qtbot):
    sv = window.surface_view
    if not sv.view.isValid():
        pytest.skip("no OpenGL context")
    before = start_xy(window)
    az = sv.view.opts["azimuth"]
    c = QPoint(sv.view.width() // 2, sv.view.height() // 2)
    QTest.mousePress(sv.view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, c)
    for dx in (10, 20, 40):
        ev_pos = c + QPoint(dx, 0)
        QTest.mouseMove(sv.view, ev_pos)
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QMouseEvent

    move = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(c + QPoint(60, 0)), QPointF(c + QPoint(60, 0)),
                       Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(sv.view, move)
    QTest.mouseRelease(sv.view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, c + QPoint(60, 0))
    assert start_xy(window) == before
    assert sv.view.opts["azimuth"] != az


def test_run_to_completion_fills_path_and_loss_chart(window, qtbot, booth_config):
    e = run_to_end(qtbot, window)
    n = booth_config.epochs + 1
    assert len(e) == n and e.status == Status.COMPLETED
    items = window.contour_view._runs[e.run_id]
    xd, yd = items.path.getData()
    assert len(xd) == n
    kd, ld = window.loss_chart.curve(e.run_id).getData()
    assert len(kd) == n and np.isfinite(ld).all()
    # The drawn path is the core's trajectory, every step.
    ref = run(booth_config)[0]
    assert np.array_equal(np.column_stack([xd, yd]), ref.x)
    assert "completed" in window.status_label.text() and f"step {booth_config.epochs}" in window.status_label.text()
    if window.surface_view.view.isValid():
        assert len(window.surface_view._runs[e.run_id].line.pos) == 2 * booth_config.epochs
    # log scale toggle keeps the curve
    window.actions.log_scale.setChecked(True)
    assert window.loss_chart.log_scale
    assert len(window.loss_chart.curve(e.run_id).getData()[0]) == n


def test_pause_step_resume_and_reset(window, qtbot):
    cfg = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=1_000_000, hyperparams={"lr": 1e-4})
    window.side_panel.apply_config(cfg)
    window.actions.speed.set_speed(200)
    [rid] = window.run()
    e = window.model.get(rid)
    qtbot.waitUntil(lambda: len(e) >= 3, timeout=5000)
    window.pause()
    assert window.actions.pause.text().replace("&", "") == "Resume"
    qtbot.wait(150)  # let a step in flight arrive
    k = e.last_k
    qtbot.wait(150)
    assert e.last_k == k, "a paused run must not advance"
    window.step()
    qtbot.waitUntil(lambda: e.last_k == k + 1, timeout=3000)
    window.step()
    qtbot.waitUntil(lambda: e.last_k == k + 2, timeout=3000)
    assert f"step {k + 2:,}" in window.status_label.text() and "paused" in window.status_label.text()
    window.run()  # Run while paused resumes
    qtbot.waitUntil(lambda: e.last_k > k + 4, timeout=5000)
    # Steps arrive in order, with no gap: every step is kept.
    assert np.array_equal(e.steps, np.arange(len(e)))
    window.reset()
    assert len(window.model) == 0
    assert not window.contour_view._runs and not window.loss_chart._runs
    qtbot.wait(100)  # stale batches after Reset are dropped
    assert len(window.model) == 0
    assert "Ready" in window.status_label.text()
    assert window.controller.engine.active_ids() == []


def test_step_with_no_run_starts_one_paused(window, qtbot):
    window.step()
    qtbot.waitUntil(lambda: window.model.latest() is not None and len(window.model.latest()) == 2, timeout=3000)
    e = window.model.latest()
    qtbot.wait(100)
    assert len(e) == 2 and e.running and window.controller.paused


def test_click_during_a_run_starts_a_fresh_run_there(window, qtbot):
    cfg = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=1_000_000, hyperparams={"lr": 1e-4})
    window.side_panel.apply_config(cfg)
    window.actions.speed.set_speed(100)
    [rid] = window.run()
    qtbot.waitUntil(lambda: len(window.model.get(rid)) > 1, timeout=5000)
    window.contour_view.sig_point_clicked.emit(4.0, -2.0)
    assert rid not in window.model
    e = window.model.latest()
    assert e.config.starts.tolist() == [[4.0, -2.0]]
    qtbot.waitUntil(lambda: len(e) > 1, timeout=5000)
    assert np.allclose(e.x[0, 0], (4.0, -2.0))
    window.reset()


def test_export_matches_the_core_csv(window, qtbot, tmp_path, booth_config):
    run_to_end(qtbot, window)
    out = tmp_path / "gui.csv"
    assert window.export_trajectory(str(out))
    ref = tmp_path / "core.csv"
    write_csv(ref, [run(booth_config.replace(name="gd ε=0.05"))])  # the run's name is its CSV run column
    assert out.read_text() == ref.read_text()
    from gdstudio.gui.main_window import default_csv_name

    assert default_csv_name(booth_config) == "booth-gd.csv"


def test_export_during_a_paused_run_holds_every_step_so_far(window, qtbot, tmp_path):
    cfg = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=100_000, hyperparams={"lr": 1e-4})
    window.side_panel.apply_config(cfg)
    window.actions.speed.set_speed(500)
    [rid] = window.run()
    e = window.model.get(rid)
    qtbot.waitUntil(lambda: len(e) >= 5, timeout=5000)
    window.pause()
    qtbot.wait(150)
    out = tmp_path / "partial.csv"
    assert window.export_trajectory(str(out))
    from gdstudio.core.export import read_csv

    rows = read_csv(out)
    assert rows["step"] == list(range(len(rows["step"])))
    assert len(rows["step"]) >= len(e)
    ref = run(cfg.replace(epochs=len(rows["step"]) - 1))[0]
    assert np.array_equal(np.column_stack([rows["x"], rows["y"]]), ref.x)
    window.reset()


def test_unwritable_export_path_gives_a_message_and_changes_nothing(window, qtbot, tmp_path, monkeypatch):
    run_to_end(qtbot, window)
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]) or QMessageBox.StandardButton.Ok)
    target = tmp_path / "out.csv"
    target.mkdir()  # a folder where the file should go: the write must fail, the folder stay as it was
    (target / "keep.txt").write_text("keep")
    assert not window.export_trajectory(str(target))
    assert shown and str(target) in shown[0] and "No file was changed" in shown[0]
    assert (target / "keep.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temporary file left behind
    shown.clear()
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert not window.export_trajectory(str(blocker / "sub.csv"))
    assert shown and blocker.read_text() == "x"


def test_diverging_run_is_shown_as_diverged(window, qtbot):
    cfg = RunConfig.create("booth", "gd", starts=[(0.0, 0.0)], epochs=2000, hyperparams={"lr": 0.2})
    window.side_panel.apply_config(cfg)
    e = run_to_end(qtbot, window)
    assert e.status == Status.DIVERGED
    assert "diverged" in window.status_label.text()
    assert len(e) < 2001  # the path stops where it diverged
    assert np.isfinite(e.x[:, 0]).all()


def test_invalid_input_is_reported_not_raised(window, qtbot):
    form = window.side_panel.hp_form
    form.editors["lr"].setText("-1")
    form.editors["lr"].textEdited.emit("-1")
    assert form.errors["lr"].isVisible() and "lr" in form.errors["lr"].text()
    assert window.run() == []
    assert "lr" in window.statusBar().currentMessage()
    assert len(window.model) == 0
    window.side_panel.x0_edit.setText("abc")
    form.editors["lr"].setText("0.01")
    assert window.run() == []
    panel = window.side_panel
    assert "x₀" in panel.field_errors[panel.x0_edit].text() and panel.marked_fields() == [panel.x0_edit]


def test_hyperparameter_form_follows_the_optimizer_specs(window):
    from gdstudio.core.optimizers import OPTIMIZERS

    combo = window.side_panel.optimizer_combo
    for name, cls in OPTIMIZERS.items():
        combo.setCurrentIndex(combo.findData(name))
        assert list(window.side_panel.hp_form.editors) == [h.name for h in cls.hyperparams]
        assert cls.rule in window.side_panel.rule_label.text()
        assert window.side_panel.seed_spin.isEnabled() == bool(cls.stochastic)
        cfg = window.current_config()
        assert cfg.optimizer == name and set(cfg.hp) == {h.name for h in cls.hyperparams}


def test_several_runs_at_once_each_get_a_colour_and_curve(window, qtbot):
    base = window.current_config()
    cfgs = [base.replace(hyperparams={"lr": lr}, epochs=50) for lr in (0.01, 0.03, 0.05)]
    with qtbot.waitSignal(window.sig_all_finished, timeout=20000):
        ids = window.start_runs(cfgs)
    assert len(ids) == 3 and len({window.model.get(i).color.name() for i in ids}) == 3
    assert all(len(window.model.get(i)) == 51 for i in ids)
    assert set(window.loss_chart._runs) == set(ids)
    assert len(window.results()) == 3
    window.model.set_visible(ids[1], False)
    assert not window.contour_view._runs[ids[1]].path.isVisible()
    assert len(window.results()) == 2


def test_dark_palette_gives_dark_charts(qapp, make_window, booth_config):
    old = qapp.palette()
    pal = QPalette(old)
    for role, c in ((QPalette.ColorRole.Window, "#2b2b2b"), (QPalette.ColorRole.Base, "#1e1e1e"),
                    (QPalette.ColorRole.Text, "#e6e6e6"), (QPalette.ColorRole.WindowText, "#e6e6e6")):
        pal.setColor(role, QColor(c))
    qapp.setPalette(pal)
    try:
        w = make_window(booth_config)
        bg = w.loss_chart.plot_widget.backgroundBrush().color()
        assert bg.lightness() < 100
        assert w.loss_chart.plot.getAxis("left").textPen().color().lightness() > 150
    finally:
        qapp.setPalette(old)


def test_speed_control_reaches_the_engine(window):
    window.actions.speed.set_speed(math.inf)
    assert math.isinf(window.controller.engine.speed)
    window.actions.speed.set_speed(10)
    assert window.controller.engine.speed == 10


def test_custom_objective_with_holes_shows_gaps_and_runs(window, qtbot):
    from gdstudio.core.objectives import get_objective

    obj = get_objective("expr:log(x) + y^2")
    window.set_objective(obj)
    assert window.objective is obj
    assert window.side_panel.objective_name() == obj.spec()
    assert "log(x)" in window.side_panel.objective_combo.currentText()
    img = window.contour_view.image.image
    assert np.isnan(img).any() and np.isfinite(img).any()
    colors = window.surface_view.colors
    assert (colors[..., 3] == 0).any() and (colors[..., 3] == 1).any()
    window.side_panel.set_start(3.0, 4.0)
    cfg = window.current_config()
    assert cfg.objective == obj.spec()
    e = run_to_end(qtbot, window)
    assert e.status in (Status.DIVERGED, Status.COMPLETED)
    # Back to a built-in: the custom entry goes away.
    combo = window.side_panel.objective_combo
    combo.setCurrentIndex(combo.findData("sphere"))
    assert window.objective.name == "sphere" and combo.findData(obj.spec()) == -1


def test_toolbar_actions_and_shortcuts_drive_the_run(window, qtbot):
    cfg = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=1_000_000, hyperparams={"lr": 1e-4})
    window.side_panel.apply_config(cfg)
    window.actions.speed.set_speed(200)
    assert window.actions.run.shortcut().toString() == "F5"
    assert window.actions.step.shortcut().toString() == "F10"
    assert window.actions.reset.shortcut().toString() == "Ctrl+R"
    assert not window.actions.pause.isEnabled()
    window.actions.run.trigger()
    e = window.model.latest()
    qtbot.waitUntil(lambda: len(e) > 2, timeout=5000)
    assert window.actions.pause.isEnabled()
    window.actions.pause.trigger()
    assert window.controller.paused and window.actions.pause.text().replace("&", "") == "Resume"
    assert window.actions.run.text().replace("&", "") == "Run"  # one Resume in the toolbar, not two
    window.actions.pause.trigger()
    assert not window.controller.paused
    window.actions.reset.trigger()
    assert len(window.model) == 0 and not window.actions.pause.isEnabled()


def test_colour_bars_read_in_f_on_log_surfaces(make_window):
    w = make_window(RunConfig.create("rosenbrock", "gd", starts=[(-1.5, 2.0)], epochs=5, hyperparams={"lr": 1e-4}))
    s = w.surface
    for axis in (w.contour_view.colorbar.axis, w.surface_view.colorbar.bar.axis):
        [(_, values)] = axis.tickValues(s.cmin, s.cmax, 400)
        labels = axis.tickStrings(values, 1, 1)
        assert "10⁰" in labels and "10¹" in labels and "10²" in labels  # one notation: every decade 10ⁿ


def test_objective_parameters_and_gradient_source_reach_the_config(window, qtbot):
    combo = window.side_panel.objective_combo
    combo.setCurrentIndex(combo.findData("quadratic"))
    before = np.array(window.contour_view.image.image, copy=True)
    kappa = window.side_panel.objective_form.editors["kappa"]
    kappa.setText("50")
    kappa.editingFinished.emit()
    assert window.objective.params["kappa"] == 50
    assert not np.allclose(np.nan_to_num(window.contour_view.image.image), np.nan_to_num(before))
    g = window.side_panel.gradient_combo
    assert not window.side_panel.h_edit.isEnabled()
    g.setCurrentIndex(g.findData("central"))
    assert window.side_panel.h_edit.isEnabled()
    window.side_panel.h_edit.setText("1e-4")
    cfg = window.current_config()
    assert cfg.objective == "quadratic" and dict(cfg.objective_params)["kappa"] == 50
    assert cfg.gradient == "central" and cfg.fd_step == 1e-4
    window.side_panel.h_edit.setText("-1")
    panel = window.side_panel
    assert window.run() == [] and "h" in panel.field_errors[panel.h_edit].text()
    # apply_config round-trips a config through the panel
    window.side_panel.h_edit.setText("1e-4")
    window.side_panel.apply_config(cfg)
    assert window.current_config() == cfg


def test_loss_axis_is_log_only_for_positive_objectives(make_window, qtbot):
    w = make_window(RunConfig.create("booth", "gd", [(0.0, 0.0)], 20, {"lr": 0.01}))
    assert w.actions.log_scale.isChecked() and w.loss_chart.log_scale
    w.side_panel.apply_config(RunConfig.create("saddle", "gd", [(0.5, 0.1)], 20, {"lr": 0.1}))
    assert w.objective.name == "saddle"
    assert not w.loss_chart.log_scale  # a saddle's loss goes negative: a log axis would show nothing
    run_to_end(qtbot, w)
    w.actions.log_scale.setChecked(True)  # the user may still ask for it: the chart says what it hides
    assert "> 0" in w.loss_chart.plot.getAxis("left").labelText and "≤ 0" in w.loss_chart.toolTip()
