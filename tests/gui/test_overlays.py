"""See why overlays on the contour map and the 3D surface: toggles add and remove items, they draw what
analysis computes, critical points are marked by kind."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from gdstudio.core import analysis as an
from gdstudio.core.objectives import get_objective
from gdstudio.core.runs import RunConfig
from gdstudio.gui.views.overlays import KIND_STYLE, LAYERS

pytestmark = pytest.mark.gui


@pytest.fixture
def newton_window(make_window, qtbot):
    c = RunConfig.create("himmelblau", "newton", starts=[(0.5, 0.5)], epochs=8)
    w = make_window(c)
    with qtbot.waitSignal(w.sig_all_finished, timeout=20000):
        assert w.run()
    return w, c


def in_plot(w, item) -> bool:
    return item.scene() is w.contour_view.plot.scene()


def test_layers_are_off_by_default_and_toggle_items_in_and_out(newton_window):
    w, _ = newton_window
    sw = w.see_why
    sw.timeline.select(0)
    # the selected point is marked; no layer is drawn yet
    assert len(sw.contour.selected.data) == 1
    assert all(not sw.contour.items_of(n) and not sw.surface.items_of(n) for n in LAYERS)
    view_menu = [a.text() for a in sw.menu.actions()]
    assert all(sw.layer_actions[n].text() in view_menu for n in LAYERS)
    for name in LAYERS:
        sw.layer_actions[name].setChecked(True)
        items2d, items3d = sw.contour.items_of(name), sw.surface.items_of(name)
        assert items2d and all(in_plot(w, it) for it in items2d), name
        assert items3d and all(it in w.surface_view.view.items for it in items3d), name
        sw.layer_actions[name].setChecked(False)
        assert not sw.contour.items_of(name) and not sw.surface.items_of(name)
        assert not any(in_plot(w, it) for it in items2d)
        assert not any(it in w.surface_view.view.items for it in items3d)


def test_arrows_are_drawn_from_the_selected_point(newton_window):
    w, c = newton_window
    sw = w.see_why
    sw.layer_actions["arrows"].setChecked(True)
    assert not sw.contour.items_of("arrows")  # nothing selected: nothing to draw
    sw.timeline.select(1)
    e = an.explain_step(c, 1)
    lines = [it for it in sw.contour.items_of("arrows") if isinstance(it, pg.PlotDataItem)]
    ends = {tuple(np.round(np.array(it.getData()).T[1], 12)) for it in lines}
    arrows = {a.key: a for a in sw.picture.arrows}
    assert tuple(np.round(e.x + e.update, 12)) in ends  # the update, at its true size
    assert tuple(np.round(e.x + arrows["−∇f"].drawn, 12)) in ends
    assert all(np.allclose(np.array(it.getData()).T[0], e.x) for it in lines)
    # each arrowhead points along its shaft on screen
    vb = w.contour_view.plot.getViewBox()
    assert len(sw.contour._heads) == len(sw.picture.arrows) == 3  # ∇f, −∇f, update (Newton keeps no state)
    for head, tail, tip in sw.contour._heads:
        a, b = vb.mapViewToScene(pg.Point(*tail)), vb.mapViewToScene(pg.Point(*tip))
        d = np.array([b.x() - a.x(), b.y() - a.y()])
        ang = np.radians(head.opts["angle"])
        np.testing.assert_allclose(-np.array([np.cos(ang), np.sin(ang)]), d / np.linalg.norm(d), atol=1e-9)
    legend = [label.text for _, label in sw.contour.legend.items]
    assert any("∇f" in t for t in legend) and any("update" in t for t in legend)


def test_quadratic_model_and_hessian_axes_are_analysis_results(newton_window):
    w, _ = newton_window
    sw = w.see_why
    sw.layer_actions["quadratic"].setChecked(True)
    sw.layer_actions["hessian"].setChecked(True)
    sw.timeline.select(0)
    f = get_objective("himmelblau")
    q = sw.picture.quadratic
    ref = an.quadratic_model(f, (0.5, 0.5), sw.picture.extent)
    np.testing.assert_array_equal(q.z, ref.z)
    stars = [it for it in sw.contour.items_of("quadratic") if isinstance(it, pg.ScatterPlotItem)]
    assert len(stars) == 1
    np.testing.assert_allclose(stars[0].getData()[0][0], ref.newton_point[0])
    isos = [it for it in sw.contour.items_of("quadratic") if isinstance(it, pg.IsocurveItem)]
    assert isos and isos[0].level == pytest.approx(ref.value)  # the model's contour through x_k
    info = an.hessian_info(f, (0.5, 0.5))
    labels = [it.toPlainText() for it in sw.contour.items_of("hessian") if isinstance(it, pg.TextItem)]
    assert labels == [f"λ₁ = {info.eigenvalues[0]:.3g}", f"λ₂ = {info.eigenvalues[1]:.3g}"]
    lines3d = sw.surface.items_of("hessian")
    assert len(lines3d) == 2


def test_himmelblau_critical_points_marked_by_kind(window):
    sw = window.see_why
    combo = window.side_panel.objective_combo
    combo.setCurrentIndex(combo.findData("himmelblau"))
    sw.layer_actions["critical"].setChecked(True)
    (sc,) = sw.contour.items_of("critical")
    pts = sc.points()
    assert len(pts) == 9
    symbols = sorted(p.symbol() for p in pts)
    want = sorted([KIND_STYLE["minimum"][0]] * 4 + [KIND_STYLE["maximum"][0]] + [KIND_STYLE["saddle"][0]] * 4)
    assert symbols == want
    kinds = sorted(p.data()[0] for p in pts)
    assert kinds == sorted(["minimum"] * 4 + ["maximum"] + ["saddle"] * 4)
    mx = next(p for p in pts if p.data()[0] == "maximum")
    assert mx.pos().x() == pytest.approx(-0.270845, abs=1e-5) and mx.pos().y() == pytest.approx(-0.923039, abs=1e-5)
    (sc3,) = sw.surface.items_of("critical")
    assert len(sc3.pos) == 9
    legend = [label.text for _, label in sw.contour.legend.items]
    assert legend == ["minimum", "maximum", "saddle"]
    # another objective: its own points, while the layer stays on
    combo.setCurrentIndex(combo.findData("rosenbrock"))
    (sc,) = sw.contour.items_of("critical")
    assert [p.data()[0] for p in sc.points()] == ["minimum"]


def test_the_legend_follows_the_layers(newton_window):
    w, _ = newton_window
    sw = w.see_why
    sw.timeline.select(0)

    def legend():
        return [label.text for _, label in sw.contour.legend.items]

    assert legend() == []
    sw.layer_actions["arrows"].setChecked(True)
    assert "∇f" in legend() and "update Δx" in legend()
    sw.layer_actions["quadratic"].setChecked(True)
    assert any("quadratic" in t for t in legend())
    sw.layer_actions["arrows"].setChecked(False)
    assert "∇f" not in legend() and any("quadratic" in t for t in legend())
    sw.clear_selection()
    assert legend() == []
