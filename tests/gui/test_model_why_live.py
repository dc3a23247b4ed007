"""See why in Model mode while a training runs unpaused: the latest step is explained as it runs (at a calm
pace, on the background thread), a pick of an older step stays put, and Pause keeps explaining the latest."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gdstudio.core.analysis import model_step as MS

pytestmark = pytest.mark.gui


def start_long_training(qtbot, window):
    mm = window.model_mode
    qtbot.mouseClick(mm.model_radio, Qt.MouseButton.LeftButton)
    p = mm.panel
    p.set_model("softmax")
    p.set_optimizer("momentum", lr=0.05)
    p.batch_combo.setCurrentText("64")
    p.val_spin.setValue(0.2)
    p.epochs_spin.setValue(100_000)  # far longer than the test: it runs unpaused throughout
    window.actions.run.trigger()
    qtbot.waitUntil(lambda: mm.worker.busy and mm.worker.trainings()
                    and len(mm.worker.trainings()[0]._thetas) > 5, timeout=30000)
    return mm


def open_see_why(window, qtbot):
    window.see_why.dock.toggleViewAction().trigger()
    qtbot.waitUntil(window.see_why.dock.isVisible, timeout=5000)


def explained_like_the_core(why, t):
    s = why.step
    ref = MS.explain_model_update(t.model, s.k, t._thetas[s.k], t._thetas[s.k + 1], "batch")
    assert s.loss == ref.loss and s.grad_norm == ref.grad_norm and s.update_norm == ref.update_norm


def test_the_latest_step_is_explained_while_training_runs(qtbot, window):
    mm = start_long_training(qtbot, window)
    why = window.model_why
    open_see_why(window, qtbot)
    qtbot.waitUntil(lambda: why.step is not None and not why.computing, timeout=20000)
    assert mm.worker.busy and not mm.worker.paused  # still training, unpaused
    assert why.live and why.follow
    t = mm.worker.trainings()[0]
    first = why.step.k
    explained_like_the_core(why, t)
    ins = why.inspector
    assert f"step {first:,} of momentum" in ins.header.text() and "live" in ins.header.text()
    assert "from θ<sub>" in ins.tab_text("Step")
    assert ins.timeline.step() == first  # the timeline shows the step explained, not the newest one
    # it keeps following: a later step is explained while training goes on
    qtbot.waitUntil(lambda: why.step.k > first and not why.computing, timeout=20000)
    assert mm.worker.busy and not mm.worker.paused
    explained_like_the_core(why, t)
    assert ins.timeline.step() == why.step.k and f"step {why.step.k:,} of" in ins.header.text()

    # Pause: the latest step is explained and stays (no longer live)
    window.actions.pause.trigger()
    qtbot.waitUntil(lambda: mm.worker.paused, timeout=5000)
    qtbot.waitUntil(lambda: why.step.k == len(t._thetas) - 2 and not why.computing and not why.live, timeout=20000)
    assert why.follow and "live" not in ins.header.text() and ins.timeline.step() == why.step.k
    explained_like_the_core(why, t)
    paused_k = why.step.k
    window.actions.run.trigger()  # Resume: live again
    qtbot.waitUntil(lambda: why.live and why.step.k > paused_k and not why.computing, timeout=20000)
    assert "live" in ins.header.text()

    # a pick of an older step stays put while training runs
    ins.timeline.spin.setFocus()
    ins.timeline.spin.selectAll()
    QTest.keyClicks(ins.timeline.spin, "3")
    QTest.keyClick(ins.timeline.spin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: why.step.k == 3 and not why.computing, timeout=20000)
    assert not why.follow and not why.live and "live" not in ins.header.text()
    n = len(t._thetas)
    qtbot.waitUntil(lambda: len(t._thetas) > n + 200, timeout=20000)  # training went on…
    qtbot.waitUntil(lambda: not why._timer.isActive(), timeout=5000)
    assert why.step.k == 3 and not why.computing and mm.worker.busy  # …and the pick stayed
    explained_like_the_core(why, t)
    window.actions.reset.trigger()
    qtbot.waitUntil(lambda: not mm.worker.busy, timeout=10000)
