"""See why in the window: the timeline selects a step, the inspector shows what analysis computes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from gdstudio.core import analysis as an
from gdstudio.core.objectives import get_objective
from gdstudio.core.runs import RunConfig
from gdstudio.gui import see_why
from gdstudio.gui.views.inspector import TABS, num, vec

pytestmark = pytest.mark.gui


def run_to_end(qtbot, window, timeout=20000):
    with qtbot.waitSignal(window.sig_all_finished, timeout=timeout):
        ids = window.run()
        assert ids
    return window.model.get(ids[0])


def cfg(objective, optimizer, start, epochs, **hp):
    return RunConfig.create(objective, optimizer, starts=[start], epochs=epochs, hyperparams=hp)


def test_nothing_selected_at_first(window):
    sw = window.see_why
    assert sw.picture is None and sw.k is None
    assert not sw.timeline.isEnabled()
    assert "Select a step" in sw.inspector.header.text()
    assert all(not a.isChecked() for a in sw.layer_actions.values())


def test_selecting_a_step_shows_the_numbers_analysis_computes(make_window, qtbot):
    c = cfg("booth", "momentum", (-8.0, 8.0), 40, lr=0.02, momentum=0.8)
    w = make_window(c)
    entry = run_to_end(qtbot, w)
    sw = w.see_why
    assert sw.timeline.isEnabled() and sw.timeline.slider.maximum() == entry.last_k == 40
    sw.timeline.select(5)
    e = an.explain_step(c, 5)
    p = sw.picture
    assert p is not None and p.explanation.k == 5
    np.testing.assert_array_equal(p.explanation.x, e.x)
    np.testing.assert_array_equal(p.explanation.gradient, e.gradient)
    np.testing.assert_allclose(p.explanation.update, e.update, rtol=1e-15)
    arrows = {a.key: a for a in p.arrows}
    assert set(arrows) >= {"∇f", "−∇f", "update", "state:buf"}  # momentum keeps a velocity
    np.testing.assert_array_equal(arrows["update"].drawn, e.update)  # the update at its true size
    np.testing.assert_allclose(arrows["state:buf"].vector, e.state_after["buf"])
    # the gradient arrows are scaled together, along the gradient
    g = arrows["∇f"]
    gd, gg = g.drawn / np.linalg.norm(g.drawn), e.gradient / np.linalg.norm(e.gradient)
    np.testing.assert_allclose(gd, gg, rtol=1e-12)
    text = sw.inspector.tab_text("Step")
    for v in (num(e.value, 8), vec(e.gradient), vec(e.update)):
        assert v in text
    assert "step 5" in sw.inspector.header.text()
    # another step replaces the picture
    sw.timeline.select(12)
    assert sw.picture.explanation.k == 12
    np.testing.assert_array_equal(sw.picture.explanation.x, an.explain_step(c, 12).x)


def test_every_tab_is_filled(make_window, qtbot):
    c = cfg("himmelblau", "newton", (0.5, 0.5), 10)
    w = make_window(c)
    run_to_end(qtbot, w)
    sw = w.see_why
    sw.timeline.select(0)
    ins = sw.inspector
    for name in TABS:
        assert ins.tab_text(name), name
    f = get_objective("himmelblau")
    info = an.hessian_info(f, (0.5, 0.5))
    assert info.verdict in ins.tab_text("Hessian") and vec(info.eigenvalues) in ins.tab_text("Hessian")
    gc = sw.picture.gradcheck
    assert num(gc.error_central, 3) in ins.tab_text("Gradient check")
    # Newton's stationary point of the model is where the run went
    np.testing.assert_allclose(sw.picture.quadratic.newton_point, an.explain_step(c, 0).next_x, rtol=1e-10)
    for chart in ins.charts():
        curves = chart.getPlotItem().listDataItems()
        assert any(ci.getData()[0] is not None and len(ci.getData()[0]) for ci in curves)
    # log-log error charts
    assert ins.fd_chart.getPlotItem().ctrl.logXCheck.isChecked()
    assert ins.linear_error_chart.getPlotItem().ctrl.logYCheck.isChecked()


def test_line_search_tab_shows_the_tried_and_chosen_t(make_window, qtbot):
    c = cfg("rosenbrock", "line-search", (-1.5, 2.0), 8)
    w = make_window(c)
    run_to_end(qtbot, w)
    sw = w.see_why
    sw.timeline.select(2)
    e = an.explain_step(c, 2)
    ls = sw.picture.line_search
    assert ls.searched and ls.chosen_t == float(e.info["t"])
    tried = e.info["tried_t"][np.isfinite(e.info["tried_t"])]
    np.testing.assert_array_equal(ls.tried_t, tried)
    assert num(ls.chosen_t) in sw.inspector.tab_text("Line search")
    names = [ci.name() for ci in sw.inspector.line_chart.getPlotItem().listDataItems()]
    assert "tried t" in names and "chosen t" in names


def test_angle_turns_the_linear_approximation_direction(make_window, qtbot):
    c = cfg("himmelblau", "gd", (0.0, 0.0), 5, lr=0.01)
    w = make_window(c)
    run_to_end(qtbot, w)
    sw = w.see_why
    sw.timeline.select(1)
    g = sw.picture.explanation.gradient
    np.testing.assert_allclose(sw.picture.linear.direction, -g / np.linalg.norm(g), rtol=1e-12)
    sw.inspector.angle.setValue(90)
    u = sw.picture.linear.direction
    assert abs(u @ g) < 1e-12 * np.linalg.norm(g) and sw.picture.angle == 90
    assert sw.picture.linear.slope == pytest.approx(0, abs=1e-9)


def test_click_on_a_path_point_selects_its_step(make_window, qtbot):
    c = cfg("booth", "gd", (-8.0, 8.0), 30, lr=0.02)
    w = make_window(c)
    entry = run_to_end(qtbot, w)
    start_before = w.side_panel.start()
    cv = w.contour_view
    target = entry.x[7, 0]
    pos = cv.scene_position(*target)
    QTest.mouseClick(cv.plot_widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(round(pos.x()), round(pos.y())))
    sw = w.see_why
    # consecutive points may be closer than a pixel apart: the nearest one is selected
    assert sw.k is not None and np.linalg.norm(entry.x[sw.k, 0] - target) < 0.1
    assert sw.timeline.step() == sw.k
    assert w.side_panel.start() == start_before  # not a new start
    # far from the path: a click sets the start as before
    pos = cv.scene_position(8.0, -8.0)
    QTest.mouseClick(cv.plot_widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(round(pos.x()), round(pos.y())))
    assert w.side_panel.start() != start_before


def test_far_steps_replay_without_blocking(make_window, qtbot, monkeypatch):
    monkeypatch.setattr(see_why, "REPLAY_CHUNK", 50)
    c = cfg("booth", "gd", (-8.0, 8.0), 400, lr=0.001)
    w = make_window(c)
    run_to_end(qtbot, w)
    sw = w.see_why
    sw.timeline.select(390)
    assert sw.picture is None and "Replaying" in sw.inspector.header.text()
    qtbot.waitUntil(lambda: sw.picture is not None, timeout=10000)
    assert sw.picture.explanation.k == 390
    np.testing.assert_array_equal(sw.picture.explanation.x, an.explain_step(c, 390).x)


def test_selection_during_a_run_and_after_reset(make_window, qtbot):
    c = cfg("booth", "gd", (-8.0, 8.0), 100000, lr=0.001)
    w = make_window(c)
    w.step()  # a paused run with its first update
    qtbot.waitUntil(lambda: w.see_why.timeline.slider.maximum() >= 1, timeout=10000)
    sw = w.see_why
    sw.timeline.select(1)
    assert sw.picture is not None and sw.picture.explanation.k == 1
    assert not sw.select_step(10**7)  # beyond what the window has: refused, nothing breaks
    w.reset()
    assert sw.picture is None and "Select a step" in sw.inspector.header.text()


def test_changing_the_objective_clears_the_selection(make_window, qtbot):
    c = cfg("booth", "gd", (-8.0, 8.0), 10, lr=0.02)
    w = make_window(c)
    run_to_end(qtbot, w)
    sw = w.see_why
    sw.timeline.select(3)
    sw.layer_actions["arrows"].setChecked(True)
    assert sw.contour.items_of("arrows")
    combo = w.side_panel.objective_combo
    combo.setCurrentIndex(combo.findData("himmelblau"))
    assert sw.picture is None and not sw.contour.items_of("arrows") and not sw.surface.items_of("arrows")


def test_dragging_the_slider_is_throttled_but_ends_on_the_last_position(make_window, qtbot):
    c = cfg("booth", "gd", (-8.0, 8.0), 60, lr=0.02)
    w = make_window(c)
    run_to_end(qtbot, w)
    sw = w.see_why
    computed = []
    sw.sig_picture.connect(lambda p: computed.append(None if p is None else p.explanation.k))
    sw.timeline.slider.setSliderDown(True)
    for k in range(1, 41):
        sw.timeline.slider.setValue(k)
    assert computed == [1]  # one picture at once, the rest coalesced
    qtbot.waitUntil(lambda: computed[-1] == 40, timeout=3000)
    sw.timeline.slider.setSliderDown(False)
    assert len(computed) < 5 and sw.picture.explanation.k == 40 and sw.timeline.step() == 40


def test_each_start_of_a_multi_start_run_is_explained(make_window, qtbot):
    c = RunConfig.create("himmelblau", "gd", starts=[(0.0, 0.0), (-2.0, 2.0)], epochs=15, hyperparams={"lr": 0.01})
    w = make_window(c)
    with qtbot.waitSignal(w.sig_all_finished, timeout=20000):
        w.start_runs([c])  # the panel describes one start; several come from start_runs
    sw = w.see_why
    assert sw.timeline.start_spin.isVisibleTo(sw.timeline) and sw.timeline.start_spin.maximum() == 1
    sw.timeline.start_spin.setValue(1)
    sw.timeline.select(4)
    e = an.explain_step(c, 4, start=1)
    assert sw.picture.start == 1
    np.testing.assert_array_equal(sw.picture.explanation.x, e.x)
    np.testing.assert_array_equal(sw.picture.explanation.update, e.update)


def test_the_see_why_menu_is_in_the_view_menu(window):
    view = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View")
    assert window.see_why.menu.menuAction() in view.actions()
    texts = [a.text() for a in window.see_why.menu.actions()]
    assert any("panel" in t for t in texts)


def test_hidden_tabs_are_filled_when_opened(make_window, qtbot):
    c = cfg("booth", "gd", (-8.0, 8.0), 10, lr=0.02)
    w = make_window(c)
    run_to_end(qtbot, w)
    sw = w.see_why
    ins = sw.inspector
    ins.tabs.setCurrentIndex(TABS.index("Step"))
    sw.timeline.select(2)
    assert ins.pages["Step"].text.text()
    assert not ins.pages["Gradient check"].text.text()  # not drawn while hidden
    ins.tabs.setCurrentIndex(TABS.index("Gradient check"))
    assert num(sw.picture.gradcheck.error_central, 3) in ins.pages["Gradient check"].text.text()
    sw.timeline.select(3)  # a new step: the open tab is redrawn at once
    assert num(an.explain_step(c, 3).gradient[0], 10) in ins.pages["Gradient check"].text.text()


def test_the_step_tab_shows_the_optimizers_derived_quantities_by_their_labels(make_window, qtbot):
    c = cfg("rosenbrock", "adam", (-1.5, 2.0), 20, lr=0.05)
    w = make_window(c)
    run_to_end(qtbot, w)
    sw = w.see_why
    sw.timeline.select(4)
    e = an.explain_step(c, 4)
    text = sw.inspector.tab_text("Step")
    assert "per-coordinate step ε/(√v̂+ϵ)" in text and vec(e.derived["step_size"]) in text
    assert "step_size" not in text and "m_hat" not in text  # stable keys are for code, labels for people
    arrows = {a.key: a for a in sw.picture.arrows}
    assert {"derived:m_hat", "derived:step_size"} <= set(arrows)


def test_opening_the_panel_after_a_run_explains_its_first_step(make_window, qtbot):
    from PySide6.QtWidgets import QToolBar

    c = cfg("booth", "gd", (-8.0, 8.0), 30, lr=0.02)
    w = make_window(c)
    run_to_end(qtbot, w)
    sw = w.see_why
    assert sw.dock.isHidden() and sw.k is None
    toolbar = w.findChild(QToolBar, "run_toolbar")
    toggle = sw.dock.toggleViewAction()
    assert toggle in toolbar.actions()
    toggle.trigger()  # the toolbar's "See why"
    qtbot.waitUntil(lambda: sw.picture is not None, timeout=10000)
    assert sw.k == 0 and sw.timeline.spin.value() == 0
    np.testing.assert_array_equal(sw.picture.explanation.gradient, an.explain_step(c, 0).gradient)
    assert "Select a step" not in sw.inspector.header.text()
    sw.timeline.select(7)  # a selection the user made survives closing and reopening the panel
    toggle.trigger()
    toggle.trigger()
    qtbot.waitUntil(lambda: sw.dock.isVisible(), timeout=5000)
    assert sw.k == 7


def test_a_large_optimizer_state_is_named_by_its_shape_not_listed(make_window, qtbot):
    """L-BFGS keeps history_size pairs (Δx, Δ∇f): the Step tab names those arrays by their shape, and still lists
    the small entries (its step t, its direction d)."""
    c = cfg("rosenbrock", "lbfgs", (-1.5, 2.0), 5)
    w = make_window(c)
    run_to_end(qtbot, w)
    sw = w.see_why
    sw.timeline.select(2)
    text = sw.inspector.tab_text("Step")
    e = an.explain_step(c, 2)
    big = [k for k, v in e.state_after.items() if np.size(v) > 12]
    assert big, "L-BFGS's history arrays are large"
    for k in big:
        shape = " × ".join(str(n) for n in np.shape(e.state_after[k]))
        assert f"{shape} array (too large to list)" in text
    assert vec(e.state_after["d"]) in text
