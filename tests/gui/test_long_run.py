"""Long runs in the window: every step kept, drawing bounded by the screen, a selected step on the drawn path,
Pause honoured within one delivery. (Speed and memory targets are measured by benchmarks/bench_long_run.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from gdstudio.core.runs import RunConfig, Status
from gdstudio.gui import worker
from gdstudio.gui.views.loss_chart import BUDGET

# Booth with plain gradient descent just under its stability limit (ε·λ_max = 0.11111·18 ≈ 1.99998; the steep
# direction is (1, 1)/√2): the path zig-zags across the valley at every step, the swing shrinking by 0.99998 a
# step (a long, slow zig-zag).
ZIGZAG = dict(objective="booth", optimizer="gd", starts=[(-8.0, 8.0)], hyperparams={"lr": 0.11111})


def _points(item) -> int:
    xs, _ = item.getData()
    return 0 if xs is None else len(xs)


def test_a_long_run_keeps_every_step_and_draws_a_bounded_zigzag(make_window, qtbot):
    epochs = 120_000
    w = make_window(RunConfig.create(epochs=epochs, **ZIGZAG))
    with qtbot.waitSignal(w.sig_all_finished, timeout=240_000):
        w.actions.run.trigger()
    e = w.model.latest()
    assert e.status == Status.COMPLETED
    # the history has every step, and the export holds them all
    assert len(e) == epochs + 1 and np.isfinite(e.x).all()
    assert len(w.results()[0][0].x) == epochs + 1
    # drawing is bounded by the views' size, not by the run's length
    vb = w.contour_view.plot.getViewBox()
    width = max(vb.width(), vb.height())
    items = w.contour_view._runs[e.run_id]
    n_path = _points(items.path)
    assert 10 < n_path <= 6 * width, (n_path, width)
    assert _points(items.halo) == n_path
    assert _points(w.loss_chart.curve(e.run_id)) <= 4 * BUDGET + 2
    if w.surface_view.view.isValid():
        assert len(w.surface_view._runs[e.run_id].line.pos) <= 12 * 2000
    # and the zig-zag is drawn as one: consecutive drawn points sit on alternate sides of the valley
    xs, ys = w.contour_view.drawn_path(e.run_id)
    u = (xs - 1.0 + (ys - 3.0)) / np.sqrt(2)  # coordinate along the steep direction (1, 1)/√2 from the minimum
    early = u[: n_path // 4]
    assert np.mean(np.sign(early[1:]) != np.sign(early[:-1])) > 0.5


@pytest.mark.parametrize("k", [3, 12_345])
def test_the_selected_step_lies_on_the_drawn_path(make_window, qtbot, k):
    """The See why marker for step k is at x_k, and the drawn polyline passes through x_k (not a stride
    that skips it, as the old drawing did for step 3 of a long run)."""
    w = make_window(RunConfig.create(epochs=40_000, **ZIGZAG))
    with qtbot.waitSignal(w.sig_all_finished, timeout=120_000):
        w.actions.run.trigger()
    e = w.model.latest()
    w.see_why.dock.show()
    w.see_why.timeline.spin.setValue(k)  # the user types the step
    qtbot.waitUntil(lambda: w.see_why.picture is not None and w.see_why.picture.explanation.k == k, timeout=60_000)
    xk = e.x[k, 0]
    mx, my = w.see_why.contour.selected.getData()
    assert np.allclose([mx[0], my[0]], xk, rtol=0, atol=1e-12)
    xs, ys = w.contour_view.drawn_path(e.run_id)
    assert len(xs) < 20_000
    on_path = np.flatnonzero((xs == xk[0]) & (ys == xk[1]))
    assert on_path.size, "x_k is not a vertex of the drawn path"
    # the segments into and out of x_k are the real steps k−1 → k → k+1
    i = on_path[0]
    assert np.array_equal([xs[i - 1], ys[i - 1]], e.x[k - 1, 0])
    assert np.array_equal([xs[i + 1], ys[i + 1]], e.x[k + 1, 0])
    # clearing the selection drops the pin
    w.see_why.timeline.clear_button.click()
    assert w.contour_view._pinned == {}


def test_pause_is_honoured_within_one_delivery(make_window, qtbot):
    """Pressed during a run at max speed, Pause stops the run after at most one delivery's steps
    (MAX_BATCH), counted in steps: the worker checks its commands before every step."""
    w = make_window(RunConfig.create(epochs=2_000_000, **ZIGZAG))
    w.actions.run.trigger()
    e = w.model.latest()
    qtbot.waitUntil(lambda: len(e) > 20_000, timeout=120_000)
    w.actions.pause.trigger()
    assert w.controller.paused and w.actions.pause.text().replace("&", "") == "Resume"
    at_press = len(e.history)  # steps the worker had computed when Pause was pressed
    qtbot.wait(600)
    after = len(e.history)
    assert after - at_press <= worker.MAX_BATCH + 1
    qtbot.waitUntil(lambda: len(e) == len(e.history), timeout=5000)  # everything computed is shown
    qtbot.wait(300)
    assert len(e.history) == after and e.running  # stopped, not ended
    # Step (while paused) advances exactly one step
    w.actions.step.trigger()
    qtbot.waitUntil(lambda: len(e) == after + 1, timeout=5000)
    qtbot.wait(200)
    assert len(e) == after + 1


def _watch_3d_redraws(w, monkeypatch) -> list[int]:
    """Rows drawn by each redraw of the 3D view's paths (a redraw of an empty run is not counted)."""
    drawn: list[int] = []
    view = w.surface_view
    redraw = view._redraw

    def counting(e):
        if len(e):
            drawn.append(len(e))
        redraw(e)

    monkeypatch.setattr(view, "_redraw", counting)
    return drawn


