"""Speed of the run loop, beside a bare numpy loop and torch.optim, and of basin maps; window responsiveness.

Parts (each figure the best of ``--repeat`` runs, wall time and CPU time of this process):

* **batch**: 10,000 starts × 1,000 Adam steps on Rosenbrock (float64, starts uniform over the view, seed 0,
  torch's defaults): gdstudio's :class:`~gdstudio.core.runs.Run` with the final-state collector and iterated
  step by step (full N-row steps, as the window's worker reads them); a bare numpy loop doing the same
  arithmetic (Rosenbrock's value and gradient, Adam's update, a finiteness check); ``torch.optim.Adam`` on a
  batched (10,000, 2) tensor (autograd for the gradient), when a Python with torch is given.
* **single**: one start, 20,000 steps of gd / momentum / adam iterated as the window's worker does: µs per step.
* **basins**: a 500 × 500 basin map (250,000 starts × 200 gd steps on Himmelblau, ε = 0.01, no tolerance, final
  state only) with :func:`gdstudio.core.basins.basin_map`; peak memory in a fresh process; a bare numpy loop
  doing the same arithmetic on all 250,000 starts at once.
* **window**: the largest gap between ticks of a 10 ms timer in the window's event loop from View ▸ Basins of
  attraction until the 500 × 500 map is drawn (300 ms after it arrived); for the worst gap, what the GUI
  thread did in it (its CPU time, the time it waited for a CPU — Linux's ``/proc/thread-self/schedstat`` —,
  the process's CPU time and the controller's slots that ran), and every gap over 25 ms as
  ``[ms, GUI-thread CPU ms, waiting for a CPU ms, process CPU ms, at s]``; needs a display (run under ``xvfb-run``).
  ``--window-repeat N`` runs it N times.

Usage::

    python benchmarks/bench_runloop.py [--repeat 3] [--torch-python /path/to/python-with-torch] [--parts ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_BATCH, K_BATCH = 10_000, 1_000
K_SINGLE = 20_000
GRID, K_BASINS = 500, 200


def _starts(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-1, 3, n)])


def _best(fn, repeat: int) -> tuple[float, float]:
    """Best wall time and best CPU time (seconds) over ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        c, t = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus)


# --- the contenders ------------------------------------------------------------------------------------
def ours_batch_final():
    from gdstudio.core.runs import FinalState, Run, RunConfig

    starts = _starts(N_BATCH)
    r = Run(RunConfig.create("rosenbrock", "adam", starts[:1], epochs=K_BATCH), starts=starts)
    fs = FinalState(r)
    r.drive(fs)
    return fs.x


def ours_batch_iter():
    from gdstudio.core.runs import Run, RunConfig

    starts = _starts(N_BATCH)
    for step in Run(RunConfig.create("rosenbrock", "adam", starts[:1], epochs=K_BATCH), starts=starts):
        pass
    return step.x


def bare_batch():
    """Rosenbrock + Adam in plain numpy on (N, 2) arrays, in place where it pays; a finiteness check per step."""
    x = _starts(N_BATCH)
    m, v = np.zeros_like(x), np.zeros_like(x)
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
    g = np.empty_like(x)
    for k in range(1, K_BATCH + 1):
        a, b = x[:, 0], x[:, 1]
        w = b - a * a
        f = (1 - a) ** 2 + 100 * w * w
        g[:, 0] = -2 * (1 - a) - 400 * a * w
        g[:, 1] = 200 * w
        if not np.isfinite(f.sum() + g.sum()):
            break
        m += (g - m) * (1 - b1)
        v *= b2
        v += (1 - b2) * g * g
        d = np.sqrt(v)
        d /= (1 - b2**k) ** 0.5
        d += eps
        x = x + (-lr / (1 - b1**k)) * m / d
    return x


def ours_single(opt: str) -> float:
    from gdstudio.core.runs import Run, RunConfig

    r = Run(RunConfig.create("rosenbrock", opt, [(-1.5, 2.0)], epochs=K_SINGLE, hyperparams={"lr": 1e-4}))
    for _ in r:
        pass


def ours_basins():
    from gdstudio.core.basins import basin_map

    return basin_map("himmelblau", "gd", grid=GRID, epochs=K_BASINS, hyperparams={"lr": 0.01}, tol=None)


