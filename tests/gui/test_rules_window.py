"""Write your own optimizer in the window, race it, pick autodiff, and read the computation graph."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from rule_typing import type_rule

from gdstudio.core.autodiff import objective_graph
from gdstudio.core.objectives import get_objective
from gdstudio.core.rules import EXAMPLES
from gdstudio.core.runs import RunConfig, run
from gdstudio.gui.views import compare, graph_view
from gdstudio.gui.views.graph_view import TAB_TITLE, fmt
from gdstudio.gui.views.rule_editor import RuleEditor

pytestmark = pytest.mark.gui

ROSEN = RunConfig.create("rosenbrock", "gd", starts=[(-1.5, 2.0)], epochs=300, hyperparams={"lr": 1e-3})


def choose_own_rule(window, qtbot):
    """Pick the last entry of the method combo with the keyboard (End), as a user can."""
    combo = window.side_panel.optimizer_combo
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_End)
    dlg = window.side_panel.rule_choice.dialog
    assert dlg is not None
    qtbot.waitExposed(dlg)
    return dlg


def test_type_the_momentum_rule_and_race_it_against_sgd_and_momentum(make_window, qtbot, monkeypatch):
    w = make_window(ROSEN)
    panel = w.side_panel
    dlg = choose_own_rule(w, qtbot)
    assert dlg.isVisible() and dlg.text() == EXAMPLES["momentum"][1]  # a starting point
    type_rule(qtbot, dlg, "v = mu*v + g\nx = x - lr*w")
    assert not dlg.ok_button.isEnabled()
    assert dlg.status.text().startswith("line 2, column 12: unknown name 'w'")
    (sel,) = dlg.edit.extraSelections()
    assert (sel.cursor.selectionStart(), sel.cursor.selectionEnd()) == (24, 25)  # the 'w' is underlined
    type_rule(qtbot, dlg, "v = mu*v + g\nx = x - lr*v")
    assert dlg.ok_button.isEnabled() and "params (in the form): mu = 0.9, lr = 0.01" in dlg.status.text()
    QTest.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()
    spec = "rule:v = mu*v + g\nx = x - lr*v"
    assert panel.optimizer_name() == spec
    assert panel.optimizer_combo.currentText().startswith("Own rule: v = mu*v + g;")
    assert list(panel.hp_form.editors) == ["mu", "lr"]  # the declared params are the form
    assert panel.rule_choice.edit_button.isVisible()
    panel.hp_form.set_value("lr", 1e-3)
    cfg = w.current_config()
    assert cfg.optimizer == spec and cfg.hp == {"mu": 0.9, "lr": 1e-3}

    def fake_exec(dlg):
        assert spec in dlg.names  # the panel's rule is offered beside the built-ins
        dlg.set_checked([spec, "gd", "momentum"])
        dlg.forms["gd"].set_value("lr", 1e-3)
        dlg.forms["momentum"].set_value("lr", 1e-3)
        dlg.accept()
        return dlg.result()

    monkeypatch.setattr(compare._CompareDialog, "exec", fake_exec)
    with qtbot.waitSignal(w.sig_all_finished, timeout=30000):
        w.actions.race.trigger()
    runs = list(w.model)
    assert [e.label for e in runs] == ["gd", "momentum", "own rule"]
    by = {e.label: e for e in runs}
    # the typed momentum equals the built-in (dampening 0) step for step, and both curves are drawn
    np.testing.assert_array_equal(by["own rule"].x[:, 0], by["momentum"].x[:, 0])
    assert not np.array_equal(by["gd"].x[:, 0], by["momentum"].x[:, 0])
    for e in runs:
        xs, ys = w.loss_chart.curve(e.run_id).getData()
        assert len(xs) == 301 and np.isfinite(ys).all()


def test_editor_offers_the_builtins_and_refuses_hostile_text(qtbot):
    dlg = RuleEditor()
    qtbot.addWidget(dlg)
    dlg.example_combo.setCurrentIndex(dlg.example_combo.findData("adam"))
    QTest.mouseClick(dlg.load_button, Qt.MouseButton.LeftButton)
    assert dlg.text() == EXAMPLES["adam"][1] and dlg.ok_button.isEnabled()
    assert "lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-08" in dlg.status.text()
    assert "state: m, s" in dlg.status.text()
    for text, where in (("x = x.__class__", "line 1, column 6"), ("__class__ = 1\nx = x", "line 1, column 1"),
                        ("x = x^100000", "line 1, column 7"), ("x = open(g)", "line 1, column 5")):
        dlg.edit.setPlainText(text)
        assert dlg.status.text().startswith(where) and not dlg.ok_button.isEnabled(), text
    dlg.accept()
    assert dlg.result() == 0  # an invalid rule cannot be accepted


def test_cancel_keeps_the_rule_and_apply_config_restores_one(make_window, qtbot):
    w = make_window(ROSEN)
    dlg = choose_own_rule(w, qtbot)
    dlg.edit.setPlainText("x = x - 0.5*lr*g")
    dlg.reject()
    panel = w.side_panel
    assert panel.optimizer_name() == "rule:" + EXAMPLES["momentum"][1]
    cfg = ROSEN.replace(optimizer="rule:" + EXAMPLES["adam"][1], hyperparams={"lr": 0.05})
    panel.apply_config(cfg)
    assert panel.optimizer_name() == cfg.optimizer and panel.hp_form.values()["lr"] == 0.05
    full = {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    assert w.current_config() == cfg.replace(hyperparams=full)


def test_help_lists_the_rule_language_with_the_builtins(make_window, qtbot):
    # F1 with the own rule chosen opens the page of the rule language
    w = make_window(ROSEN.replace(optimizer="rule:" + EXAMPLES["momentum"][1], hyperparams={}))
    w.actions.help.trigger()
    h = w._help
    assert h.topics.currentItem().text() == "Your own update rule"
    text = h.browser.toPlainText()
    for needle in ("v = mu*v + g", "x = x - lr/(1 - beta1^t) * m/(sqrt(s)/sqrt(1 - beta2^t) + eps)",
                   "clip(u, lo, hi)", "param lr = 0.01"):
        assert needle in text, needle


def test_autodiff_gradient_source_in_the_panel(make_window, qtbot):
    w = make_window(ROSEN.replace(epochs=50))
    combo = w.side_panel.gradient_combo
    i = combo.findData("autodiff")
    assert i >= 0 and "chain rule" in combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(i)
    assert not w.side_panel.h_edit.isEnabled()
    with qtbot.waitSignal(w.sig_all_finished, timeout=20000):
        (rid,) = w.run()
    e = w.model.get(rid)
    assert e.config.gradient == "autodiff"
    np.testing.assert_allclose(e.x[:, 0], run(ROSEN.replace(epochs=50))[0].x, rtol=1e-12, atol=1e-12)


def test_computation_graph_tab_shows_values_adjoints_and_the_gradient(make_window, qtbot):
    w = make_window(ROSEN.replace(epochs=20))
    with qtbot.waitSignal(w.sig_all_finished, timeout=20000):
        w.run()
    sw = w.see_why
    sw.timeline.select(3)
    tabs = sw.inspector.tabs
    i = next(j for j in range(tabs.count()) if tabs.tabText(j) == TAB_TITLE)
    tab = sw.graph_tab
    assert tab.trace is None or tab.graph is None  # drawn only when opened
    bar = tabs.tabBar()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(i).center())
    assert tabs.currentWidget() is tab
    x3 = sw.picture.explanation.x
    g = get_objective("rosenbrock").gradient(x3)
    assert f"∇f = (x̄, ȳ) = ({fmt(g[0])}, {fmt(g[1])})" in tab.header.text()
    graph = objective_graph(get_objective("rosenbrock"))
    assert set(tab.canvas.boxes) == set(range(len(graph)))
    leaf = tab.canvas.boxes[graph.leaves["x"]]
    texts = [c.text() for c in leaf.childItems()]
    assert texts[0] == "x" and f"v = {fmt(x3[0])}" in texts and f"v̄ = {fmt(g[0])}" in texts
    out = [c.text() for c in tab.canvas.boxes[graph.output].childItems()]
    assert "v̄ = 1" in out
    # each edge tells the chain rule along it
    tips = [it.toolTip() for it in tab.canvas.scene().items() if isinstance(it, graph_view.EdgeItem)]
    assert len(tips) == sum(len(n.inputs) for n in graph.nodes)
    y_edge = next(t for t in tips if t.startswith("y → y - x^2"))
    assert "local derivative ∂(y - x^2)/∂(y) = 1" in y_edge and f"= {fmt(g[1])} to the adjoint of y" in y_edge
    # another step redraws the open tab
    sw.timeline.select(10)
    g10 = get_objective("rosenbrock").gradient(sw.picture.explanation.x)
    assert f"({fmt(g10[0])}, {fmt(g10[1])})" in tab.header.text()
    # large graphs scroll: Goldstein–Price does not fit the dock
    tab.show_point(get_objective("goldstein-price"), (0.0, -1.0))
    assert tab.canvas.horizontalScrollBar().maximum() > 0
    assert graph_view.layout(tab.graph)  # every node placed


def test_graph_layout_puts_leaves_left_and_f_right():
    g = objective_graph(get_objective("ackley"))
    pos = graph_view.layout(g)
    cols = {i: c for i, (c, _) in pos.items()}
    assert cols[g.leaves["x"]] == cols[g.leaves["y"]] == min(c for i, c in cols.items() if g.nodes[i].active)
    assert cols[g.output] == max(cols.values())
    assert all(cols[j] < cols[n.id] for n in g.nodes for j in n.inputs)
    for c in set(cols.values()):  # no two boxes on top of each other
        rows = sorted(r for i, (cc, r) in pos.items() if cc == c)
        assert all(b - a >= 1 for a, b in zip(rows, rows[1:]))


def test_sweeps_take_a_rule_and_settings_remember_it(tmp_path):
    from gdstudio.gui import settings as S

    spec = "rule:" + EXAMPLES["momentum"][1]
    base = ROSEN.replace(optimizer=spec, hyperparams={"lr": 1e-3, "mu": 0.9})
    cfgs = compare.sweep_configs(base, [1e-3, 1e-4])
    assert [c.name for c in cfgs] == ["own rule ε=0.001", "own rule ε=0.0001"]
    assert [c.hp for c in cfgs] == [{"lr": 1e-3, "mu": 0.9}, {"lr": 1e-4, "mu": 0.9}]
    ini = str(tmp_path / "g.ini")
    s = S.Settings(optimizer=spec, hyperparams={spec: {"lr": 0.002, "mu": 0.5, "nope": 1}, "gd": {"lr": 0.1}})
    assert S.save(s, S.open_store(ini))
    loaded = S.load(S.open_store(ini))
    assert loaded.optimizer == spec and loaded.hyperparams_for(spec) == {"lr": 0.002, "mu": 0.5}
    bad = S.Settings(optimizer="rule:x = x.__class__")
    assert S.save(bad, S.open_store(ini))
    assert S.load(S.open_store(ini)).optimizer == S.Settings().optimizer  # a broken rule falls back alone


def test_csv_file_name_of_a_rule_is_short():
    from gdstudio.gui.main_window import default_csv_name

    cfg = ROSEN.replace(optimizer="rule:" + EXAMPLES["adam"][1], hyperparams={})
    assert default_csv_name(cfg) == "rosenbrock-own_rule.csv"
    assert default_csv_name(cfg, ROSEN) == "rosenbrock-own_rule-gd.csv"
