"""A formula remembered in the settings: the window appears before it is compiled, says so, and Run waits for it.

The compile is held on an Event the test releases, so "before" and "after" do not depend on timing.
"""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from gdstudio.core.objectives import EXPR_PREFIX
from gdstudio.gui import defaults
from gdstudio.gui import settings as app_settings
from gdstudio.gui.views import formula_field

pytestmark = pytest.mark.gui


@pytest.fixture
def held_compile(monkeypatch):
    """Every formula compile waits until the test sets the returned Event (then compiles for real)."""
    release = threading.Event()
    real = formula_field._build

    def held(*args):
        release.wait(60)
        return real(*args)

    monkeypatch.setattr(formula_field, "_build", held)
    yield release
    release.set()  # a compile still held never outlives the test


def remember(tmp_path, **values) -> None:
    """Write settings where ``make_window(store=True)`` reads them (as a previous session would have)."""
    s = app_settings.Settings(**values)
    assert app_settings.save(s, app_settings.open_store(str(tmp_path / "gdstudio.ini")))


def press_f5(qtbot, w) -> None:
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    qtbot.keyClick(w, Qt.Key.Key_F5)  # Run


def overlays_shown(w) -> list[bool]:
    return [o.isVisible() for o in w.pending_formula.overlays]


def test_the_window_is_shown_before_the_remembered_formula_compiles_and_run_waits(make_window, qtbot, tmp_path,
                                                                                   held_compile):
    remember(tmp_path, objective="expr:x^2 + 3*y^2", objective_title="bowl", objective_params={"xmin": -3.0},
             optimizer="gd", hyperparams={"gd": {"lr": 0.05}}, epochs=40, start=(2.0, 1.0))
    w = make_window(store=True)
    # shown while the compile is held: no surface yet; the views and the status bar say why
    assert w.isVisible() and not held_compile.is_set()
    assert w.objective is None
    assert overlays_shown(w) == [True, True]
    assert all("Compiling your formula" in o.text() and "x^2 + 3*y^2" in o.text().replace("\u200b", "")
               for o in w.pending_formula.overlays)
    assert "Compiling your formula" in w.status_label.text()
    field = w.side_panel.formula_field
    assert field.isVisible() and (field.text(), field.title()) == ("x^2 + 3*y^2", "bowl")
    assert field.domain_edits["xmin"].text() == "-3"
    # the rest of the settings is there already
    assert w.side_panel.optimizer_name() == "gd" and w.side_panel.epochs_spin.value() == 40
    # Run (F5) waits for the formula; Sweep says why it cannot start yet
    press_f5(qtbot, w)
    assert len(w.model) == 0 and "starts when it is ready" in w.statusBar().currentMessage()
    assert w.sweep([0.1, 0.01]) == []
    assert "still being compiled" in w.statusBar().currentMessage()

    held_compile.set()
    qtbot.waitUntil(lambda: len(w.model) == 1, timeout=20000)  # the waiting run started on the formula
    assert w.statusBar().currentMessage() == ""  # the status bar shows the run now, not "…when it is ready"
    obj = w.objective
    assert (obj.spec(), obj.title, obj.domain[0]) == ("expr:x^2 + 3*y^2", "bowl", (-3.0, 5.0))
    assert w.surface.objective is obj
    assert overlays_shown(w) == [False, False]
    e = w.model.latest()
    assert (e.config.objective_spec, e.config.optimizer, e.config.hp["lr"], e.config.epochs) == \
        ("expr:x^2 + 3*y^2", "gd", 0.05, 40)
    assert e.config.starts.tolist() == [[2.0, 1.0]]
    qtbot.waitUntil(lambda: not e.running, timeout=20000)


