"""Model mode's views as a teacher projects them: the slice in 3D fitted to its view with a colour bar, the contour
map with its colour bar inside the widget, legends readable on light and dark palettes. Trained as a user does
(Model radio, Run), checked through the window."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from gdstudio.gui.surface_data import Z_SPAN
from gdstudio.gui.views import compare
from gdstudio.gui.views.ticks import log_axis_strings, log_tick_values
from gdstudio.gui.views.model_views import NARROW_3D, PATH_LIFT, SliceContourView, SliceSurfaceView, TrainingCharts

pytestmark = pytest.mark.gui


def train_in_model_mode(qtbot, window, epochs=2, model="svm", batch="64"):
    mm = window.model_mode
    qtbot.mouseClick(mm.model_radio, Qt.MouseButton.LeftButton)
    p = mm.panel
    p.set_model(model)
    p.set_optimizer("gd", lr=0.1)
    p.batch_combo.setCurrentText(batch)
    p.epochs_spin.setValue(epochs)
    p.grid_spin.setValue(21)
    with qtbot.waitSignal(mm.sig_slice_shown, timeout=60000):
        window.actions.run.trigger()
    qtbot.waitUntil(lambda: mm.slice_result is not None and mm.workspace.surface_view.data is not None,
                    timeout=10000)
    return mm


def luminance(c: QColor) -> float:
    def lin(v):
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two opaque colours (4.5 = readable body text)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def over(top: QColor, bottom: QColor) -> QColor:
    """``top`` (maybe translucent) composited over opaque ``bottom``."""
    t = top.alphaF()
    return QColor.fromRgbF(*(t * x + (1 - t) * y for x, y in zip(top.getRgbF()[:3], bottom.getRgbF()[:3])))


def legend_contrasts(legend: pg.LegendItem, backdrop: QColor) -> list[float]:
    """The contrast of each label's text with what is behind it: the legend's panel over ``backdrop``."""
    panel = legend.brush().color() if legend.brush().style() != Qt.BrushStyle.NoBrush else QColor(0, 0, 0, 0)
    behind = over(panel, backdrop)
    out = []
    for _, label in legend.items:
        text = pg.mkColor(label.opts.get("color") or pg.getConfigOption("foreground"))
        out.append(contrast(text, behind))
    return out


@pytest.mark.parametrize("size", [(1440, 900), (1000, 700)])
def test_slice_in_3d_fills_its_view_with_a_colour_bar_and_the_path_on_the_sheet(qtbot, make_window, booth_config,
                                                                                 size):
    window = make_window(booth_config, size=size)
    mm = train_in_model_mode(qtbot, window)
    sv = mm.workspace.surface_view
    sl = mm.slice_result.slice
    data = sv.data
    # the colour bar shows the slice's range, in its own units (ticks at f_min + 10ᵏ on a log scale); a narrow 3D
    # view leaves it to the contour map beside it
    assert sv.colorbar.isVisible() == (sv.width() >= NARROW_3D)
    assert sv.colorbar.isVisible() == (size[0] > 1200)
    assert mm.workspace.contour_view.colorbar.isVisible() and mm.workspace.contour_view.colorbar.opacity() == 1
    assert sv.colorbar.bar.levels() == pytest.approx((data.cmin, data.cmax))
    assert data.fmin == pytest.approx(float(np.min(sl.loss)))
    assert data.inverse_display(data.cmax) == pytest.approx(float(np.max(sl.loss)))
    # the path is drawn on the sheet: its end (the centre θ_c, a = b = 0) at the centre's height
    line = sv.paths[0]
    c = len(sl.a) // 2
    want = data.to_world(np.array(0.0), np.array(0.0), np.array(sl.loss[c, c]))
    np.testing.assert_allclose(line.pos[-1], want + [0, 0, PATH_LIFT], atol=1e-6)
    if not sv.view.isValid():
        pytest.skip("no OpenGL context")
    # the camera is fitted: every corner of the slice's box is inside the GL view, and the slice is not a speck
    W, H = sv.view.width(), sv.view.height()
    corners = [(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (0.0, Z_SPAN)]
    pts = np.array([sv.view.mvp() @ np.array([*p, 1.0]) for p in corners])
    px = (pts[:, 0] / pts[:, 3] + 1) * W / 2
    py = (1 - pts[:, 1] / pts[:, 3]) * H / 2
    assert (px >= 0).all() and (px <= W).all() and (py >= 0).all() and (py <= H).all(), (px, py, W, H)
    assert px.max() - px.min() > 0.7 * W  # the old camera (4.2 away, 28° high) left the sheet at 0.63 W
    assert sv.view.opts["elevation"] >= 40  # seen from above, as a function's surface: not a thin sheet edge-on
    # ... and what is drawn there is the coloured surface, not background
    img = sv.view.grabFramebuffer()
    x, y = sv.screen_position(0.0, 0.0, float(sl.loss[c, c]))
    assert 0 <= x < W and 0 <= y < H
    assert img.pixelColor(int(x), int(y) - 12) != sv.palette().color(QPalette.ColorRole.Base)


def test_contour_map_has_a_colour_bar_and_stays_inside_its_widget(qtbot, make_window, booth_config):
    window = make_window(booth_config, size=(1000, 700))
    mm = train_in_model_mode(qtbot, window)
    cv = mm.workspace.contour_view
    sl = mm.slice_result.slice
    data = cv.data
    assert tuple(cv.colorbar.levels()) == pytest.approx((data.cmin, data.cmax))
    assert data.inverse_display(data.cmin) == pytest.approx(float(np.min(sl.loss)))
    assert "loss" in cv.colorbar.axis.labelText
    # the map fills its view (no padding) and nothing of the plot, colour bar labels included, runs off the right
    (x0, x1), (y0, y1) = cv.plot.getViewBox().viewRange()
    da = sl.a[1] - sl.a[0]
    assert (x0, x1) == pytest.approx((sl.a[0] - da / 2, sl.a[-1] + da / 2))
    right = cv.plot.mapFromScene(cv.colorbar.axis.sceneBoundingRect()).boundingRect().right()
    assert right <= cv.plot.viewport().width()
    assert cv.colorbar.axis.isVisible() and cv.colorbar.axis.width() > 20


def test_legends_readable_and_one_entry_per_run(qtbot, make_window, booth_config, monkeypatch):
    window = make_window(booth_config, size=(1440, 900))
    mm = train_in_model_mode(qtbot, window)
    # the race dialog answered with its defaults (SGD, momentum, Adam): Start
    monkeypatch.setattr(compare._CompareDialog, "exec", lambda dlg: (dlg.accept(), dlg.result())[1])
    with qtbot.waitSignal(mm.sig_slice_shown, timeout=60000):
        window.actions.race.trigger()
    base = window.palette().color(QPalette.ColorRole.Base)
    charts = mm.workspace.charts
    map_legend = mm.workspace.contour_view.legend
    # the map's legend sits on the heat map: its text is readable over the darkest and the brightest colour
    dark, bright = QColor(68, 1, 84), QColor(253, 231, 37)  # viridis' ends
    for backdrop in (base, dark, bright):
        assert min(legend_contrasts(map_legend, backdrop)) >= 4.5
    for legend in (charts.loss_legend, charts.acc_legend):
        assert min(legend_contrasts(legend, base)) >= 4.5
    names = [label.text for _, label in charts.loss_legend.items]
    assert names.count("gd ε=0.1") == 1 and "momentum ε=0.05" in names and "adam ε=0.01" in names
    assert "validation" in names and not any(n.endswith(" validation") for n in names)
    assert [label.text for _, label in map_legend.items] == ["gd ε=0.1", "momentum ε=0.05", "adam ε=0.01"]
    # the Weights tab says what its colours mean once the templates are shown
    qtbot.mouseClick(charts.tabBar(), Qt.MouseButton.LeftButton, pos=charts.tabBar().tabRect(3).center())
    qtbot.waitUntil(lambda: charts.weights.key.isVisible(), timeout=5000)
    assert "red = positive" in charts.weights.key.text() and not charts.weights.note.isVisible()


def test_views_readable_on_a_dark_palette(qtbot):
    """Built under a dark palette (as the desktop would give), the legends' text is light on a dark panel."""
    app = QApplication.instance()
    old = app.palette()
    dark = QPalette(old)
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    app.setPalette(dark)
    try:
        charts, cv, sv = TrainingCharts(), SliceContourView(), SliceSurfaceView()
        for w in (charts, cv, sv):
            qtbot.addWidget(w)
        a = np.linspace(-1, 1, 11)
        loss = 0.3 + np.add.outer(a**2, 4 * a**2) * 10
        cv.set_slice(a, a, loss, [(np.array([[-0.8, -0.6], [0.0, 0.0]]), QColor("#ff4b3e"), "gd")])
        sv.set_slice(a, a, loss, [(np.array([[-0.8, -0.6], [0.0, 0.0]]), QColor("#ff4b3e"))])
        base = QColor("#1e1e1e")
        for legend in (charts.loss_legend, charts.acc_legend, cv.legend):
            assert min(legend_contrasts(legend, base)) >= 4.5
        assert cv.colorbar.axis.textPen().color() == QColor("#e6e6e6")
        assert sv.colorbar.bar.axis.textPen().color() == QColor("#e6e6e6")
        assert len(sv.paths) == 1 and sv.data.log  # 0.3 … 50: more than a decade, log-compressed
    finally:
        app.setPalette(old)


