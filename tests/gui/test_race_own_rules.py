"""Every own rule of the session is offered in the race dialog, whatever optimizer the panel shows:
written in the editor, remembered in the settings, or opened from a session."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from rule_typing import use_typed_rule

from gdstudio.core.runs import RunConfig, run
from gdstudio.gui.views import compare

pytestmark = pytest.mark.gui

ROSEN = RunConfig.create("rosenbrock", "gd", starts=[(-1.5, 2.0)], epochs=200, hyperparams={"lr": 1e-3})
HEAVY = "# heavy ball\nparam lr = 0.001\nv = 0.5*v + g\nx = x - lr*v"
SIGN = "x = x - lr*sign(g)"


def write_rule(window, qtbot, text):
    """Choose "Own rule…" with the keyboard (End), type ``text`` and press "Use this rule"."""
    combo = window.side_panel.optimizer_combo
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_End)
    dlg = window.side_panel.rule_choice.dialog
    qtbot.waitExposed(dlg)
    use_typed_rule(qtbot, dlg, text)
    assert window.side_panel.optimizer_name() == "rule:" + text


def choose_builtin(window, name):
    combo = window.side_panel.optimizer_combo
    combo.setCurrentIndex(combo.findData(name))
    assert window.side_panel.optimizer_name() == name


def race_with(monkeypatch, window, qtbot, pick, seen):
    """Press F7; the dialog ticks ``pick`` (name -> hyperparameters to type) and starts."""

    def fake_exec(dlg):
        items = [dlg.list.item(i) for i in range(dlg.list.count())]
        seen["names"] = list(dlg.names)
        seen["texts"] = [it.text() for it in items]
        seen["ticked"] = dlg.checked()
        dlg.set_checked(list(pick))
        for name, hp in pick.items():
            for k, v in hp.items():
                dlg.forms[name].set_value(k, v)
        dlg.accept()
        return dlg.result()

    monkeypatch.setattr(compare._CompareDialog, "exec", fake_exec)
    assert window.actions.race.shortcut().toString() == "F7"
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    with qtbot.waitSignal(window.sig_all_finished, timeout=30000):
        QTest.keyClick(window, Qt.Key.Key_F7)


def test_two_rules_written_then_a_builtin_chosen_both_rules_race(make_window, qtbot, monkeypatch):
    w = make_window(ROSEN)
    write_rule(w, qtbot, HEAVY)
    write_rule(w, qtbot, SIGN)
    choose_builtin(w, "adam")  # the panel shows a built-in now
    seen = {}
    heavy, sign = "rule:" + HEAVY, "rule:" + SIGN
    race_with(monkeypatch, w, qtbot, {heavy: {"lr": 2e-3}, "gd": {"lr": 1e-3}, sign: {"lr": 1e-3}}, seen)
    assert heavy in seen["names"] and sign in seen["names"]
    assert "Own rule: heavy ball" in seen["texts"]  # named by its first comment line
    assert "Own rule: x = x - lr*sign(g)" in seen["texts"]  # unnamed: its statements
    assert seen["ticked"] == ["gd", "momentum", "adam", sign]  # the newest own rule is ticked at first
    runs = list(w.model)
    assert [e.label for e in runs] == ["gd", "heavy ball", "own rule"]
    by = {e.label: e for e in runs}
    base = w.current_config()
    for label, spec, hp in (("heavy ball", heavy, {"lr": 2e-3}), ("own rule", sign, {"lr": 1e-3}),
                            ("gd", "gd", {"lr": 1e-3})):
        e = by[label]
        assert e.config.optimizer == spec
        direct = run(base.replace(optimizer=spec, hyperparams=hp))  # the core, without the window
        np.testing.assert_array_equal(e.x[:, 0], direct[0].x)
        assert len(e.x) == 201
    assert not np.array_equal(by["heavy ball"].x[:, 0], by["gd"].x[:, 0])


def test_rules_remembered_in_the_settings_are_offered_after_a_restart(make_window, qtbot, monkeypatch):
    w = make_window(ROSEN, store=True)
    write_rule(w, qtbot, HEAVY)
    choose_builtin(w, "gd")
    w.close()
    w2 = make_window(store=True)
    assert w2.side_panel.optimizer_name() == "gd"
    seen = {}
    race_with(monkeypatch, w2, qtbot, {"rule:" + HEAVY: {}, "gd": {}}, seen)
    assert "Own rule: heavy ball" in seen["texts"]
    assert sorted(e.label for e in w2.model) == ["gd", "heavy ball"]


def test_rules_of_an_opened_session_are_offered(make_window, qtbot, monkeypatch, tmp_path):
    w = make_window(ROSEN.replace(epochs=30))
    heavy = "rule:" + HEAVY
    with qtbot.waitSignal(w.sig_all_finished, timeout=30000):
        w.race([("gd", {"lr": 1e-3}), (heavy, {"lr": 1e-3})])
    path = str(tmp_path / "two.gdsession")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (path, ""))
    w.actions.save_session.trigger()
    w.close()
    w2 = make_window(ROSEN)
    assert heavy not in w2.side_panel.rule_choice.known_rules()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (path, ""))
    with qtbot.waitSignal(w2.sig_all_finished, timeout=30000):
        w2.actions.open_session.trigger()
    choose_builtin(w2, "momentum")
    seen = {}
    race_with(monkeypatch, w2, qtbot, {heavy: {}, "momentum": {"lr": 1e-4}}, seen)
    assert heavy in seen["names"] and "Own rule: heavy ball" in seen["texts"]
    assert sorted(e.label for e in w2.model) == ["heavy ball", "momentum"]


def test_race_configs_name_rules_and_number_unnamed_ones():
    cfgs = compare.race_configs(ROSEN, [("rule:x = x - lr*g", {}), ("rule:" + HEAVY, {}),
                                        ("rule:x = x - 2*lr*g", {}), ("gd", {})])
    assert [c.name for c in cfgs] == ["own rule", "heavy ball", "own rule 2", "gd"]


def test_a_written_rule_races_by_name_in_model_mode(make_window, qtbot, monkeypatch):
    from gdstudio.core.training import TrainConfig, train

    w = make_window(ROSEN)
    write_rule(w, qtbot, HEAVY)
    choose_builtin(w, "gd")
    mm = w.model_mode
    qtbot.mouseClick(mm.model_radio, Qt.MouseButton.LeftButton)
    p = mm.panel
    p.set_model("softmax")
    p.set_optimizer("gd", lr=0.1)
    p.batch_combo.setCurrentText("full")
    p.val_spin.setValue(0.2)
    p.epochs_spin.setValue(3)
    heavy = "rule:" + HEAVY
    seen = {}

    def fake_exec(dlg):
        seen["texts"] = [dlg.list.item(i).text() for i in range(dlg.list.count())]
        seen["ticked"] = dlg.checked()
        dlg.set_checked(["gd", heavy])
        dlg.forms[heavy].set_value("lr", 0.2)
        dlg.accept()
        return dlg.result()

    monkeypatch.setattr(compare._CompareDialog, "exec", fake_exec)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    with qtbot.waitSignal(mm.sig_trained, timeout=60000):
        QTest.keyClick(w, Qt.Key.Key_F7)  # Run ▸ Race optimizers, in Model mode
    assert "Own rule: heavy ball" in seen["texts"] and heavy in seen["ticked"]
    assert [j.label for j in mm.progress.jobs] == ["gd ε=0.1", "heavy ball ε=0.2"]
    rule_run = mm.worker.trainings()[1]
    assert rule_run.config.optimizer == heavy
    ref = train(TrainConfig.create(model="softmax", optimizer=heavy, hyperparams={"lr": 0.2},
                                   model_params={"reg": 1e-3}, val=0.2, epochs=3))
    np.testing.assert_array_equal(rule_run.curve.array("batch_loss"), ref.curve.array("batch_loss"))


def test_the_settings_keep_the_newest_rules_only():
    from gdstudio.gui.persistence import _newest_rules
    from gdstudio.gui.views.rule_editor import MAX_KNOWN_RULES

    hp = {"gd": {"lr": 0.1}, **{f"rule:x = x - {i}*g": {} for i in range(MAX_KNOWN_RULES + 10)}}
    kept = _newest_rules(hp, "rule:x = x - 3*g")  # the panel's rule stays, however old
    rules = [k for k in kept if k.startswith("rule:")]
    assert len(rules) == MAX_KNOWN_RULES and "rule:x = x - 3*g" in rules and "gd" in kept
    assert f"rule:x = x - {MAX_KNOWN_RULES + 9}*g" in rules and "rule:x = x - 0*g" not in rules
    assert len([k for k in _newest_rules(hp, "gd") if k.startswith("rule:")]) == MAX_KNOWN_RULES


def test_the_editor_and_the_method_list_show_a_rules_name(make_window, qtbot):
    w = make_window(ROSEN)
    write_rule(w, qtbot, HEAVY)
    assert w.side_panel.optimizer_combo.currentText() == "Own rule: heavy ball"
    dlg = w.side_panel.rule_choice.open_editor()
    qtbot.waitExposed(dlg)
    assert "name: heavy ball" in dlg.status.text()
    dlg.edit.setPlainText(SIGN)
    assert "(a first line # my rule names it)" in dlg.status.text()
    dlg.reject()