def bare_basins():
    """Himmelblau's gradient and gd's update on all 250,000 starts as x and y arrays, a finiteness check per step."""
    from gdstudio.core.basins import grid_points

    _, _, pts = grid_points(((-5.0, 5.0), (-5.0, 5.0)), GRID)
    x, y = pts[:, 0].copy(), pts[:, 1].copy()
    for _ in range(K_BASINS):
        a = x**2 + y - 11
        b = x + y**2 - 7
        f = a**2 + b**2
        gx = 4 * x * a + 2 * b
        gy = 2 * a + 4 * y * b
        if not np.isfinite(f.sum() + gx.sum() + gy.sum()):
            break
        x = x - 0.01 * gx
        y = y - 0.01 * gy
    return x, y


TORCH_CODE = r"""
import json, sys, time
import numpy as np, torch
torch.set_num_threads(int(sys.argv[1])); repeat = int(sys.argv[2])
N, K, KS = %d, %d, %d
rng = np.random.default_rng(0)
starts = np.column_stack([rng.uniform(-2, 2, N), rng.uniform(-1, 3, N)])
def rosen(p):
    a, b = p[:, 0], p[:, 1]
    return ((1 - a) ** 2 + 100 * (b - a * a) ** 2).sum()
def batch():
    x = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=1e-3)
    for _ in range(K):
        opt.zero_grad()
        rosen(x).backward()
        opt.step()
def single(name):
    x = torch.tensor([[-1.5, 2.0]], dtype=torch.float64, requires_grad=True)
    opt = {"gd": lambda: torch.optim.SGD([x], lr=1e-4), "momentum": lambda: torch.optim.SGD([x], lr=1e-4, momentum=0.9),
           "adam": lambda: torch.optim.Adam([x], lr=1e-4)}[name]()
    for _ in range(KS):
        opt.zero_grad()
        rosen(x).backward()
        opt.step()
def best(fn):
    w, c = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter(); fn()
        w.append(time.perf_counter() - t0); c.append(time.process_time() - c0)
    return min(w), min(c)
out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": best(batch)}
for name in ("gd", "momentum", "adam"):
    out["single_" + name] = best(lambda: single(name))
print(json.dumps(out))
""" % (N_BATCH, K_BATCH, K_SINGLE)


def torch_figures(python: str, repeat: int, threads: int) -> dict | None:
    p = subprocess.run([python, "-c", TORCH_CODE, str(threads), str(repeat)], capture_output=True, text=True,
                       timeout=3600)
    if p.returncode != 0:
        print(f"torch part failed: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode}",
              file=sys.stderr)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def basins_memory() -> dict:
    """Peak memory of a fresh process computing the 500 × 500 map (ru_maxrss) and numpy's traced peak."""
    code = (
        "import resource, sys, tracemalloc; sys.path.insert(0, %r)\n"
        "import numpy as np\n"
        "from gdstudio.core.basins import basin_map\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "tracemalloc.start()\n"
        "m = basin_map('himmelblau', 'gd', grid=%d, epochs=%d, hyperparams={'lr': 0.01}, tol=None)\n"
        "peak = tracemalloc.get_traced_memory()[1]\n"
        "print(base / 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, peak / 2**20)\n"
    ) % (str(ROOT), GRID, K_BASINS)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    base, peak, traced = (float(v) for v in p.stdout.split())
    return {"rss_after_imports_mb": base, "peak_rss_mb": peak, "traced_peak_mb": traced}