def test_a_remembered_formula_the_compile_refuses_gives_the_default_and_keeps_its_text(make_window, qtbot,
                                                                                        tmp_path, held_compile):
    # an edited settings file: the domain is reversed, which only the compile (in the background) finds out
    remember(tmp_path, objective="expr:x^2 + y^2", objective_params={"xmin": 5.0, "xmax": -5.0})
    w = make_window(store=True)
    assert w.objective is None and overlays_shown(w) == [True, True]
    press_f5(qtbot, w)  # waits…
    held_compile.set()
    qtbot.waitUntil(lambda: w.objective is not None, timeout=20000)
    # …and starts nothing: the formula was refused
    assert len(w.model) == 0 and "refused" in w.statusBar().currentMessage()
    assert w.objective.name == defaults.FIRST_OBJECTIVE
    assert w.side_panel.objective_combo.currentData() == defaults.FIRST_OBJECTIVE
    err = w.side_panel.error_label
    assert err.isVisible() and "xmin < xmax" in err.text() and "is shown instead" in err.text()
    assert overlays_shown(w) == [False, False]
    field = w.side_panel.formula_field
    assert field.text() == "x^2 + y^2"  # kept
    # Run works on the default objective
    with qtbot.waitSignal(w.sig_all_finished, timeout=30000):
        w.actions.run.trigger()
    assert w.model.latest().config.objective_spec == defaults.FIRST_OBJECTIVE
    # choosing "your own function" again shows the kept text and why it is refused
    combo = w.side_panel.objective_combo
    combo.setCurrentIndex(combo.findData(EXPR_PREFIX))
    qtbot.waitUntil(lambda: "xmin < xmax" in field.message_label.text(), timeout=20000)
    assert field.isVisible() and field.text() == "x^2 + y^2"


def test_a_remembered_formula_that_no_longer_parses_is_refused_at_once_and_kept(make_window, tmp_path):
    remember(tmp_path, objective="expr:x^^2 + y")
    w = make_window(store=True)
    assert w.objective.name == defaults.FIRST_OBJECTIVE  # no compile to wait for: the parse refused it
    assert "is shown instead" in w.side_panel.error_label.text()
    assert w.side_panel.formula_field.text() == "x^^2 + y"
    assert w.pending_formula.overlays[0].isHidden()


def test_choosing_a_built_in_while_the_remembered_formula_compiles_keeps_the_built_in(make_window, qtbot,
                                                                                       tmp_path, held_compile):
    remember(tmp_path, objective="expr:x^2 + 3*y^2")
    w = make_window(store=True)
    combo = w.side_panel.objective_combo
    with qtbot.waitSignal(w.sig_objective_changed, timeout=10000):
        combo.setCurrentIndex(combo.findData("booth"))
    assert w.objective.name == "booth" and overlays_shown(w) == [False, False]
    field = w.side_panel.formula_field
    assert not field.busy()
    held_compile.set()  # the compile ends: its result is stale and dropped
    changed = []
    w.sig_objective_changed.connect(lambda: changed.append(w.objective))
    # the field has collected the finished compile (and handed its result on, were it not stale)
    qtbot.waitUntil(lambda: field._running is None, timeout=20000)
    assert changed == [] and w.objective.name == "booth"


def test_run_pressed_while_a_typed_formula_compiles_starts_on_it_when_ready(make_window, booth_config, qtbot,
                                                                             held_compile):
    w = make_window(booth_config)
    field = w.side_panel.formula_field
    combo = w.side_panel.objective_combo
    combo.setCurrentIndex(combo.findData(EXPR_PREFIX))  # the example formula, compiling (held)
    assert field.busy() and w.objective.name == "booth"
    assert overlays_shown(w) == [False, False]  # the booth surface stays until the formula is ready
    press_f5(qtbot, w)
    assert len(w.model) == 0 and "starts when it is ready" in w.statusBar().currentMessage()
    held_compile.set()
    qtbot.waitUntil(lambda: len(w.model) == 1, timeout=20000)
    assert w.model.latest().config.objective_spec == EXPR_PREFIX + field.text()
    qtbot.waitUntil(lambda: not w.controller.busy, timeout=20000)

    # typed back to the formula shown: nothing to compile, the waiting Run starts at once on it
    field._timer.setInterval(600_000)  # the check runs when the test says (check_now), not after a delay
    shown = w.objective
    field.formula_edit.setFocus()
    field.formula_edit.end(False)
    qtbot.keyClicks(field.formula_edit, " ")
    assert field.busy()
    press_f5(qtbot, w)
    assert len(w.model) == 1
    field.check_now()
    assert w.objective is shown and len(w.model) == 2 and w.model.latest().config.objective_spec == shown.spec()


def test_closing_while_the_remembered_formula_compiles_keeps_it_in_the_settings(make_window, tmp_path,
                                                                                  held_compile):
    remember(tmp_path, objective="expr:x^2 + 3*y^2", objective_title="bowl", objective_params={"xmin": -3.0})
    w = make_window(store=True)
    assert w.objective is None
    w.close()
    s = app_settings.load(app_settings.open_store(str(tmp_path / "gdstudio.ini")))
    assert (s.objective, s.objective_title, s.objective_params) == ("expr:x^2 + 3*y^2", "bowl", {"xmin": -3.0})
