"""Axes a user can read: one tick notation on log axes, a y label that fits, no jump after an undefined start."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gdstudio.core.runs import RunConfig
from gdstudio.gui.views.ticks import log_axis_strings, log_label, superscript

pytestmark = pytest.mark.gui


@given(st.integers(-40, 40))
def test_every_power_of_ten_is_written_10_to_the_n(k):
    assert log_label(10.0**k) == "10" + superscript(k)
    assert "e" not in log_label(3 * 10.0**k)


@given(st.floats(1e-300, 1e300))
def test_labels_never_use_e_notation(v):
    text = log_label(v)
    assert "e" not in text and "10" in text or text.replace(".", "").isdigit()


def test_loss_axis_labels_are_all_powers_of_ten():
    assert log_axis_strings([2.0, 0.0, -2.0, -6.0, 6.0], 1.0, 1.0) == ["10²", "10⁰", "10⁻²", "10⁻⁶", "10⁶"]
    assert log_label(2e-5) == "2·10⁻⁵" and log_label(-1e3) == "−10³"
    minor = [math.log10(k) for k in range(2, 10)]  # ticks between 1 and 10: only 2 and 5 get a label
    assert log_axis_strings(minor, 1.0, 1.0) == ["2·10⁰", "", "", "5·10⁰", "", "", "", ""]
    assert log_label(98.8, plain=(1e-3, 1e4)) == "98.8" and log_label(1e6, plain=(1e-3, 1e4)) == "10⁶"


def test_shown_loss_axis_ticks_and_label(make_window, qtbot):
    w = make_window(RunConfig.create("rosenbrock", "momentum", [(-1.5, 2.0)], 1000, {"lr": 0.002, "momentum": 0.9}))
    with qtbot.waitSignal(w.sig_all_finished, timeout=30000):
        w.run()
    axis = w.loss_chart.plot.getAxis("left")
    assert w.loss_chart.log_scale
    lo, hi = w.loss_chart.plot.getViewBox().viewRange()[1]
    strings = [s for spacing, values in axis.tickValues(lo, hi, axis.height())
               for s in axis.tickStrings(values, 1.0, spacing)]
    shown = [s for s in strings if s]
    assert shown and all(s.startswith(("10", "−10")) or "·10" in s for s in shown), strings
    # the y label fits the axis' height (it was cut at both ends), also when it says what it hides
    assert axis.label.boundingRect().width() <= axis.height()
    w.loss_chart._update_log_label(True)
    assert "> 0" in axis.labelText and axis.label.boundingRect().width() <= axis.height()


def test_a_run_that_starts_where_f_is_undefined_keeps_the_axis(make_window, qtbot):
    """log(x) at x = −1: the run stops at once with no finite loss; nothing to draw, no warning, no jump."""
    w = make_window(RunConfig.create("expr:log(x) + y^2", "gd", [(-1.0, 0.5)], 50, {"lr": 0.01}))
    vb = w.loss_chart.plot.getViewBox()
    before = vb.viewRange()[1]
    with qtbot.waitSignal(w.sig_all_finished, timeout=30000):
        assert w.run()
    qtbot.wait(100)
    w.loss_chart.plot_widget.grab()  # paint: pyqtgraph's bounds would warn "All-NaN slice encountered"
    after = vb.viewRange()[1]
    assert all(math.isfinite(v) for v in after)
    assert after == pytest.approx(before) or (after[1] - after[0]) < 100, (before, after)


def test_exported_contour_png_keeps_its_top_tick_label(make_window, tmp_path):
    """The map touches the top of its view box: the label of the top tick (y = 3 on Rosenbrock) was cut in
    half at the image's top edge. Now the top rows of the axis strip are empty background."""
    from PySide6.QtGui import QImage

    w = make_window(RunConfig.create("rosenbrock", "gd", [(-1.5, 2.0)], 5, {"lr": 1e-4}))
    out = tmp_path / "map.png"
    assert w.export_image(str(out), "contour")
    img = QImage(str(out))
    axis_w = int(w.contour_view.plot.getAxis("left").width())
    dark = [(x, y) for y in range(2) for x in range(axis_w) if img.pixelColor(x, y).lightness() < 128]
    assert not dark, f"text touches the top edge at {dark[:5]}"
