"""View ▸ Basins of attraction: the layer is computed in the background, drawn, explained on hover, cancellable."""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt
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
        assert c.busy and not c.progress.isVisible()  # shown only if the map takes PROGRESS_DELAY_S
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
    # a slow map, cancelled with the status bar's button (shown at once here)
    monkeypatch.setattr(basins_mod, "GRID", 400)
    monkeypatch.setattr(basins_mod, "PROGRESS_DELAY_S", 0.0)
    c._shown_key = None
    with qtbot.waitSignal(c.sig_finished, timeout=60000) as blocker:
        c.recompute()
        qtbot.waitUntil(c.cancel_button.isVisible, timeout=10000)
        assert c.busy and c.progress.isVisible()
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


@pytest.mark.parametrize("in_process", [True, False])
def test_the_map_colours_are_computed_off_the_gui_thread(him, qtbot, monkeypatch, in_process):
    # ~15 ms for a 500 × 500 map: work the GUI thread does not wait for when the map arrives
    import threading

    from gdstudio.core.basins import BasinMap

    threads = []
    real = BasinMap.colours

    def colours(self):
        threads.append(threading.current_thread())
        return real(self)

    monkeypatch.setattr(BasinMap, "colours", colours)
    c = him.basins
    c.use_process = in_process
    with qtbot.waitSignal(c.sig_finished, timeout=60000) as blocker:
        c.action.trigger()
    m = blocker.args[0]
    assert m is not None and threads and threading.main_thread() not in threads
    np.testing.assert_array_equal(c.layer.image.image, real(m))


class _Shows(QObject):
    """Counts the Show events of a widget."""

    def __init__(self, widget):
        super().__init__(widget)
        self.n = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Show:
            self.n += 1
        return False


def test_the_progress_bar_appears_only_when_a_map_takes_long(him, qtbot, monkeypatch):
    """Each repaint of the status bar recomposes the window with its OpenGL view: a map that comes back
    before PROGRESS_DELAY_S shows no progress bar at all; a slower one shows it, with Cancel, until it ends."""
    c = him.basins
    shows = _Shows(c.progress)
    monkeypatch.setattr(basins_mod, "PROGRESS_DELAY_S", 3600.0)  # "long" never comes
    with qtbot.waitSignal(c.sig_finished, timeout=60000) as blocker:
        c.action.setChecked(True)
    assert blocker.args[0] is not None and shows.n == 0 and not c.progress.isVisible()
    monkeypatch.setattr(basins_mod, "PROGRESS_DELAY_S", 0.05)
    monkeypatch.setattr(basins_mod, "GRID", 300)
    c._shown_key = None
    with qtbot.waitSignal(c.sig_finished, timeout=60000) as blocker:
        c.recompute()
        assert not c.progress.isVisible()
        qtbot.waitUntil(lambda: shows.n == 1 or not c.busy, timeout=10000)
        if c.busy:  # (the map may have ended since the bar was shown)
            assert c.progress.isVisible() and c.cancel_button.isVisible()
    assert shows.n == 1 and blocker.args[0] is not None and blocker.args[0].shape == (300, 300)
    assert not c.progress.isVisible() and not c.cancel_button.isVisible()
    assert len(c.layer.legend.items) == 4  # the legend, built in the turn after the picture, is there
