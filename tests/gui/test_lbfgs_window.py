"""L-BFGS in the window, used as a user does: chosen in the optimizer list, its form filled, Run pressed; in Model
mode on a d = 650 SVM (which Newton and BFGS refuse)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QSpinBox

from gdstudio.core.runs import run
from gdstudio.core.training import Training

pytestmark = pytest.mark.gui


def test_lbfgs_with_strong_wolfe_from_the_panel_runs_as_the_core_does(window, qtbot):
    panel = window.side_panel
    panel.objective_combo.setCurrentIndex(panel.objective_combo.findData("rosenbrock"))
    combo = panel.optimizer_combo
    combo.setCurrentIndex(combo.findData("lbfgs"))
    form = panel.hp_form
    assert list(form.editors) == ["lr", "max_iter", "max_eval", "tolerance_grad", "tolerance_change",
                                  "history_size", "line_search_fn"]
    assert isinstance(form.editors["max_iter"], QSpinBox) and form.editors["max_iter"].value() == 20
    ls = form.editors["line_search_fn"]
    assert isinstance(ls, QComboBox) and [ls.itemText(i) for i in range(ls.count())] == ["none", "strong_wolfe"]
    ls.setCurrentIndex(ls.findText("strong_wolfe"))
    form.editors["history_size"].setValue(5)
    panel.set_start(-1.5, 2.0)
    cfg = window.current_config()
    assert cfg.optimizer == "lbfgs" and cfg.hp["line_search_fn"] == "strong_wolfe" and cfg.hp["history_size"] == 5
    with qtbot.waitSignal(window.sig_all_finished, timeout=30000):
        window.actions.run.trigger()
    ref = run(cfg)[0]
    res = window.results()[-1][0]
    np.testing.assert_array_equal(res.x, ref.x)
    assert (res.nfev, res.njev, str(res.status)) == (ref.nfev, ref.njev, str(ref.status))
    assert np.allclose(res.x[-1], (1.0, 1.0), atol=1e-4)


def test_model_mode_trains_a_d650_svm_with_lbfgs(qtbot, window):
    mm = window.model_mode
    qtbot.mouseClick(mm.model_radio, Qt.MouseButton.LeftButton)
    p = mm.panel
    p.set_model("svm")
    combo = p.optimizer_combo
    assert combo.findData("lbfgs") >= 0  # offered
    combo.setCurrentIndex(combo.findData("lbfgs"))
    assert p.hp_form.values()["lr"] == 1.0  # torch's default, not a first-order method's ε
    p.batch_combo.setCurrentText("full")
    p.val_spin.setValue(0.0)
    p.epochs_spin.setValue(3)
    p.grid_spin.setValue(11)
    with qtbot.waitSignal(mm.sig_slice_shown, timeout=60000):
        window.actions.run.trigger()
    curve = mm.progress.jobs[0].curve
    cfg = p.train_config()
    assert cfg.optimizer == "lbfgs"
    training = Training(cfg)
    for _ in training:
        pass
    assert training.model.dim == 650
    np.testing.assert_array_equal(curve["train_loss"], training.result().curve.array("train_loss"))
    assert curve["train_loss"][-1] < 0.25
    assert "completed 3 epochs" in window.status_label.text()


def test_newton_cg_from_the_panel_goes_down_where_newton_climbs(window, qtbot):
    panel = window.side_panel
    panel.objective_combo.setCurrentIndex(panel.objective_combo.findData("himmelblau"))
    panel.optimizer_combo.setCurrentIndex(panel.optimizer_combo.findData("newton-cg"))
    assert list(panel.hp_form.editors) == ["lr", "max_cg", "h", "c", "rho"]
    panel.hp_form.editors["max_cg"].setValue(3)
    panel.set_start(-0.2, -0.9)  # near the maximum, where the Hessian is negative definite
    cfg = window.current_config()
    assert cfg.optimizer == "newton-cg" and cfg.hp["max_cg"] == 3
    with qtbot.waitSignal(window.sig_all_finished, timeout=30000):
        window.actions.run.trigger()
    res = window.results()[-1][0]
    ref = run(cfg)[0]
    np.testing.assert_array_equal(res.x, ref.x)
    assert res.loss[-1] < res.loss[0] * 1e-6
