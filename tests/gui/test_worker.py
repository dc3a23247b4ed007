"""The worker thread: every step delivered in order, stale batches dropped, clean shutdown (also in a
subprocess closed during a 1,000,000-epoch run)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gdstudio.core.runs import RunConfig, run
from gdstudio.gui.controller import RunController

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def controller(qapp):
    c = RunController()
    yield c
    c.shutdown()
    assert not c.engine.isRunning()


def test_every_step_reaches_the_model_in_batches(controller, qtbot):
    cfg = RunConfig.create("rosenbrock", "momentum", starts=[(-1.5, 2.0)], epochs=3000,
                           hyperparams={"lr": 0.002, "momentum": 0.9})
    batches = []
    controller.model.sig_data.connect(lambda ids: batches.append(ids))
    with qtbot.waitSignal(controller.sig_all_finished, timeout=30000):
        [rid] = controller.start([cfg])
    e = controller.model.get(rid)
    ref = run(cfg)
    assert np.array_equal(e.x[:, 0], ref[0].x)
    assert np.array_equal(e.loss[:, 0], ref[0].loss)
    assert np.array_equal(e.steps, np.arange(cfg.epochs + 1))
    assert 1 <= len(batches) < cfg.epochs  # batched, not one signal per step
    res = controller.results()[0]
    assert np.array_equal(res[0].x, ref[0].x) and res[0].status == ref[0].status


def test_multi_start_runs_and_races_advance_together(controller, qtbot):
    a = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0), (5.0, -5.0)], epochs=80, hyperparams={"lr": 0.05})
    b = a.replace(optimizer="momentum", hyperparams={"lr": 0.01, "momentum": 0.9})
    with qtbot.waitSignal(controller.sig_all_finished, timeout=20000):
        ids = controller.start([a, b])
    for rid, cfg in zip(ids, (a, b)):
        e = controller.model.get(rid)
        ref = run(cfg)
        for i in range(2):
            assert np.array_equal(e.x[:, i], ref[i].x)


def test_reset_drops_stale_batches(controller, qtbot):
    long = RunConfig.create("booth", "gd", starts=[(-8.0, 8.0)], epochs=10_000_000, hyperparams={"lr": 1e-5})
    [old] = controller.start([long])
    qtbot.waitUntil(lambda: len(controller.model.get(old)) > 10, timeout=5000)
    short = long.replace(epochs=30, hyperparams={"lr": 0.05})
    with qtbot.waitSignal(controller.sig_all_finished, timeout=20000):
        [new] = controller.start([short])
    assert old not in controller.model and list(e.run_id for e in controller.model) == [new]
    e = controller.model.get(new)
    assert np.array_equal(e.steps, np.arange(31))
    assert np.array_equal(e.x[:, 0], run(short)[0].x)


def test_a_run_that_raises_ends_as_failed_without_killing_the_thread(controller, qtbot, capsys):
    from gdstudio.core.objectives import get_objective

    class Boom(type(get_objective("sphere"))):
        calls = 0

        def grad_xy(self, x, y):
            Boom.calls += 1
            if Boom.calls > 5:
                raise ZeroDivisionError("boom")
            return super().grad_xy(x, y)

    cfg = RunConfig.create("sphere", "gd", starts=[(1.0, 1.0)], epochs=100, hyperparams={"lr": 0.1})
    with qtbot.waitSignal(controller.sig_all_finished, timeout=10000):
        [rid] = controller.start([cfg], Boom())
    e = controller.model.get(rid)
    assert str(e.status) == "failed" and "boom" in e.message
    with qtbot.waitSignal(controller.sig_all_finished, timeout=10000):
        [rid] = controller.start([cfg])
    assert len(controller.model.get(rid)) == 101


CLOSE_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QTimer
    from gdstudio.gui.app import make_app
    app = make_app([])
    from gdstudio.core.runs import RunConfig
    from gdstudio.gui.main_window import MainWindow
    cfg = RunConfig.create("rosenbrock", "momentum", starts=[(-1.5, 2.0)], epochs=1_000_000,
                           hyperparams={{"lr": 1e-4, "momentum": 0.9}})
    w = MainWindow(cfg)
    w.show()
    w.controller.set_speed(float("inf"))
    w.run()
    def close_once_going():  # close mid-run: once the window has received some steps, however loaded the machine
        if len(w.model.latest()) > 50:
            print("going", w.controller.busy, flush=True)
            w.close()
        else:
            QTimer.singleShot(20, close_once_going)
    QTimer.singleShot(20, close_once_going)
    code = app.exec()
    print("steps", len(w.model.latest()), "busy", w.controller.busy, flush=True)
    sys.exit(code)
""")


def test_closing_during_a_million_epoch_run_exits_cleanly(tmp_path):
    script = tmp_path / "close_during_run.py"
    script.write_text(CLOSE_SCRIPT.format(root=str(ROOT)))
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-X", "faulthandler", str(script)], capture_output=True, text=True,
                          timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "QThread: Destroyed" not in proc.stderr
    assert "going True" in proc.stdout  # the window was closed while the run was going
    steps = int(proc.stdout.split("steps")[1].split()[0])
    assert 50 < steps < 100_000  # it ran, and it was stopped long before its 1,000,000 epochs
