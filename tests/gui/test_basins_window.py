"""View ▸ Basins of attraction: the layer is computed in the background, drawn, explained on hover, cancellable."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from gdstudio.core.runs import RunConfig
from gdstudio.gui import basins as basins_mod


@pytest.fixture
def him(make_window, monkeypatch):
    monkeypatch.setattr(basins_mod, "GRID", 60)  # a quick map; the code path is the same
    cfg = RunConfig.create("himmelblau", "gd", starts=[(0.0, 0.0)], epochs=300, hyperparams={"lr": 0.01})
    return make_window(cfg)


def _view_menu_action(window, text):
    menu = next(a.menu() for a in window.menuBar().actions() if a.menu() and a.text().replace("&", "") == "View")
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def test_view_menu_action_computes_and_shows_the_map(him, qtbot):
    act = _view_menu_action(him, "Basins of attraction")
    c = him.basins
    with qtbot.waitSignal(c.sig_finished, timeout=60000) as blocker:
        act.trigger()
        assert c.busy and c.progress.isVisible() and c.cancel_button.isVisible()
    m = blocker.args[0]
    assert m is not None and m.shape == (60, 60)
    assert sorted(set(m.basin.tolist())) == [0, 1, 2, 3]
    assert c.layer.image.isVisible() and c.layer.image.image.shape == (60, 60, 4)
    assert not c.progress.isVisible()
    legend = [label.text for _, label in c.layer.legend.items]
    assert len(legend) == 4 and all("minimum" in t for t in legend)
    act.trigger()  # off again
    assert not c.layer.image.isVisible()


def test_hover_says_where_a_start_ends_and_click_runs_from_there(him, qtbot):
    c = him.basins
    with qtbot.waitSignal(c.sig_finished, timeout=60000):
        c.action.setChecked(True)
    view = him.contour_view
    pos = view.scene_position(3.5, 3.5)
    vp = view.plot_widget.viewport()
    qtbot.mouseMove(vp, pos)
    qtbot.waitUntil(lambda: "minimum (3, 2)" in c.hover_label.text(), timeout=5000)
    assert c.hover_label.text().startswith("start (3.")
    n = len(him.model)
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: len(him.model) == n + 1, timeout=5000)
    e = list(him.model)[-1]
    np.testing.assert_allclose(e.config.starts[0], (3.5, 3.5), atol=0.1)


def test_changing_the_optimizer_recomputes_and_cancel_stops(him, qtbot, monkeypatch):
    c = him.basins
    with qtbot.waitSignal(c.sig_finished, timeout=60000):
        c.action.setChecked(True)
    first = c.layer.map
    panel = him.side_panel
    i = panel.optimizer_combo.findData("newton") if hasattr(panel, "optimizer_combo") else -1
    if i < 0:
        pytest.skip("no optimizer combo in the panel")
    with qtbot.waitSignal(c.sig_finished, timeout=60000) as blocker:
        panel.optimizer_combo.setCurrentIndex(i)
    m = blocker.args[0]
    assert m is not None and m is not first and m.config.optimizer == "newton"
    assert {m.critical[j].kind for j in set(m.basin.tolist()) if j >= 0} == {"minimum", "maximum", "saddle"}
    # a slow map, cancelled with the status bar's button
    monkeypatch.setattr(basins_mod, "GRID", 400)
    c._shown_key = None
    with qtbot.waitSignal(c.sig_finished, timeout=60000) as blocker:
        c.recompute()
        qtbot.mouseClick(c.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] is None and not c.busy and not c.progress.isVisible()
    assert c.layer.map is m  # the last finished map stays
    QApplication.processEvents()


def test_closing_while_computing_stops_the_worker(make_window, qtbot, monkeypatch):
    monkeypatch.setattr(basins_mod, "GRID", 400)
    w = make_window(RunConfig.create("himmelblau", "gd", starts=[(0.0, 0.0)], epochs=500,
                                     hyperparams={"lr": 0.01}))
    w.basins.action.setChecked(True)
    assert w.basins.busy
    t = w.basins._thread
    w.close()
    assert t is not None and not t.is_alive()
    assert QPoint  # keep the import honest


def test_the_thread_fallback_gives_the_same_map(him, qtbot):
    """Objectives that cannot be rebuilt by name in another process (and frozen apps) compute on the thread."""
    c = him.basins
    with qtbot.waitSignal(c.sig_finished, timeout=60000) as blocker:
        c.action.setChecked(True)
    by_process = blocker.args[0]
    c.use_process = False
    c._shown_key = None
    with qtbot.waitSignal(c.sig_finished, timeout=60000) as blocker:
        c.recompute()
    by_thread = blocker.args[0]
    assert by_thread is not by_process
    np.testing.assert_array_equal(by_thread.basin, by_process.basin)
    np.testing.assert_array_equal(by_thread.x, by_process.x)
    assert by_thread.critical == by_process.critical
