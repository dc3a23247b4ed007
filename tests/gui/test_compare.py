"""Compare runs: learning-rate sweeps and optimizer races make the right runs (configs, names, colours),
animate together in every view, and export into one CSV equal to the core's CSV of the same configs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from gdstudio.core.export import read_csv, write_csv
from gdstudio.core.optimizers import OPTIMIZERS
from gdstudio.core.runs import RunConfig, Status, run
from gdstudio.gui.theme import RUN_COLORS
from gdstudio.gui.views import compare
from gdstudio.gui.views.compare import (
    DEFAULT_SWEEP,
    MAX_COMPARED,
    RaceDialog,
    SweepDialog,
    parse_lrs,
    race_configs,
    sweep_configs,
)

pytestmark = pytest.mark.gui

#: Booth's Hessian has eigenvalues 2 and 18: gradient descent is stable for ε < 2/18 ≈ 0.111.
BOOTH = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=150, hyperparams={"lr": 0.05})


def wait_all(qtbot, window, start, timeout=30000):
    with qtbot.waitSignal(window.sig_all_finished, timeout=timeout):
        ids = start()
        assert ids
    return ids


# --- pure config building ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("0.1, 0.01, 0.001", [0.1, 0.01, 0.001]),
    ("0.1;1e-3 ,  0.5", [0.1, 0.001, 0.5]),
    ("  2 ", [2.0]),
])
def test_parse_lrs_accepts_lists(text, expected):
    assert parse_lrs(text) == expected


@pytest.mark.parametrize("text, needle", [
    ("", "one or more"), ("0.1, abc", "'abc'"), ("0.1, -1", "> 0"), ("0, 0.1", "> 0"), ("inf", "finite"),
    ("nan", "finite"), ("0.1, 0.1", "twice"), (", ".join(str(0.01 * (i + 1)) for i in range(MAX_COMPARED + 1)),
                                             f"at most {MAX_COMPARED}"),
])
def test_parse_lrs_refuses_bad_text_with_a_message(text, needle):
    with pytest.raises(ValueError, match=None) as err:
        parse_lrs(text)
    assert needle in str(err.value)


def test_sweep_configs_change_only_the_learning_rate():
    base = BOOTH.replace(optimizer="momentum", hyperparams={"lr": 0.01, "momentum": 0.8}, tol=1e-9, seed=3)
    cfgs = sweep_configs(base, DEFAULT_SWEEP)
    assert [c.name for c in cfgs] == ["momentum ε=0.1", "momentum ε=0.01", "momentum ε=0.001"]
    assert [c.hp for c in cfgs] == [{"lr": lr, "momentum": 0.8} for lr in DEFAULT_SWEEP]
    for c in cfgs:
        assert c.replace(hyperparams=base.hyperparams, name="") == base


def test_sweep_needs_an_optimizer_with_a_learning_rate_and_valid_values():
    with pytest.raises(ValueError, match="no learning rate") as err:
        sweep_configs(BOOTH.replace(optimizer="random-search", hyperparams={}), [0.1])
    assert "gd" in str(err.value)  # names the valid choices
    with pytest.raises(ValueError, match="lr"):
        sweep_configs(BOOTH, [0.1, -1.0])
    with pytest.raises(ValueError, match="at least one"):
        sweep_configs(BOOTH, [])


def test_race_configs_keep_the_start_and_take_each_optimizer_settings():
    cfgs = race_configs(BOOTH, [("gd", {"lr": 0.05}), ("adam", {"lr": 0.5}), ("newton", {})])
    assert [c.name for c in cfgs] == ["gd", "adam", "newton"]
    assert [c.optimizer for c in cfgs] == ["gd", "adam", "newton"]
    assert cfgs[1].hp == {"lr": 0.5} and cfgs[2].hp == {}
    assert all(np.array_equal(c.starts, BOOTH.starts) and c.epochs == BOOTH.epochs for c in cfgs)
    with pytest.raises(ValueError, match="adam"):
        race_configs(BOOTH, [("adam", {"lr": -1})])
    with pytest.raises(ValueError, match="at least one"):
        race_configs(BOOTH, [])
    with pytest.raises(ValueError, match="nope"):
        race_configs(BOOTH, [("nope", {})])


# --- dialogs -------------------------------------------------------------------------------------------------
def test_sweep_dialog_defaults_and_refuses_bad_input(qtbot):
    dlg = SweepDialog(BOOTH)
    qtbot.addWidget(dlg)
    assert dlg.lr_edit.text() == "0.1, 0.01, 0.001"
    assert [c.name for c in dlg.configs()] == ["gd ε=0.1", "gd ε=0.01", "gd ε=0.001"]
    assert dlg.replace  # by default the other runs go: a sweep is a fresh comparison
    dlg.lr_edit.setText("0.1, oops")
    dlg.lr_edit.textEdited.emit(dlg.lr_edit.text())
    assert not dlg.error_label.isHidden() and "'oops'" in dlg.error_label.text()
    dlg.accept()  # refused: the dialog stays open with the message
    assert dlg.result() != QDialog.DialogCode.Accepted
    dlg.lr_edit.setText("0.2, 0.02")
    dlg.accept()
    assert dlg.result() == QDialog.DialogCode.Accepted and [c.hp["lr"] for c in dlg.configs()] == [0.2, 0.02]


def test_race_dialog_builds_forms_from_specs(qtbot):
    base = BOOTH.replace(optimizer="momentum", hyperparams={"lr": 0.003, "momentum": 0.7})
    dlg = RaceDialog(base)
    qtbot.addWidget(dlg)
    ticked = dlg.checked()
    assert "momentum" in ticked and {n for n in ("gd", "adam") if n in OPTIMIZERS} <= set(ticked)
    assert set(dlg.forms) == set(OPTIMIZERS)
    for name, form in dlg.forms.items():
        assert list(form.editors) == [h.name for h in OPTIMIZERS[name].hyperparams]
    # The panel's optimizer starts with the panel's values, the others with their specs' defaults.
    assert dlg.forms["momentum"].values() == {**dlg.forms["momentum"].values(), "lr": 0.003, "momentum": 0.7}
    adam_default = next(h.default for h in OPTIMIZERS["adam"].hyperparams if h.name == "lr")
    assert dlg.forms["adam"].values()["lr"] == adam_default
    dlg.set_checked(["gd", "adam"])
    dlg.forms["adam"].editors["lr"].setText("0.3")
    cfgs = dlg.configs()
    assert [(c.name, c.hp["lr"]) for c in cfgs] == [("gd", 0.01), ("adam", 0.3)]
    dlg.forms["adam"].editors["lr"].setText("-2")
    dlg.accept()
    assert dlg.result() != QDialog.DialogCode.Accepted and "adam" in dlg.error_label.text()
    assert dlg.stack.currentIndex() == list(OPTIMIZERS).index("adam")  # the bad form is shown
    dlg.set_checked([])
    with pytest.raises(ValueError, match="at least one"):
        dlg.configs()


# --- in the window ---------------------------------------------------------------------------------------------
def test_sweep_makes_named_coloured_runs_that_all_animate(window, qtbot):
    wait_all(qtbot, window, window.run)  # an earlier run: a sweep replaces it by default
    base = window.current_config()
    lrs = [0.1, 0.01, 0.001]
    ids = wait_all(qtbot, window, lambda: window.sweep(lrs))
    entries = [window.model.get(i) for i in ids]
    assert len(window.model) == 3
    assert [e.config for e in entries] == sweep_configs(base, lrs)
    assert [e.label for e in entries] == ["gd ε=0.1", "gd ε=0.01", "gd ε=0.001"]
    assert [e.color.name() for e in entries] == [c.lower() for c in RUN_COLORS[:3]]
    for e, cfg in zip(entries, sweep_configs(base, lrs)):
        ref = run(cfg)[0]
        assert np.array_equal(e.x[:, 0], ref.x) and e.status == ref.status
        assert len(window.contour_view._runs[e.run_id].path.getData()[0]) == len(ref.x)
        assert len(window.loss_chart.curve(e.run_id).getData()[0]) == len(ref.x)
        assert window.loss_chart.legend.getLabel(window.loss_chart.curve(e.run_id)).text == e.label
    if window.surface_view.view.isValid():
        assert set(window.surface_view._runs) == set(ids)
    # The run list shows them, in order, with their names.
    rl = window.side_panel.runs_list
    assert rl.row_ids() == ids
    assert [rl.item(i).text(0) for i in ids] == [e.label for e in entries]


def test_a_sweep_past_the_stability_limit_diverges(window, qtbot):
    ids = wait_all(qtbot, window, lambda: window.sweep([0.12, 0.1]))
    too_big, ok = (window.model.get(i) for i in ids)
    assert too_big.status == Status.DIVERGED and ok.status == Status.COMPLETED
    assert window.side_panel.runs_list.item(too_big.run_id).text(1) == "diverged"


def test_sweep_can_keep_the_other_runs_and_names_stay_distinct(window, qtbot):
    [first] = wait_all(qtbot, window, window.run)
    [second] = wait_all(qtbot, window, window.run)  # Run adds a run: runs stay until removed
    assert [e.label for e in window.model] == ["gd ε=0.05", "gd ε=0.05 (2)"]
    ids = wait_all(qtbot, window, lambda: window.sweep([0.05, 0.01], replace=False))
    assert [e.run_id for e in window.model] == [first, second, *ids]
    assert [window.model.get(i).label for i in ids] == ["gd ε=0.05 (3)", "gd ε=0.01"]
    assert len({e.color.name() for e in window.model}) == 4


def test_race_runs_each_optimizer_with_its_settings(window, qtbot):
    entries = [("gd", {"lr": 0.05}), ("momentum", {"lr": 0.01, "momentum": 0.9}), ("adam", {"lr": 0.5})]
    base = window.current_config()
    ids = wait_all(qtbot, window, lambda: window.race(entries))
    got = [window.model.get(i) for i in ids]
    cfgs = race_configs(base, entries)
    assert [e.label for e in got] == ["gd", "momentum", "adam"]
    assert [e.config for e in got] == cfgs
    assert len({e.color.name() for e in got}) == 3
    for e, cfg in zip(got, cfgs):
        assert np.array_equal(e.x[:, 0], run(cfg)[0].x)


def test_race_advances_all_runs_together(window, qtbot):
    window.actions.speed.set_speed(200)
    entries = [("gd", {"lr": 0.01}), ("adam", {"lr": 0.1})]
    window.side_panel.epochs_spin.setValue(100_000)
    ids = window.race(entries)
    runs = [window.model.get(i) for i in ids]
    # Both move while neither has ended (100,000 epochs at 200 steps/s): side by side, not one after the other.
    qtbot.waitUntil(lambda: all(len(e) > 5 for e in runs), timeout=5000)
    assert all(e.running for e in runs)
    window.pause()
    qtbot.wait(200)
    before = [e.last_k for e in runs]
    window.step()  # one step of every run going
    qtbot.waitUntil(lambda: all(e.last_k > k for e, k in zip(runs, before)), timeout=5000)
    window.reset()
    assert len(window.model) == 0


def test_menu_and_toolbar_open_the_dialogs(window, qtbot, monkeypatch):
    seen = []

    def fake_exec(dlg):
        seen.append(type(dlg).__name__)
        if isinstance(dlg, SweepDialog):
            dlg.lr_edit.setText("0.08, 0.02")
        else:
            dlg.set_checked(["gd", "nesterov"])
        dlg.accept()
        return dlg.result()

    monkeypatch.setattr(compare._CompareDialog, "exec", fake_exec)
    with qtbot.waitSignal(window.sig_all_finished, timeout=30000):
        window.actions.sweep.trigger()
    assert seen == ["SweepDialog"] and [e.label for e in window.model] == ["gd ε=0.08", "gd ε=0.02"]
    with qtbot.waitSignal(window.sig_all_finished, timeout=30000):
        window.actions.race.trigger()
    assert seen[-1] == "RaceDialog" and [e.label for e in window.model] == ["gd", "nesterov"]
    # Cancelled: nothing changes.
    monkeypatch.setattr(compare._CompareDialog, "exec", lambda dlg: QDialog.DialogCode.Rejected.value)
    assert window.sweep() == [] and window.race() == []
    assert [e.label for e in window.model] == ["gd", "nesterov"]
    # Both are in the Run menu and on the toolbar, with shortcuts.
    from PySide6.QtWidgets import QToolBar

    tb = window.findChild(QToolBar, "run_toolbar")
    assert window.actions.sweep in tb.actions() and window.actions.race in tb.actions()
    run_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Run")
    assert window.actions.sweep in run_menu.actions() and window.actions.race in run_menu.actions()
    assert window.actions.sweep.shortcut().toString() == "F6" and window.actions.race.shortcut().toString() == "F7"


def test_invalid_sweep_reports_and_changes_nothing(window, qtbot):
    wait_all(qtbot, window, window.run)
    before = [e.run_id for e in window.model]
    assert window.sweep([0.1, -1.0]) == []
    assert "lr" in window.statusBar().currentMessage()
    combo = window.side_panel.optimizer_combo
    combo.setCurrentIndex(combo.findData("random-search"))
    assert window.sweep([0.1]) == []
    assert "no learning rate" in window.statusBar().currentMessage()
    assert [e.run_id for e in window.model] == before


# --- export of several runs ---------------------------------------------------------------------------------------
def test_export_of_a_sweep_equals_the_core_csv_of_the_same_configs(window, qtbot, tmp_path):
    base = window.current_config()
    lrs = [0.1, 0.01, 0.001]
    ids = wait_all(qtbot, window, lambda: window.sweep(lrs))
    cfgs = sweep_configs(base, lrs)
    out, ref = tmp_path / "gui.csv", tmp_path / "core.csv"
    assert window.export_trajectory(str(out))
    write_csv(ref, [run(c) for c in cfgs])
    assert out.read_text() == ref.read_text()
    assert sorted(set(read_csv(out)["run"])) == sorted(c.name for c in cfgs)
    # A hidden run is left out of the export, and out of the views.
    window.side_panel.runs_list.item(ids[1]).setCheckState(0, Qt.CheckState.Unchecked)
    assert not window.model.get(ids[1]).visible
    assert not window.contour_view._runs[ids[1]].path.isVisible()
    assert not window.loss_chart.curve(ids[1]).isVisible()
    if window.surface_view.view.isValid():
        assert not window.surface_view._runs[ids[1]].line.visible()
    assert window.export_trajectory(str(out))
    write_csv(ref, [run(cfgs[0]), run(cfgs[2])])
    assert out.read_text() == ref.read_text()
    # A removed run is gone for good.
    window.remove_runs([ids[0]])
    assert window.export_trajectory(str(out))
    write_csv(ref, [run(cfgs[2])])
    assert out.read_text() == ref.read_text()


def test_export_of_a_race_equals_the_core_csv(window, qtbot, tmp_path):
    entries = [("gd", {"lr": 0.05}), ("nesterov", {"lr": 0.01, "momentum": 0.9}), ("rmsprop", {"lr": 0.1})]
    cfgs = race_configs(window.current_config(), entries)
    wait_all(qtbot, window, lambda: window.race(entries))
    out, ref = tmp_path / "gui.csv", tmp_path / "core.csv"
    assert window.export_trajectory(str(out))
    write_csv(ref, [run(c) for c in cfgs])
    assert out.read_text() == ref.read_text()


def test_a_diverging_path_is_drawn_until_it_leaves_the_map(window, qtbot):
    [rid] = wait_all(qtbot, window, lambda: window.sweep([0.12]))
    e = window.model.get(rid)
    assert e.status == Status.DIVERGED and np.isfinite(e.x[:, 0]).all()  # the data keep every step
    xd, yd = window.contour_view._runs[rid].path.getData()
    assert len(xd) == len(e)
    (x0, x1), (y0, y1) = window.surface.domain
    mx, my = 0.1 * (x1 - x0), 0.1 * (y1 - y0)  # the views draw a path up to 10 % past the map's edges
    x, y = e.x[:, 0, 0], e.x[:, 0, 1]
    far = (x < x0 - mx) | (x > x1 + mx) | (y < y0 - my) | (y > y1 + my)
    assert far.sum() > 10  # it went far off
    drawn_far = np.flatnonzero(far & np.isfinite(xd))
    assert len(drawn_far) >= 1 and drawn_far[0] == np.flatnonzero(far)[0]
    assert not far[drawn_far - 1].any()  # only the steps that leave the map are drawn out there
    assert np.isfinite(xd[~far]).all()
    if window.surface_view.view.isValid():
        pos = window.surface_view._runs[rid].line.pos
        assert np.all(np.abs(pos[:, :2]) < 10)  # no line through empty space far from the surface


def test_default_file_name_of_several_runs():
    from gdstudio.gui.main_window import default_csv_name

    assert default_csv_name(BOOTH) == "booth-gd.csv"
    assert default_csv_name(*sweep_configs(BOOTH, DEFAULT_SWEEP)) == "booth-gd-3-runs.csv"
    race = race_configs(BOOTH, [("gd", {}), ("momentum", {}), ("adam", {})])
    assert default_csv_name(*race) == "booth-gd-momentum-adam.csv"
