"""Model mode's optimizer choice offers "Own rule…", the same editor as Function mode: a user trains a classifier
with a rule they wrote, its params in the model panel's form; sessions and the settings keep it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from rule_typing import use_typed_rule

from gdstudio.core.training import TrainConfig, train
from gdstudio.gui.views.rule_editor import OWN_RULE_TEXT

pytestmark = pytest.mark.gui

HEAVY = "# heavy ball\nparam lr = 0.05\nparam mu = 0.5\nv = mu*v + g\nx = x - lr*v"
SPEC = "rule:" + HEAVY


def to_model_mode(qtbot, w, epochs=3):
    mm = w.model_mode
    qtbot.mouseClick(mm.model_radio, Qt.MouseButton.LeftButton)
    assert mm.active
    p = mm.panel
    p.set_model("softmax")
    p.batch_combo.setCurrentText("full")
    p.val_spin.setValue(0.2)
    p.epochs_spin.setValue(epochs)
    return mm


def write_rule_in_model_panel(qtbot, w, text):
    """Choose "Own rule…" in Model mode's method list with the keyboard (End), type ``text``, click OK."""
    p = w.model_mode.panel
    combo = p.optimizer_combo
    assert combo.itemText(combo.count() - 1).startswith("Own rule")
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_End)
    dlg = p.rule_choice.dialog
    assert dlg is not None
    qtbot.waitExposed(dlg)
    use_typed_rule(qtbot, dlg, text)


def test_own_rule_in_model_mode_trains_like_the_core_and_survives_a_restart(make_window, qtbot):
    w = make_window(store=True)
    mm = to_model_mode(qtbot, w)
    p = mm.panel
    assert p.optimizer_combo.findText(OWN_RULE_TEXT) >= 0 or any(
        p.optimizer_combo.itemText(i).startswith("Own rule") for i in range(p.optimizer_combo.count()))
    write_rule_in_model_panel(qtbot, w, HEAVY)
    assert p.optimizer_combo.currentData() == SPEC
    assert p.optimizer_combo.currentText() == "Own rule: heavy ball"
    assert p.rule_choice.edit_button.isVisible()
    assert sorted(p.hp_form.editors) == ["lr", "mu"]  # the rule's params, in the model panel's form
    assert p.hp_form.values() == {"lr": 0.05, "mu": 0.5}
    p.hp_form.set_value("lr", 0.2)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    with qtbot.waitSignal(mm.sig_trained, timeout=60000):
        QTest.keyClick(w, Qt.Key.Key_F5)  # Run
    t = mm.worker.trainings()[0]
    assert t.config.optimizer == SPEC and mm.labels == ["heavy ball"]
    ref = train(TrainConfig.create(model="softmax", optimizer=SPEC, hyperparams={"lr": 0.2, "mu": 0.5},
                                   model_params={"reg": 1e-3}, val=0.2, epochs=3))
    np.testing.assert_array_equal(t.curve.array("batch_loss"), ref.curve.array("batch_loss"))
    np.testing.assert_array_equal(t.curve.array("train_loss"), ref.curve.array("train_loss"))
    gd = train(TrainConfig.create(model="softmax", optimizer="gd", hyperparams={"lr": 0.2},
                                  model_params={"reg": 1e-3}, val=0.2, epochs=3))
    assert not np.array_equal(gd.curve.array("batch_loss"), ref.curve.array("batch_loss"))
    # the rule is one of the session's own rules: the Function mode's race dialog offers it too
    assert SPEC in w.side_panel.rule_choice.known_rules()
    w.close()

    w2 = make_window(store=True)  # the same settings store
    p2 = w2.model_mode.panel
    assert p2.optimizer_combo.currentData() == SPEC
    assert p2.optimizer_combo.currentText() == "Own rule: heavy ball"
    assert p2.hp_form.values() == {"lr": 0.2, "mu": 0.5}
    assert SPEC in w2.side_panel.rule_choice.known_rules()


def test_a_rule_written_in_function_mode_is_a_starting_point_in_model_mode(make_window, qtbot):
    w = make_window()
    w.side_panel.rule_choice.set_rule(SPEC)  # as if written in Function mode's editor
    mm = to_model_mode(qtbot, w)
    combo = mm.panel.optimizer_combo
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_End)
    dlg = mm.panel.rule_choice.dialog
    qtbot.waitExposed(dlg)
    ex = dlg.example_combo
    i = ex.findText("yours: heavy ball")
    assert i >= 0
    ex.setCurrentIndex(i)
    QTest.mouseClick(dlg.load_button, Qt.MouseButton.LeftButton)
    assert dlg.text() == HEAVY
    QTest.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=5000)
    assert mm.panel.optimizer_combo.currentData() == SPEC


def test_a_session_with_a_model_rule_reopens_with_the_rule_chosen(make_window, qtbot, tmp_path, monkeypatch):
    w = make_window()
    mm = to_model_mode(qtbot, w, epochs=1)
    mm.panel.set_optimizer(SPEC, lr=0.1)
    with qtbot.waitSignal(mm.sig_trained, timeout=60000):
        w.actions.run.trigger()
    path = str(tmp_path / "rule.gdsession")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (path, ""))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (path, ""))
    w.actions.save_session.trigger()  # File ▸ Save session…
    qtbot.waitUntil(lambda: (tmp_path / "rule.gdsession").exists(), timeout=5000)
    w2 = make_window()
    mm2 = w2.model_mode
    assert mm2.panel.optimizer_combo.currentData() == "gd"
    with qtbot.waitSignal(mm2.sig_trained, timeout=60000):
        w2.actions.open_session.trigger()  # File ▸ Open session…
    assert mm2.active
    assert mm2.panel.optimizer_combo.currentData() == SPEC
    assert mm2.panel.optimizer_combo.currentText() == "Own rule: heavy ball"
    assert mm2.panel.hp_form.values() == {"lr": 0.1, "mu": 0.5}
    assert mm2.labels == ["heavy ball"]
    np.testing.assert_array_equal(mm2.worker.trainings()[0].curve.array("batch_loss"),
                                  mm.worker.trainings()[0].curve.array("batch_loss"))


def test_settings_keep_model_modes_optimizer_and_refuse_a_broken_rule(tmp_path):
    from gdstudio.gui import settings as app_settings

    ini = str(tmp_path / "s.ini")
    s = app_settings.Settings(model_optimizer=SPEC, model_hyperparams={SPEC: {"lr": 0.2, "mu": 0.5}})
    assert app_settings.save(s, app_settings.open_store(ini))
    loaded = app_settings.load(app_settings.open_store(ini))
    assert loaded.model_optimizer == SPEC and loaded.model_hyperparams == {SPEC: {"lr": 0.2, "mu": 0.5}}
    store = app_settings.open_store(ini)
    store.setValue("model/optimizer", '"rule:x = x - __class__"')
    store.setValue("model/hyperparams", '{"rule:x = x - __class__": {"lr": 1}, "gd": {"lr": "big"}}')
    store.sync()
    loaded = app_settings.load(app_settings.open_store(ini))
    assert loaded.model_optimizer == "gd" and loaded.model_hyperparams == {"gd": {}}
