"""A long run at max speed in the real window: does the window keep up, and stay responsive?

Run under a display (Xvfb), e.g.::

    xvfb-run -a -s "-screen 0 1280x1024x24 -nolisten tcp" \\
        python benchmarks/bench_long_run.py --epochs 1000000

What it measures (Rosenbrock, momentum ε = 0.002, μ = 0.9, from (−1.5, 2): the first-launch demo, made long):

* ``gdstudio run`` for the same config (a subprocess writing its CSV to a temp file): the time to beat, × 2;
* the window: from pressing Run (the QAction) to the run's end, shown at 1280×900 with every view on;
* event-loop stalls: a 10 ms QTimer in the GUI thread records the gaps between its ticks (the longest gap is
  how long a click or a menu would have waited at worst);
* memory: the process's resident set size (``VmRSS``) before Run and after the run ended.

``--profile FILE`` writes a cProfile of the GUI thread (``python -m pstats FILE``), ``--screenshot PNG`` saves
the window at the end (and ``PNG`` with ``-mid`` inserted, half way), ``--no-cli`` skips the subprocess.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cli_time(epochs: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "run.csv")
        cmd = [sys.executable, "-m", "gdstudio", "run", "--objective", "rosenbrock", "--optimizer", "momentum",
               "--start", "-1.5", "2", "--lr", "0.002", "--set", "momentum=0.9", "--epochs", str(epochs),
               "--out", out]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": ROOT})
        return time.perf_counter() - t0


def window_run(epochs: int, profile: str | None, screenshot: str | None) -> dict:
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    from PySide6.QtCore import QCoreApplication, QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication(sys.argv)
    from gdstudio.core.runs import RunConfig
    from gdstudio.gui.main_window import MainWindow

    cfg = RunConfig.create("rosenbrock", "momentum", starts=[(-1.5, 2.0)], epochs=epochs,
                           hyperparams={"lr": 0.002, "momentum": 0.9})
    w = MainWindow(cfg)
    w.resize(1280, 900)
    w.actions.speed.set_speed(math.inf)
    w.show()
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    gaps: list[tuple[float, int]] = []  # (gap in s, steps delivered then)
    clock = QElapsedTimer()
    tick = QTimer()
    tick.setInterval(10)
    last = [0]

    def on_tick():
        now = clock.elapsed()
        e = w.model.latest()
        gaps.append(((now - last[0]) / 1000, len(e) if e is not None else 0))
        last[0] = now

    tick.timeout.connect(on_tick)
    done = {}

    def finished():
        done["t"] = time.perf_counter()
        QTimer.singleShot(300, app.quit)

    w.sig_all_finished.connect(finished)
    mid = {}

    def maybe_mid():
        e = w.model.latest()
        if screenshot and not mid and e is not None and len(e) >= epochs // 2:
            mid["shot"] = True
            root, ext = os.path.splitext(screenshot)
            w.grab().save(f"{root}-mid{ext}")
            last[0] = clock.elapsed()  # the benchmark's own grab is not a stall of the window

    midtimer = QTimer()
    midtimer.setInterval(500)
    midtimer.timeout.connect(maybe_mid)
    midtimer.start()
    rss0 = rss_mb()
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    clock.start()
    tick.start()
    t0 = time.perf_counter()
    w.actions.run.trigger()
    app.exec()
    tick.stop()
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile)
    e = w.model.latest()
    steps = len(e)
    rss1 = rss_mb()
    if screenshot:
        w.grab().save(screenshot)
    elapsed = done.get("t", time.perf_counter()) - t0
    big = [g for g in gaps[1:] if g[0] > 0.1]
    import numpy as np

    quantiles = np.percentile([g[0] for g in gaps[1:]], [50, 90, 99]) if len(gaps) > 1 else [float("nan")] * 3
    worst = max(gaps[1:], default=(0.0, 0))
    by_tenth = []
    for q in range(10):  # the longest gap in each tenth of the run (by steps done)
        lo, hi = q * epochs / 10, (q + 1) * epochs / 10
        sel = [g[0] for g in gaps[1:] if lo <= g[1] < hi]
        by_tenth.append(max(sel, default=float("nan")))
    w.close()
    return {"steps": steps, "time": elapsed, "rss0": rss0, "rss1": rss1, "worst_gap": worst,
            "stalls_over_100ms": len(big), "ticks": len(gaps) - 1, "gap_quantiles": quantiles, "gaps_by_tenth": by_tenth, "status": str(e.status),
            "path_points": _path_points(w)}


def _path_points(w) -> int:
    items = next(iter(w.contour_view._runs.values()), None)
    if items is None:
        return -1
    xs, _ = items.path.getData()
    return 0 if xs is None else len(xs)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=1_000_000)
    p.add_argument("--no-cli", action="store_true", help="skip timing `gdstudio run`")
    p.add_argument("--profile", metavar="FILE", help="cProfile of the GUI thread")
    p.add_argument("--screenshot", metavar="PNG")
    a = p.parse_args(argv)
    print(f"epochs {a.epochs:,}; load average {os.getloadavg()[0]:.2f}", flush=True)
    cli = None if a.no_cli else cli_time(a.epochs)
    if cli is not None:
        print(f"gdstudio run: {cli:.1f} s ({a.epochs / cli:,.0f} steps/s)", flush=True)
    r = window_run(a.epochs, a.profile, a.screenshot)
    print(f"window: {r['steps']:,} rows in {r['time']:.1f} s ({r['steps'] / r['time']:,.0f} steps/s), {r['status']}")
    if cli is not None:
        print(f"window / gdstudio run: {r['time'] / cli:.2f}×")
    qs = " / ".join(f"{1000 * float(v):.0f}" for v in r["gap_quantiles"])
    print(f"longest event-loop gap: {1000 * r['worst_gap'][0]:.0f} ms (at {r['worst_gap'][1]:,} steps); "
          f"gaps over 100 ms: {r['stalls_over_100ms']} of {r['ticks']} ticks; "
          f"median / 90 % / 99 % gap {qs} ms")
    print("longest gap per tenth of the run (ms): " + ", ".join(f"{1000 * g:.0f}" for g in r["gaps_by_tenth"]))
    print(f"RSS before Run {r['rss0']:.0f} MB, after {r['rss1']:.0f} MB: growth {r['rss1'] - r['rss0']:.0f} MB "
          f"({1e6 * (r['rss1'] - r['rss0']) / max(r['steps'], 1):.0f} B/step)")
    print(f"points in the contour path item at the end: {r['path_points']:,}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
