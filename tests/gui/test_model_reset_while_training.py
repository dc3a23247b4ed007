"""Reset while a Model-mode training runs, again and again: the training thread survives (a progress snapshot
taken while Reset emptied the job lists raised IndexError and ended the thread), and the next Run trains."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def test_reset_during_training_then_run_trains(qtbot, window):
    mm = window.model_mode
    qtbot.mouseClick(mm.model_radio, Qt.MouseButton.LeftButton)
    p = mm.panel
    p.set_model("svm")
    p.set_optimizer("gd", lr=0.1)
    p.batch_combo.setCurrentText("64")
    p.epochs_spin.setValue(1)
    with qtbot.waitSignal(mm.sig_slice_shown, timeout=60000):  # a slice: snapshots then project every path
        window.actions.run.trigger()
    assert mm.slice_result is not None
    p.epochs_spin.setValue(100_000)
    for _ in range(25):  # the race is narrow: without the fix this failed in about 1 run of 3 (15 rounds)
        window.actions.run.trigger()
        qtbot.waitUntil(lambda: mm.worker.trainings() and len(mm.worker.trainings()[0]._thetas) > 300,
                        timeout=20000)
        window.actions.reset.trigger()
        assert not mm.worker.trainings()
    assert mm.worker.isRunning()
    p.epochs_spin.setValue(1)
    with qtbot.waitSignal(mm.sig_trained, timeout=60000):
        window.actions.run.trigger()
    assert mm.worker.isRunning() and len(mm.worker.trainings()[0]._thetas) == 24  # 1,438 / 64 → 23 steps
