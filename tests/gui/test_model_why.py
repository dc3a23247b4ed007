"""See why in Model mode, the user's way: Model mode, train a few steps, open See why by its action, read the tabs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gdstudio.core.analysis import model_step as MS
from gdstudio.core.training import TrainConfig, train
from gdstudio.gui.views.inspector import num

pytestmark = pytest.mark.gui


def to_model_mode(qtbot, window, optimizer, lr, batch, epochs):
    mm = window.model_mode
    qtbot.mouseClick(mm.model_radio, Qt.MouseButton.LeftButton)
    assert mm.active
    p = mm.panel
    p.set_model("softmax")
    p.set_optimizer(optimizer, lr=lr)
    p.batch_combo.setCurrentText(batch)
    p.val_spin.setValue(0.2)
    p.epochs_spin.setValue(epochs)
    return mm


def open_see_why(window, qtbot):
    toggle = window.see_why.dock.toggleViewAction()
    assert not window.see_why.dock.isVisible()
    toggle.trigger()
    qtbot.waitUntil(window.see_why.dock.isVisible, timeout=5000)
    assert window.see_why.dock.widget().currentWidget() is window.model_why.inspector


def test_step_three_times_then_see_why_explains_the_latest_gd_step(qtbot, window):
    mm = to_model_mode(qtbot, window, "gd", 0.1, "full", 5)
    for _ in range(3):  # F10 (Step) three times: θ_0 … θ_3
        window.actions.step.trigger()
    t = None
    qtbot.waitUntil(lambda: mm.worker.trainings() and len(mm.worker.trainings()[0]._thetas) == 4, timeout=30000)
    t = mm.worker.trainings()[0]
    assert mm.worker.paused
    why = window.model_why
    open_see_why(window, qtbot)
    qtbot.waitUntil(lambda: why.step is not None and why.step.k == 2, timeout=10000)  # the latest update: θ_2 → θ_3
    ins = why.inspector
    assert ins.timeline.step() == 2 and ins.timeline.spin.maximum() == 3
    # the same numbers as the core on the same training
    ref = train(TrainConfig.create(dataset="digits", model="softmax", optimizer="gd", hyperparams={"lr": 0.1},
                                   model_params={"reg": 1e-3}, val=0.2, epochs=3))
    np.testing.assert_array_equal(np.array(t._thetas), ref.thetas)
    s = MS.explain_model_step(ref.model, ref.thetas, 2)
    assert why.step.cos_angle == pytest.approx(1.0, abs=1e-12)
    step_text = ins.tab_text("Step")
    assert "<b>1</b> — straight down the gradient" in step_text  # gd's cos∠(Δθ, −∇L) is 1
    for v in (s.loss, s.grad_norm, s.update_norm, s.effective_lr, s.change):
        assert num(v) in step_text or num(v, 8) in step_text, v
    assert "the whole training set (1,438 samples)" in step_text
    assert "step 2 of gd" in ins.header.text()
    # line search: the minimiser and the point taken, and the chart draws φ
    ins.tabs.setCurrentIndex(1)
    ls = MS.model_line_search(ref.model, s)
    line_text = ins.tab_text("Line search")
    assert f"{num(ls.best_t)} → L = {num(ls.best_value)}" in line_text
    assert f"{num(ls.taken_t)} → L = {num(ls.taken_value)}" in line_text
    assert "short: the step covered" in line_text
    curves = [it for it in ins.line_chart.getPlotItem().listDataItems()]
    xs, ys = curves[0].getData()
    np.testing.assert_allclose(ys, ls.values, rtol=1e-12)
    zoom = ins.zoom_chart.getPlotItem().listDataItems()
    np.testing.assert_allclose(zoom[0].yData, ls.zoom_values, rtol=1e-12)  # φ near the step taken
    assert list(zoom[2].xData) == [ls.taken_t]
    # gradient check: 8 coordinates, they agree
    ins.tabs.setCurrentIndex(2)
    gc_text = ins.tab_text("Gradient check")
    assert "on 8 random coordinates" in gc_text and "they agree" in gc_text
    assert gc_text.count("<tr><td>W[") + gc_text.count("<tr><td>b[") == 8
    fd_items = ins.fd_chart.getPlotItem().listDataItems()
    assert len(fd_items) == 9  # each coordinate's error against h, and their median
    hs, med = fd_items[-1].xData, fd_items[-1].yData  # the data, not its log10 on screen
    assert len(hs) == 23 and hs.min() == pytest.approx(1e-12) and 0 < np.nanmin(med) < 1e-7  # the V's bottom: the central difference agrees there


def test_pick_a_step_and_the_whole_training_set_on_minibatch_momentum(qtbot, window):
    mm = to_model_mode(qtbot, window, "momentum", 0.05, "64", 1)
    with qtbot.waitSignal(mm.sig_trained, timeout=60000):
        window.actions.run.trigger()
    why = window.model_why
    open_see_why(window, qtbot)
    n = len(mm.worker.trainings()[0]._thetas)
    qtbot.waitUntil(lambda: why.step is not None and why.step.k == n - 2, timeout=10000)
    ins = why.inspector
    ins.timeline.spin.setFocus()
    ins.timeline.spin.selectAll()
    QTest.keyClicks(ins.timeline.spin, "7")
    QTest.keyClick(ins.timeline.spin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: why.step.k == 7, timeout=10000)
    assert not why.follow
    text = ins.tab_text("Step")
    assert "the minibatch of step 7 (64 of 1,438 training samples)" in text
    assert why.step.cos_angle < 0.999  # momentum's velocity is not −∇L of this batch
    assert "turned away from −∇L" in text
    batch_loss = why.step.loss
    assert batch_loss == pytest.approx(mm.worker.trainings()[0].curve.array("batch_loss")[7], rel=1e-12)
    qtbot.mouseClick(ins.full_check, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: why.step.data == "train", timeout=10000)
    assert "the whole training set (1,438 samples)" in ins.tab_text("Step")
    assert why.step.k == 7 and why.step.loss != batch_loss
    # picks in quick succession: the window never waits, and the last one is what is shown
    for k in ("9", "11", "12"):
        ins.timeline.spin.selectAll()
        QTest.keyClicks(ins.timeline.spin, k)
        QTest.keyClick(ins.timeline.spin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not why.computing and why.step.k == 12, timeout=10000)
    assert "step 12 of momentum" in ins.header.text() and ins.timeline.step() == 12
    # back to the function mode: the dock shows the function inspector again
    qtbot.mouseClick(mm.panel.function_radio, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.see_why.dock.widget().currentWidget() is not ins, timeout=5000)


def test_the_model_inspector_draws_core_results_alone(qtbot):
    from gdstudio.gui.views.model_inspector import ModelInspector

    r = train(TrainConfig.create(optimizer="adam", hyperparams={"lr": 0.01}, batch_size=128, epochs=1, val=0.2))
    s = MS.explain_model_step(r.model, r.thetas, 4)
    w = ModelInspector()
    qtbot.addWidget(w)
    w.set_runs(["adam"])
    w.set_range(len(r.thetas) - 1)
    w.show_step("adam", "adam", s, MS.model_line_search(r.model, s),
                MS.model_gradient_check(r.model, s, curve=[1e-9, 1e-6, 1e-3]))
    assert "step 4 of adam" in w.header.text()
    assert num(s.cos_angle, 6) in w.tab_text("Step") and "turned away" in w.tab_text("Step")
    last = MS.explain_model_step(r.model, r.thetas, len(r.thetas) - 1)  # no update yet: nothing to search
    w.show_step("adam", "adam", last, None, MS.model_gradient_check(r.model, last))
    assert "none yet" in w.tab_text("Step") and "No update" in w.tab_text("Line search")
    assert w.line_chart.getPlotItem().listDataItems() == []
    w.show_message("nothing")
    assert w.tab_text("Step") == "" and w.fd_chart.getPlotItem().listDataItems() == []
