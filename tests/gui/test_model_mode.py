"""The window's Model mode, used as a user does: radios, combos, toolbar actions, buttons, dialogs answered."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gdstudio.core.training import TrainConfig, train
from gdstudio.gui.views import compare

pytestmark = pytest.mark.gui


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def answer_dialogs(monkeypatch, fill=None) -> list:
    """Answer Model mode's sweep and race dialogs as a user would: ``fill(dialog)`` (if given), then Start.
    Returns the dialogs seen (they are never shown)."""
    seen = []

    def fake_exec(dlg):
        seen.append(dlg)
        if fill is not None:
            fill(dlg)
        dlg.accept()  # refused (stays open) when a field is wrong: result() is then 0
        return dlg.result()

    monkeypatch.setattr(compare._CompareDialog, "exec", fake_exec)
    return seen


def to_model_mode(qtbot, window):
    mm = window.model_mode
    qtbot.mouseClick(mm.model_radio, Qt.MouseButton.LeftButton)
    assert mm.active
    assert window.centralWidget().currentWidget() is mm.workspace
    assert window.panel_dock.widget().currentWidget() is mm.panel
    p = mm.panel
    p.set_model("svm")
    p.set_optimizer("gd", lr=0.1)
    p.batch_combo.setCurrentText("64")
    p.val_spin.setValue(0.2)
    p.epochs_spin.setValue(2)
    p.grid_spin.setValue(21)
    return mm


def test_digits_svm_trained_with_sgd_shows_curves_slice_path_and_templates(qtbot, window):
    mm = to_model_mode(qtbot, window)
    with qtbot.waitSignal(mm.sig_slice_shown, timeout=60000):
        window.actions.run.trigger()
    prog = mm.progress
    assert prog.finished and len(prog.jobs) == 1
    curve = prog.jobs[0].curve
    nb = prog.jobs[0].batches_per_epoch
    assert nb == 23 and len(curve["step"]) == 1 + 2 * nb
    # the same numbers as the core (and `gdstudio train`) for the same settings
    ref = train(TrainConfig.create(dataset="digits", model="svm", optimizer="gd", hyperparams={"lr": 0.1},
                                   model_params={"reg": 1e-3}, batch_size=64, val=0.2, epochs=2))
    np.testing.assert_array_equal(curve["batch_loss"], ref.curve.array("batch_loss"))
    status = window.status_label.text()
    assert "epoch 2/2" in status and "completed 2 epochs" in status and "val acc" in status
    # slice: centred on the final parameters, its centre is the final training loss; the path ends there
    res = mm.slice_result
    c = len(res.slice.a) // 2
    assert res.slice.loss.shape == (21, 21)
    assert res.slice.loss[c, c] == pytest.approx(ref.curve.array("train_loss")[-1], rel=1e-12)
    np.testing.assert_allclose(res.projections[0].ab[-1], 0, atol=1e-9)
    assert "PCA plane of the path" in mm.workspace.surface_view.caption.text()
    assert mm.workspace.contour_view.image.image is not None
    assert len(mm.workspace.contour_view.paths) == 2  # the path and its start marker
    assert len(mm.workspace.surface_view.paths) == 1
    # charts: train and validation loss, accuracy; the class templates of a linear model on images
    charts = mm.workspace.charts
    assert {k[1] for k in charts._items} == {"batch", "train", "val", "tacc", "vacc"}
    assert len(charts.weights.images) == 10
    # the loss axis labels decades as 10ⁿ like the function mode's chart (pyqtgraph's own wrote 0.9, 0.8, ... over
    # each other)
    axis = charts.loss_plot.getAxis("left")
    lo, hi = charts.loss_plot.getViewBox().viewRange()[1]
    shown = [s for spacing, values in axis.tickValues(lo, hi, axis.height())
             for s in axis.tickStrings(values, 1.0, spacing) if s]
    assert shown and all(s.startswith(("10", "−10")) or "·10" in s for s in shown), shown


def test_race_sgd_momentum_adam_and_export_both_files(qtbot, window, tmp_path, monkeypatch):
    mm = to_model_mode(qtbot, window)
    answer_dialogs(monkeypatch)  # the race dialog's defaults: the panel's SGD, momentum and Adam
    with qtbot.waitSignal(mm.sig_slice_shown, timeout=60000):
        window.actions.race.trigger()
    assert [j.label for j in mm.progress.jobs] == ["gd ε=0.1", "momentum ε=0.05", "adam ε=0.01"]
    assert len(mm.slice_result.projections) == 3
    assert len(mm.workspace.contour_view.paths) == 6
    assert "3 runs" in window.status_label.text()
    target = tmp_path / "curves.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV files (*.csv)"))
    window.actions.export_csv.trigger()  # File ▸ Export trajectory… exports the curves in Model mode
    r = rows(target)
    assert {x["run"] for x in r} == {"gd ε=0.1", "momentum ε=0.05", "adam ε=0.01"}
    assert len(r) == 3 * (1 + 2 * 23) and r[0]["optimizer"] == "gd" and r[0]["batch_size"] == "64"
    target = tmp_path / "slice.csv"
    qtbot.mouseClick(mm.panel.export_slice_button, Qt.MouseButton.LeftButton)
    assert len(rows(target)) == 21 * 21
    for i in (1, 2, 3):
        assert len(rows(tmp_path / f"slice-path{i}.csv")) == 1 + 2 * 23


def test_step_pause_resume_and_reset(qtbot, window):
    mm = to_model_mode(qtbot, window)
    mm.panel.batch_combo.setCurrentText("full")
    mm.panel.epochs_spin.setValue(5)
    window.actions.step.trigger()
    qtbot.waitUntil(lambda: mm.progress is not None and len(mm.progress.jobs[0].curve["step"]) == 2, timeout=20000)
    assert window.actions.pause.isChecked() and "paused" in window.status_label.text()
    window.actions.step.trigger()
    qtbot.waitUntil(lambda: len(mm.progress.jobs[0].curve["step"]) == 3, timeout=20000)
    with qtbot.waitSignal(mm.sig_trained, timeout=30000):
        window.actions.pause.trigger()  # resume
    assert len(mm.progress.jobs[0].curve["step"]) == 6
    window.actions.reset.trigger()
    assert mm.progress is None and not mm.workspace.charts._items
    assert "press Run" in window.status_label.text()
    window.actions.reset.trigger()  # twice: nothing left to clear
    assert mm.workspace.surface_view.surface is None


def test_back_to_function_mode_runs_functions_again(qtbot, window):
    mm = to_model_mode(qtbot, window)
    qtbot.mouseClick(mm.panel.function_radio, Qt.MouseButton.LeftButton)
    assert not mm.active and mm.function_radio.isChecked()
    assert window.centralWidget().currentWidget() is not mm.workspace
    with qtbot.waitSignal(window.sig_all_finished, timeout=30000):
        window.actions.run.trigger()
    assert len(window.model) == 1 and mm.progress is None


def test_bad_settings_are_explained(qtbot, window, monkeypatch):
    mm = to_model_mode(qtbot, window)
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: said.append(text))
    mm.panel.batch_combo.setCurrentText("lots")
    window.actions.run.trigger()
    assert said == ["batch size 'lots' is not a whole number or 'full'"]
    mm.panel.batch_combo.setCurrentText("full")
    mm.panel.set_optimizer("newton")
    window.actions.run.trigger()
    assert "Newton and BFGS build dense d×d matrices" in said[-1]
    mm.panel.set_optimizer("gd")
    seen = answer_dialogs(monkeypatch, lambda dlg: dlg.set_checked(["gd", "newton"]))
    window.actions.race.trigger()  # the race dialog refuses Newton for this model and stays open
    assert "Newton and BFGS build dense d×d matrices" in seen[-1].error_label.text()
    assert seen[-1].list.currentItem().data(Qt.ItemDataRole.UserRole) == "newton"
    assert len(said) == 2 and mm.progress is None


def test_csv_dataset_from_the_open_dialog(qtbot, window, tmp_path, monkeypatch):
    mm = to_model_mode(qtbot, window)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    f = tmp_path / "two.csv"
    f.write_text("u,v,label\n" + "".join(f"{a},{b},{int(a > b)}\n" for a, b in X))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(f), ""))
    combo = mm.panel.dataset_combo
    combo.activated.emit(combo.findData(""))  # the "Open file…" entry, as a click on it emits
    assert combo.currentData() == str(f)
    mm.panel.batch_combo.setCurrentText("full")
    mm.panel.set_model("softmax")
    with qtbot.waitSignal(mm.sig_slice_shown, timeout=60000):
        window.actions.run.trigger()
    assert mm.progress.jobs[0].curve["train_acc"][-1] > 0.8
    assert not mm.workspace.charts.weights.images  # no image shape: no templates


def test_session_saves_and_reopens_model_runs(qtbot, window, tmp_path, monkeypatch):
    mm = to_model_mode(qtbot, window)

    def fill(dlg):
        dlg.set_checked(["gd", "adam"])
        dlg.forms["gd"].set_value("lr", 0.2)
        dlg.forms["adam"].set_value("lr", 0.02)

    answer_dialogs(monkeypatch, fill)
    with qtbot.waitSignal(mm.sig_slice_shown, timeout=60000):
        window.actions.race.trigger()
    before = [j.curve["batch_loss"].copy() for j in mm.progress.jobs]
    path = tmp_path / "m.gdsession"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.actions.save_session.trigger()
    assert path.exists()
    window.actions.reset.trigger()
    qtbot.mouseClick(mm.panel.function_radio, Qt.MouseButton.LeftButton)
    mm.panel.set_model("softmax")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(mm.sig_trained, timeout=60000):
        window.actions.open_session.trigger()
    assert mm.active and mm.panel.model_combo.currentData() == "svm"
    assert [j.label for j in mm.progress.jobs] == ["gd ε=0.2", "adam ε=0.02"]
    for j, ref in zip(mm.progress.jobs, before):
        np.testing.assert_array_equal(j.curve["batch_loss"], ref)


def test_session_with_a_bad_model_part_changes_nothing(qtbot, window, tmp_path, monkeypatch):
    import json

    mm = to_model_mode(qtbot, window)
    path = tmp_path / "bad.gdsession"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.actions.save_session.trigger()
    d = json.loads(path.read_text())
    d["view"]["model"]["runs"] = [{"config": {"dataset": "digits", "model": "svm", "optimizer": "warp"}}]
    path.write_text(json.dumps(d))
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: said.append(text))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.actions.open_session.trigger()
    assert len(said) == 1 and "unknown optimizer 'warp'" in said[0]
    assert mm.progress is None


def test_paths_move_on_the_last_slice_while_training(qtbot, window, monkeypatch):
    mm = to_model_mode(qtbot, window)
    answer_dialogs(monkeypatch)
    with qtbot.waitSignal(mm.sig_slice_shown, timeout=60000):
        window.actions.run.trigger()
    plane = mm.slice_result.plane
    window.actions.speed.set_speed(20)  # slow enough to watch: frames arrive during training
    seen = []
    mm.worker.sig_ready.connect(lambda: seen.append(mm.workspace.surface_view.caption.text()))
    with qtbot.waitSignal(mm.sig_trained, timeout=60000):
        window.actions.race.trigger()
    jobs = mm.progress.jobs
    assert all(j.ab is not None and len(j.ab) == len(j.curve["step"]) for j in jobs)
    # the first racer is the same SGD run as before: its live projection ends at the plane's centre
    np.testing.assert_allclose(jobs[0].ab[-1], 0, atol=1e-9)
    np.testing.assert_array_equal(plane.centre, mm.worker.trainings()[0].result().final)
    qtbot.waitUntil(lambda: any("projected live" in t for t in
                                [mm.workspace.surface_view.caption.text()] + seen), timeout=5000)


def press(qtbot, window, key):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, key)


def test_f7_opens_the_race_dialog_and_trains_the_chosen_optimizers(qtbot, window, monkeypatch):
    mm = to_model_mode(qtbot, window)

    def fill(dlg):
        # what a user meets: the panel's optimizer and the usual rivals ticked, with learning rates for models
        assert type(dlg).__name__ == "ModelRaceDialog"
        assert dlg.checked() == ["gd", "momentum", "adam"]
        assert dlg.forms["gd"].values()["lr"] == 0.1 and dlg.forms["momentum"].values()["lr"] == 0.05
        assert dlg.summary.text() == "digits · svm · batches of 64 · 2 epochs"
        assert dlg.clear_others.isHidden()
        hidden = {dlg.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(dlg.list.count())
                  if dlg.list.item(i).isHidden()}
        assert hidden == {"random-search", "random-local-search"}
        dlg.set_checked(["gd", "rmsprop"])
        dlg.forms["rmsprop"].set_value("lr", 0.002)
        dlg.forms["rmsprop"].set_value("alpha", 0.9)

    seen = answer_dialogs(monkeypatch, fill)
    with qtbot.waitSignal(mm.sig_trained, timeout=60000):
        press(qtbot, window, Qt.Key.Key_F7)
    assert len(seen) == 1
    assert [j.label for j in mm.progress.jobs] == ["gd ε=0.1", "rmsprop ε=0.002"]
    cfgs = [t.config for t in mm.worker.trainings()]
    assert [(c.optimizer, c.hp) for c in cfgs] == [
        ("gd", {"lr": 0.1}),
        ("rmsprop", {"lr": 0.002, "alpha": 0.9, "eps": 1e-08, "weight_decay": 0.0, "momentum": 0.0,
                     "centered": False})]
    # the panel's model and data are shared
    assert all((c.dataset, c.model, c.batch_size, c.val, c.epochs) == ("digits", "svm", 64, 0.2, 2) for c in cfgs)
    # the same numbers as the core for the same settings
    ref = train(cfgs[1])
    np.testing.assert_array_equal(mm.progress.jobs[1].curve["batch_loss"], ref.curve.array("batch_loss"))


def test_f6_and_the_menu_item_open_the_sweep_dialog(qtbot, window, monkeypatch):
    mm = to_model_mode(qtbot, window)
    mm.panel.set_optimizer("momentum", lr=0.05, momentum=0.8)

    def fill(dlg):
        assert type(dlg).__name__ == "ModelSweepDialog"
        assert dlg.lr_edit.text() == "0.03, 0.1, 0.3"
        dlg.lr_edit.setText("0.02, 0.2")

    seen = answer_dialogs(monkeypatch, fill)
    with qtbot.waitSignal(mm.sig_trained, timeout=60000):
        press(qtbot, window, Qt.Key.Key_F6)
    assert [j.label for j in mm.progress.jobs] == ["momentum ε=0.02", "momentum ε=0.2"]
    assert [t.config.hp["momentum"] for t in mm.worker.trainings()] == [0.8, 0.8]  # the panel's other settings
    # Run ▸ Learning-rate sweep… is the same action, with a new answer
    run_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Run")
    item = next(a for a in run_menu.actions() if a.text().replace("&", "").startswith("Learning-rate sweep"))
    monkeypatch.setattr(compare._CompareDialog, "exec", lambda dlg: (seen.append(dlg), dlg.lr_edit.setText("0.5"),
                                                                     dlg.accept(), dlg.result())[-1])
    with qtbot.waitSignal(mm.sig_trained, timeout=60000):
        item.trigger()
    assert [j.label for j in mm.progress.jobs] == ["momentum ε=0.5"] and len(seen) == 2
    # a wrong value keeps the dialog open with its message; cancelled, nothing changes
    bad = answer_dialogs(monkeypatch, lambda dlg: dlg.lr_edit.setText("0.1, fast"))
    window.actions.sweep.trigger()
    assert "ε must be a number, got 'fast'" in bad[0].error_label.text()
    monkeypatch.setattr(compare._CompareDialog, "exec", lambda dlg: 0)
    window.actions.race.trigger()
    assert [j.label for j in mm.progress.jobs] == ["momentum ε=0.5"]


def test_the_panel_has_no_race_or_sweep_fields_of_its_own(qtbot, window):
    from PySide6.QtWidgets import QGroupBox

    mm = to_model_mode(qtbot, window)
    assert "Compare" not in [g.title() for g in mm.panel.findChildren(QGroupBox)]
    assert not hasattr(mm.panel, "race_edit") and not hasattr(mm.panel, "sweep_edit")


def test_newton_races_on_a_model_small_enough(qtbot, window, monkeypatch):
    mm = to_model_mode(qtbot, window)
    mm.panel.set_dataset("iris")
    mm.panel.set_model("softmax")  # d = 4 × 3 + 3 = 15 parameters
    mm.panel.batch_combo.setCurrentText("full")
    answer_dialogs(monkeypatch, lambda dlg: (dlg.set_checked(["gd", "newton"]), dlg.forms["newton"].set_value("lr", 0.5)))
    with qtbot.waitSignal(mm.sig_trained, timeout=60000):
        window.actions.race.trigger()
    assert [j.label for j in mm.progress.jobs] == ["gd ε=0.1", "newton ε=0.5"]
    assert all(j.done for j in mm.progress.jobs)