def test_log_ticks_within_a_decade_are_labelled():
    assert log_axis_strings(list(np.log10([2.12, 2.16, 2.2])), 1.0, 0.01) == ["2.12", "2.16", "2.2"]
    assert log_axis_strings([2.0, 0.0, -2.0], 1.0, 1.0) == ["10²", "10⁰", "10⁻²"]  # decades as before
    # a tick at a 2·10ⁿ among others: all labelled still (one number alone does not make a scale)
    assert log_axis_strings(list(np.log10([2.0, 2.0005])), 1.0, None) == ["2", "2.0005"]
    # pyqtgraph's ticks at 1…9·10ⁿ hold none between 2.11 and 2.21: round values of the loss instead
    levels = log_tick_values([(None, [])], np.log10(2.11), np.log10(2.21))
    np.testing.assert_allclose(10 ** np.array(levels[0][1]), [2.12, 2.14, 2.16, 2.18, 2.2])
    assert log_tick_values([(None, [0.0, 0.3])], 0.0, 1.0) == [(None, [0.0, 0.3])]  # two or more: unchanged


def test_loss_axis_has_numbers_when_the_loss_falls_by_less_than_a_decade(qtbot, make_window, booth_config):
    # softmax on digits, full batches, ε = 0.1, 2 epochs: the loss goes from ln 10 = 2.30 to about 2.2, between
    # the 2·10⁰ and 5·10⁰ marks; the axis showed no number at all
    window = make_window(booth_config, size=(1440, 900))
    mm = train_in_model_mode(qtbot, window, model="softmax", batch="full")
    plot = mm.workspace.charts.loss_plot
    axis = plot.getAxis("left")
    lo, hi = plot.getViewBox().viewRange()[1]
    assert 10**hi / 10**lo < 2  # the case at hand: a small part of a decade
    shown = [s for spacing, values in axis.tickValues(lo, hi, axis.height())
             for s in axis.tickStrings(values, 1.0, spacing) if s]
    assert len(shown) >= 2, shown


def test_no_colour_bar_or_legend_without_a_slice(qtbot, make_window, booth_config):
    """Before training and after Reset the views show no 0…1 colour bar and no legend of nothing."""
    window = make_window(booth_config, size=(1000, 700))
    mm = window.model_mode
    qtbot.mouseClick(mm.model_radio, Qt.MouseButton.LeftButton)
    ws = mm.workspace

    def shown():
        return (ws.surface_view.colorbar.isVisible(), ws.contour_view.colorbar.opacity() > 0,
                ws.contour_view.legend.isVisible(), ws.charts.loss_legend.isVisible())

    assert shown() == (False, False, False, False)
    train_in_model_mode(qtbot, window)
    assert shown() == (ws.surface_view.width() >= NARROW_3D, True, True, True)
    window.actions.reset.trigger()
    qtbot.waitUntil(lambda: shown() == (False, False, False, False), timeout=5000)