WINDOW_CODE = r"""
import sys, time, json, os
sys.path.insert(0, %r)
from PySide6.QtCore import QCoreApplication, Qt, QTimer
QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
from gdstudio.gui.app import make_app
app = make_app([])
from gdstudio.core.runs import RunConfig
from gdstudio.gui import basins as B
from gdstudio.gui.main_window import MainWindow
B.GRID = %d
events = []  # what the GUI thread did: (time, name) at the start and end of the controller's slots
for name in ("_on_progress", "_on_done", "_finish", "_show_progress"):
    if not hasattr(B.BasinController, name):  # (an older version of the controller)
        continue
    def hook(f, name=name):
        def w(*a, **k):
            events.append((time.perf_counter(), name + "+")); r = f(*a, **k)
            events.append((time.perf_counter(), name + "-")); return r
        return w
    setattr(B.BasinController, name, hook(getattr(B.BasinController, name)))
w = MainWindow(RunConfig.create("himmelblau", "gd", starts=[(0.0, 0.0)], epochs=%d, hyperparams={"lr": 0.01}))
w.resize(1400, 900); w.show()
for _ in range(50):
    app.processEvents(); time.sleep(0.01)
def cpu_wait():  # seconds this thread has waited, runnable, for a CPU (Linux; 0 elsewhere)
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except OSError:
        return 0.0
ticks = []  # (wall, GUI thread CPU, GUI thread's wait for a CPU, process CPU) at each tick
timer = QTimer(); timer.setInterval(10)
timer.timeout.connect(lambda: ticks.append((time.perf_counter(), time.thread_time(), cpu_wait(), time.process_time())))
timer.start()
t_idle = time.perf_counter()
while time.perf_counter() - t_idle < 3.0:  # the same window idle: what the machine's load alone costs
    app.processEvents(); time.sleep(0.001)
idle = sorted(b[0] - a[0] for a, b in zip(ticks, ticks[1:]))
ticks.clear()
done = []
w.basins.sig_finished.connect(lambda m: done.append(time.perf_counter()))
w.basins.sig_finished.connect(lambda m: QTimer.singleShot(300, app.quit))
t0 = time.perf_counter()
QTimer.singleShot(100, lambda: w.basins.action.setChecked(True))
app.exec()
timer.stop()
start = t0 + 0.1
# every gap from the click to the map drawn (its legend built and the window repainted: 300 ms after)
gaps = [(b[0] - a[0], b[1] - a[1], b[2] - a[2], b[3] - a[3], a[0], b[0]) for a, b in zip(ticks, ticks[1:])
        if a[0] >= start]
srt = sorted(g[0] for g in gaps)
worst = max(gaps)
print(json.dumps({
    "map_s": done[0] - start, "max_gap_ms": 1e3 * worst[0], "p99_gap_ms": 1e3 * srt[int(0.99 * (len(srt) - 1))],
    "ticks": len(gaps), "idle_max_gap_ms": 1e3 * idle[-1], "idle_p99_gap_ms": 1e3 * idle[int(0.99 * (len(idle) - 1))],
    "worst": {"gui_thread_cpu_ms": 1e3 * worst[1], "waiting_for_a_cpu_ms": 1e3 * worst[2],
              "process_cpu_ms": 1e3 * worst[3], "at_s": worst[4] - start, "after_map_s": worst[4] - done[0],
              "slots": [f"{n}@{1e3 * (t - worst[4]):.0f}ms" for t, n in events if worst[4] <= t <= worst[5]]},
    "gaps_over_25ms": [[round(1e3 * g[0]), round(1e3 * g[1]), round(1e3 * g[2]), round(1e3 * g[3]),
                        round(g[4] - start, 2)]
                       for g in gaps if g[0] > 0.025],
    "load": os.getloadavg()}))
w.close()
""" % (str(ROOT), GRID, K_BASINS)


def window_figures() -> dict | None:
    if not os.environ.get("DISPLAY"):
        print("window part skipped: no DISPLAY (run under xvfb-run)", file=sys.stderr)
        return None
    env = dict(os.environ, GDSTUDIO_SETTINGS=os.path.join(os.environ.get("TMPDIR", "/tmp"), "bench-gdstudio.ini"))
    p = subprocess.run([sys.executable, "-c", WINDOW_CODE], capture_output=True, text=True, timeout=600, env=env)
    if p.returncode != 0:
        print("window part failed:", p.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--torch-python", help="a Python interpreter with torch installed (for the comparison)")
    ap.add_argument("--torch-threads", type=int, default=2)
    ap.add_argument("--parts", default="batch,single,basins,window")
    ap.add_argument("--window-repeat", type=int, default=1, help="runs of the window part")
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args(argv)
    parts = a.parts.split(",")
    res: dict = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                 "python": platform.python_version(), "numpy": np.__version__,
                 "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                 "load_at_start": os.getloadavg()}
    torch = None
    if a.torch_python and ("batch" in parts or "single" in parts):
        torch = torch_figures(a.torch_python, a.repeat, a.torch_threads)
        res["torch"] = torch
    if "batch" in parts:
        res["batch_final"] = _best(ours_batch_final, a.repeat)
        res["batch_iter"] = _best(ours_batch_iter, a.repeat)
        res["batch_bare"] = _best(bare_batch, a.repeat)
        np.testing.assert_allclose(ours_batch_final(), bare_batch(), rtol=1e-9, atol=1e-12)
    if "single" in parts:
        for opt in ("gd", "momentum", "adam"):
            w, c = _best(lambda: ours_single(opt), a.repeat)
            res[f"single_{opt}_us"] = (1e6 * w / K_SINGLE, 1e6 * c / K_SINGLE)
    if "basins" in parts:
        res["basins"] = _best(ours_basins, a.repeat)
        res["basins_bare"] = _best(bare_basins, a.repeat)
        res["basins_memory"] = basins_memory()
    if "window" in parts:
        res["window"] = [window_figures() for _ in range(a.window_repeat)]
    res["load_at_end"] = os.getloadavg()
    print(json.dumps(res, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
