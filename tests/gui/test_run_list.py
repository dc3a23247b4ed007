"""The run list: one row per run (colour, name, visible, status, loss, remove); visibility and removal reach
every view and the export; names are editable and stay distinct."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gdstudio.core.export import read_csv
from gdstudio.core.runs import RunConfig, Status, run
from gdstudio.gui.run_model import RunModel, StepBatch
from gdstudio.gui.worker import Delivered
from gdstudio.gui.views.run_list import COL_LOSS, COL_NAME, COL_REMOVE, COL_STATUS, RunList

pytestmark = pytest.mark.gui


def add_finished(model: RunModel, cfg: RunConfig, label: str = ""):
    """A run added to a bare model with all its steps and its result (what the controller does)."""
    e = model.add(cfg, cfg.build_objective(), label=label)
    res = run(cfg)
    t = res[0]
    n = len(t.x)
    model.add_batches([StepBatch(e.run_id, np.arange(n), t.x[:, None], t.loss[:, None], t.grad[:, None],
                                 np.ones((n, 1), bool), np.zeros((n, 1), bool))])
    model.finish(e.run_id, res)
    return e, res


def cfg_lr(lr, epochs=40):
    return RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=epochs, hyperparams={"lr": lr})


def wait_all(qtbot, window, start, timeout=30000):
    with qtbot.waitSignal(window.sig_all_finished, timeout=timeout):
        ids = start()
        assert ids
    return ids


def test_rows_follow_the_model(qtbot):
    model = RunModel()
    rl = RunList(model)
    qtbot.addWidget(rl)
    a, res_a = add_finished(model, cfg_lr(0.05))
    b, _ = add_finished(model, cfg_lr(0.12, epochs=300))
    assert rl.row_ids() == [a.run_id, b.run_id]
    it = rl.item(a.run_id)
    assert it.text(COL_NAME) == "gd ε=0.05" and it.checkState(COL_NAME) == Qt.CheckState.Checked
    assert it.text(COL_STATUS) == "completed"
    assert it.text(COL_LOSS) == f"{res_a[0].loss[-1]:.4g}"  # the final loss
    # The swatch is the run's colour.
    img = it.icon(COL_NAME).pixmap(14, 14).toImage()
    assert img.pixelColor(7, 7).name() == a.color.name()
    assert rl.item(b.run_id).text(COL_STATUS) == "diverged"
    assert "diverged" in rl.item(b.run_id).toolTip(COL_STATUS)
    assert rl.tree.itemWidget(rl.item(b.run_id), COL_REMOVE) is not None
    model.remove(a.run_id)
    assert rl.row_ids() == [b.run_id]
    model.clear()
    assert rl.row_ids() == [] and not rl.clear_button.isEnabled()


def test_loss_column_follows_a_run_still_going(qtbot):
    model = RunModel()
    rl = RunList(model)
    qtbot.addWidget(rl)
    cfg = cfg_lr(0.05)
    e = model.add(cfg, cfg.build_objective())
    assert rl.item(e.run_id).text(COL_STATUS) == "running" and rl.item(e.run_id).text(COL_LOSS) == ""
    t = run(cfg)[0]
    model.add_batches([StepBatch(e.run_id, np.arange(3), t.x[:3, None], t.loss[:3, None], t.grad[:3, None],
                                 np.ones((3, 1), bool), np.zeros((3, 1), bool))])
    assert rl.item(e.run_id).text(COL_LOSS) == f"{t.loss[2]:.4g}"


def test_untick_hides_the_run_everywhere_and_from_the_export(window, qtbot, tmp_path):
    ids = wait_all(qtbot, window, lambda: window.sweep([0.1, 0.01]))
    rl = window.side_panel.runs_list
    hidden, shown = ids
    rl.item(hidden).setCheckState(COL_NAME, Qt.CheckState.Unchecked)
    assert not window.model.get(hidden).visible
    assert not window.contour_view._runs[hidden].path.isVisible()
    assert window.contour_view._runs[shown].path.isVisible()
    assert not window.loss_chart.curve(hidden).isVisible()
    if window.surface_view.view.isValid():
        assert not window.surface_view._runs[hidden].line.visible()
    out = tmp_path / "runs.csv"
    assert window.export_trajectory(str(out))
    assert set(read_csv(out)["run"]) == {"gd ε=0.01"}
    # Ticked again: back everywhere.
    rl.item(hidden).setCheckState(COL_NAME, Qt.CheckState.Checked)
    assert window.contour_view._runs[hidden].path.isVisible() and window.loss_chart.curve(hidden).isVisible()
    assert window.export_trajectory(str(out))
    assert set(read_csv(out)["run"]) == {"gd ε=0.1", "gd ε=0.01"}
    # The model's own visibility change shows in the list.
    window.model.set_visible(shown, False)
    assert rl.item(shown).checkState(COL_NAME) == Qt.CheckState.Unchecked


def test_remove_button_delete_key_and_remove_all(window, qtbot):
    ids = wait_all(qtbot, window, lambda: window.sweep([0.1, 0.03, 0.01, 0.003]))
    rl = window.side_panel.runs_list
    # The row's own remove button.
    rl.tree.itemWidget(rl.item(ids[0]), COL_REMOVE).click()
    assert ids[0] not in window.model and rl.row_ids() == ids[1:]
    assert ids[0] not in window.contour_view._runs and window.loss_chart.curve(ids[0]) is None
    if window.surface_view.view.isValid():
        assert ids[0] not in window.surface_view._runs
    # Delete removes the selected runs.
    rl.item(ids[1]).setSelected(True)
    rl.item(ids[2]).setSelected(True)
    assert rl.remove_button.isEnabled()
    rl.tree.setFocus()
    QTest.keyClick(rl.tree, Qt.Key.Key_Delete)
    assert [e.run_id for e in window.model] == [ids[3]] and rl.row_ids() == [ids[3]]
    assert len(window.results()) == 1
    # Remove all = Reset.
    rl.clear_button.click()
    assert len(window.model) == 0 and rl.row_ids() == [] and not window.loss_chart._runs
    assert "Ready" in window.status_label.text()


def test_removing_a_run_still_going_stops_it(window, qtbot, monkeypatch):
    engine = window.controller.engine
    delivered = []
    real_take = engine.take

    def take():  # keep what the worker delivers, to replay a batch of the removed run below
        items = real_take()
        delivered.extend(items)
        return items

    monkeypatch.setattr(engine, "take", take)
    window.actions.speed.set_speed(200)
    window.side_panel.epochs_spin.setValue(1_000_000)
    window.side_panel.hp_form.set_value("lr", 1e-4)
    [slow] = window.run()
    qtbot.waitUntil(lambda: len(window.model.get(slow)) > 2, timeout=5000)
    window.remove_runs([slow])
    assert slow not in window.model and not window.controller.busy and engine.active_ids() == []
    others = [e.run_id for e in window.model]
    # A batch of the removed run still on its way (sent before the worker saw the cancel) arrives: dropped.
    stale = next(it for it in delivered if isinstance(it, Delivered) and it.run_id == slow)
    engine._outbox.append(stale)
    engine.sig_ready.emit()
    qtbot.waitUntil(lambda: not engine._outbox, timeout=5000)
    assert delivered[-1] is stale  # it was taken by the window...
    assert slow not in window.model and [e.run_id for e in window.model] == others  # ...and dropped


def test_rename_changes_legend_and_export_and_stays_distinct(window, qtbot, tmp_path):
    a, b = wait_all(qtbot, window, lambda: window.sweep([0.1, 0.01]))
    rl = window.side_panel.runs_list
    rl.item(a).setText(COL_NAME, "fast")
    assert window.model.get(a).label == "fast"
    assert window.loss_chart.legend.getLabel(window.loss_chart.curve(a)).text == "fast"
    rl.item(b).setText(COL_NAME, "fast")  # taken: numbered
    assert window.model.get(b).label == "fast (2)" and rl.item(b).text(COL_NAME) == "fast (2)"
    rl.item(b).setText(COL_NAME, "   ")  # empty: refused, the old name comes back
    assert window.model.get(b).label == "fast (2)" and rl.item(b).text(COL_NAME) == "fast (2)"
    out = tmp_path / "renamed.csv"
    assert window.export_trajectory(str(out))
    rows = read_csv(out)
    assert list(dict.fromkeys(rows["run"])) == ["fast", "fast (2)"]
    ref = run(window.model.get(a).config)[0]
    n = len(ref.x)
    assert np.array_equal(np.column_stack([rows["x"][:n], rows["y"][:n]]), ref.x)


def test_run_adds_a_run_and_a_click_restarts_only_the_runs_going(window, qtbot):
    [done] = wait_all(qtbot, window, window.run)
    window.actions.speed.set_speed(100)
    window.side_panel.epochs_spin.setValue(1_000_000)
    window.side_panel.hp_form.set_value("lr", 1e-4)
    going = window.race([("gd", {"lr": 1e-4}), ("adam", {"lr": 0.01})], replace=False)
    colors = [window.model.get(i).color.name() for i in going]
    qtbot.waitUntil(lambda: all(len(window.model.get(i)) > 1 for i in going), timeout=5000)
    window.contour_view.sig_point_clicked.emit(4.0, -2.0)
    assert done in window.model and window.model.get(done).status == Status.COMPLETED  # finished runs stay
    new = [e for e in window.model if e.run_id != done]
    assert [e.label for e in new] == ["gd", "adam"] and [e.color.name() for e in new] == colors
    assert all(e.config.starts.tolist() == [[4.0, -2.0]] for e in new)
    assert not set(going) & {e.run_id for e in window.model}
    window.reset()
    assert len(window.model) == 0
