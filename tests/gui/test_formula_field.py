"""Your own function in the window: typed, checked as you type, applied only when valid, remembered."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gdstudio.core import formula as F
from gdstudio.core.objectives import EXPR_PREFIX
from gdstudio.core.runs import RunConfig, Status, run
from gdstudio.gui.views.formula_field import DEBOUNCE_MS, FormulaField, help_html, highlight_html

pytestmark = pytest.mark.gui


def choose_custom(window, qtbot):
    """Pick "Your own function" in the objective list; the example formula compiles and is applied."""
    combo = window.side_panel.objective_combo
    with qtbot.waitSignal(window.sig_objective_changed, timeout=10000):
        combo.setCurrentIndex(combo.findData(EXPR_PREFIX))
    return window.side_panel.formula_field


def type_formula(qtbot, field, text):
    field.formula_edit.selectAll()
    QTest.keyClick(field.formula_edit, Qt.Key.Key_Delete)
    QTest.keyClicks(field.formula_edit, text)


def test_typed_formula_changes_the_surface_and_runs(window, qtbot, tmp_path):
    field = choose_custom(window, qtbot)
    assert field.isVisible() and window.objective.spec() == EXPR_PREFIX + field.text()
    before = np.array(window.contour_view.image.image, copy=True)
    with qtbot.waitSignal(window.sig_objective_changed, timeout=10000):
        type_formula(qtbot, field, "x^2 + 3*y^2")
        # debounced: nothing is applied while the user is still typing
        assert window.objective.formula != "x^2 + 3*y^2"
    assert window.objective.spec() == "expr:x^2 + 3*y^2"
    assert window.surface.objective is window.objective
    assert not np.allclose(np.nan_to_num(window.contour_view.image.image), np.nan_to_num(before))
    assert "✓" in field.message_label.text() and not field.marker_label.isVisible()
    # a run on it, exactly the core's
    with qtbot.waitSignal(window.sig_all_finished, timeout=20000):
        (rid,) = window.run()
    e = window.model.get(rid)
    assert e.config.objective == "expr:x^2 + 3*y^2"
    ref = run(e.config)
    np.testing.assert_array_equal(e.result.trajectories[0].x, ref.trajectories[0].x)
    # the CSV says which formula produced it
    csv = tmp_path / "custom.csv"
    assert window.export_trajectory(str(csv))
    header, first = csv.read_text(encoding="utf-8").splitlines()[:2]
    assert dict(zip(header.split(","), first.split(",")))["objective"] == "expr:x^2 + 3*y^2"
    # the formula that ran is in the recent list (most recent first)
    assert window.settings.recent_formulas[0] == "x^2 + 3*y^2"
    assert field.recent()[0] == "x^2 + 3*y^2"


def test_invalid_formula_shows_where_and_keeps_the_surface(window, qtbot):
    field = choose_custom(window, qtbot)
    obj, z = window.objective, np.array(window.surface.f, copy=True)
    with qtbot.waitSignal(field.sig_invalid, timeout=5000) as blocker:
        type_formula(qtbot, field, "x^2 + foo(y)")
    msg = blocker.args[0]
    assert "unknown name 'foo'" in msg and "column 7" in msg
    assert field.message_label.text() == msg and field.message_label.isVisible()
    assert field.marker_label.isVisible() and ">foo</span>" in field.marker_label.text()
    assert window.objective is obj and np.array_equal(window.surface.f, z, equal_nan=True)
    # an incomplete formula: the caret is after the text
    with qtbot.waitSignal(field.sig_invalid, timeout=5000) as blocker:
        type_formula(qtbot, field, "sin(x) *")
    assert "column" in blocker.args[0] and "▲" in field.marker_label.text()
    assert window.objective is obj
    # a bad domain is refused too, with the field named
    type_formula(qtbot, field, "x*y")
    field.domain_edits["xmax"].setText("-9")
    with qtbot.waitSignal(field.sig_invalid, timeout=10000) as blocker:
        field.check_now()
    assert "xmin < xmax" in blocker.args[0] and window.objective is obj
    # fixing it applies the formula with its domain
    field.domain_edits["xmax"].setText("3")
    with qtbot.waitSignal(window.sig_objective_changed, timeout=10000):
        field.check_now()
    assert window.objective.domain[0] == (-5.0, 3.0)
    assert window.current_config().objective_params == (("xmax", 3.0), ("xmin", -5.0), ("ymax", 5.0),
                                                         ("ymin", -5.0))


def test_stale_compiles_are_dropped():
    """Only the latest text is applied: a compile started for older text is ignored when it ends."""
    field = FormulaField()
    seen = []
    field.sig_objective_ready.connect(lambda o: seen.append(o.formula))
    field.set_formula("x^4 + y^4", check=False)
    field._on_edited()  # an edit: whatever was compiling is stale
    gen = field._generation
    field._on_done(gen - 1, F.FormulaObjective("x^2 + y^2"), None)  # an older compile ends late
    assert seen == [] and field.objective is None
    field._on_done(gen, F.FormulaObjective("x^4 + y^4"), None)
    assert seen == ["x^4 + y^4"]
    field.shutdown()


def test_title_and_enter_commit(window, qtbot):
    field = choose_custom(window, qtbot)
    field.title_edit.setText("my bowl")
    type_formula(qtbot, field, "(x-1)^2 + (y+2)^2")
    with qtbot.waitSignal(field.sig_committed, timeout=10000):
        QTest.keyClick(field.formula_edit, Qt.Key.Key_Return)
    assert window.objective.title == "my bowl"
    assert window.settings.recent_formulas[0] == "(x-1)^2 + (y+2)^2"
    # picking from the recent list fills the field and applies it
    type_formula(qtbot, field, "x*y")
    qtbot.waitUntil(lambda: window.objective.formula == "x*y", timeout=10000)
    act = next(a for a in field.recent_menu.actions() if a.data() == "(x-1)^2 + (y+2)^2")
    with qtbot.waitSignal(window.sig_objective_changed, timeout=10000):
        act.trigger()
    assert window.objective.spec() == "expr:(x-1)^2 + (y+2)^2"
    # to a built-in and back: the formula is the objective again, without retyping
    combo = window.side_panel.objective_combo
    combo.setCurrentIndex(combo.findData("booth"))
    assert window.objective.name == "booth" and not field.isVisible()
    with qtbot.waitSignal(window.sig_objective_changed, timeout=10000):
        combo.setCurrentIndex(combo.findData(EXPR_PREFIX))
    assert window.objective.spec() == "expr:(x-1)^2 + (y+2)^2" and field.isVisible()
    # Enter on the unchanged formula keeps the runs
    with qtbot.waitSignal(window.sig_all_finished, timeout=20000):
        window.run()
    n = len(window.model)
    with qtbot.waitSignal(field.sig_committed, timeout=10000):
        QTest.keyClick(field.formula_edit, Qt.Key.Key_Return)
    assert len(window.model) == n > 0


def test_undefined_region_is_a_gap_and_a_run_there_ends_clearly(make_window, qtbot):
    cfg = RunConfig.create("expr:log(x) + y^2", "gd", starts=[(0.5, 1.0)], epochs=200, hyperparams={"lr": 0.5})
    window = make_window(cfg)
    z = window.surface.f
    assert np.isnan(z).any() and np.isfinite(z).any()  # log(x) is undefined for x ≤ 0: a gap
    with qtbot.waitSignal(window.sig_all_finished, timeout=20000):
        (rid,) = window.run()
    e = window.model.get(rid)
    assert e.status == Status.DIVERGED and "undefined" in e.message
    assert "undefined" in window.status_text()


def test_space_types_a_space_in_the_formula(window, qtbot):
    """Space is the Pause shortcut, but in a text field it types a space."""
    field = choose_custom(window, qtbot)
    field.formula_edit.setFocus()
    type_formula(qtbot, field, "x")
    QTest.keyClick(field.formula_edit, Qt.Key.Key_Space)
    QTest.keyClicks(field.formula_edit, "+ y")
    assert field.formula_edit.text() == "x + y"


def test_help_lists_every_word():
    text = help_html()
    for w in F.HELP:
        assert w.name.split()[0].replace("<", "&lt;") in text
    assert highlight_html("a<b", 1, 1).count("&lt;") == 1


def test_debounce_is_short():
    assert 100 <= DEBOUNCE_MS <= 500