def test_the_3d_view_redraws_at_most_every_quarter_second_and_at_the_end(make_window, qtbot, monkeypatch):
    """During a run the 3D paths are redrawn at most once per LIVE_REDRAW_S (a fake clock that advances
    0.1 s per delivery: at most one redraw per 3 deliveries), and the run's end is drawn at once."""
    from gdstudio.gui.views import surface3d

    epochs = 60_000
    w = make_window(RunConfig.create(epochs=epochs, **ZIGZAG))
    clock = [100.0]
    monkeypatch.setattr(w.surface_view, "_clock", lambda: clock[0])
    w.surface_view._catch_up.setInterval(600_000)  # only deliveries and the end may redraw here
    drawn = _watch_3d_redraws(w, monkeypatch)
    deliveries = []

    def delivered(_ids):
        deliveries.append(len(w.model.latest()))
        clock[0] += 0.1

    w.model.sig_data.connect(delivered)
    with qtbot.waitSignal(w.sig_all_finished, timeout=120_000):
        w.actions.run.trigger()
    e = w.model.latest()
    assert e.status == Status.COMPLETED and len(e) == epochs + 1
    assert len(deliveries) >= 6, deliveries  # enough deliveries for the rule to matter
    assert surface3d.LIVE_REDRAW_S == pytest.approx(0.25)
    live = drawn[:-1] if drawn and drawn[-1] == epochs + 1 else drawn
    assert 1 <= len(live) <= len(deliveries) // 3 + 1, (drawn, deliveries)
    assert drawn[-1] == epochs + 1  # the end is drawn
    # and the drawn "now" marker is the run's last point
    now = w.surface_view._runs[e.run_id].now.pos
    pt, f, _ = e.current(0)
    want = w.surface_view.surface.to_world(np.array([pt[0]]), np.array([pt[1]]), np.array([f]))
    assert np.allclose(now[0, :2], want[0, :2])


def test_the_3d_view_catches_up_when_paused(make_window, qtbot, monkeypatch):
    """With every live redraw held back (a clock that never advances), Pause still shows the last delivered
    step in 3D: the catch-up redraw comes once deliveries stop."""
    w = make_window(RunConfig.create(epochs=2_000_000, **ZIGZAG))
    monkeypatch.setattr(w.surface_view, "_clock", lambda: 0.0)
    drawn = _watch_3d_redraws(w, monkeypatch)
    w.actions.run.trigger()
    e = w.model.latest()
    qtbot.waitUntil(lambda: len(e) > 20_000, timeout=120_000)
    w.actions.pause.trigger()
    qtbot.waitUntil(lambda: len(e) == len(e.history), timeout=5000)
    qtbot.wait(100)
    qtbot.waitUntil(lambda: bool(drawn) and drawn[-1] == len(e), timeout=5000)
    assert drawn[0] < 20_000 < drawn[-1]  # held back during the run, then caught up
