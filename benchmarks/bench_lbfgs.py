"""Speed and memory of L-BFGS (``lbfgs``): one start on a 2-D function, a basin map, a d = 650 model.

* **single**: one start on Rosenbrock from (−1.5, 2), ``--steps`` steps (default 300), torch's defaults
  (``max_iter`` 20, ``history_size`` 100) with and without the strong-Wolfe line search; time per step and the
  evaluations of f and ∇f the run counted.
* **basins**: Himmelblau, a 100 × 100 grid of starts, 30 steps, the basin map's default tolerance.
* **model**: the linear SVM on digits (d = 650), full batch, 10 steps; time per step, the final training loss,
  and the bytes the optimizer's state holds per start (the memory of pairs) beside what one d × d matrix would take.

Each time is the best of ``--repeat`` runs (default 3). Usage::

    python benchmarks/bench_lbfgs.py [--repeat 3] [--steps 300]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gdstudio.core.basins import basin_map  # noqa: E402
from gdstudio.core.runs import Run, RunConfig  # noqa: E402
from gdstudio.core.training import TrainConfig, Training  # noqa: E402

SETTINGS = {"none": {}, "strong_wolfe": {"line_search_fn": "strong_wolfe"}}


def best(fn, repeat):
    out, times = None, []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def single(hp, steps):
    r = Run(RunConfig.create("rosenbrock", "lbfgs", starts=[(-1.5, 2.0)], epochs=steps, hyperparams=hp))
    for _ in r.chunks():
        pass
    return r


def model(hp):
    state = {}
    t = Training(TrainConfig.create(dataset="digits", model="svm", optimizer="lbfgs", hyperparams=hp, epochs=10))
    spy = t.run.optimizer.update

    def update(*a, **k):
        up = spy(*a, **k)
        state["bytes"] = sum(v.nbytes for v in up.state.values())
        return up

    t.run.optimizer.update = update
    for _ in t:
        pass
    return t, state["bytes"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=300)
    a = ap.parse_args(argv)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}; Python {platform.python_version()}, numpy {np.__version__}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| case | line search | time | per step | evaluations / other |")
    print("|---|---|---:|---:|---|")
    for label, hp in SETTINGS.items():
        t, r = best(lambda: single(hp, a.steps), a.repeat)
        print(f"| 1 start, Rosenbrock, {a.steps} steps | {label} | {t:.3f} s | {t / a.steps * 1e3:.2f} ms | "
              f"nfev {int(r.nfev[0])}, njev {int(r.njev[0])} |")
    for label, hp in SETTINGS.items():
        t, m = best(lambda: basin_map("himmelblau", "lbfgs", grid=100, epochs=30, hyperparams=hp), a.repeat)
        print(f"| basin map, Himmelblau, 100 × 100 starts × 30 steps | {label} | {t:.2f} s | "
              f"{t / 30 * 1e3:.0f} ms | mean nfev {m.nfev.mean():.1f} |")
    for label, hp in SETTINGS.items():
        t, (tr, nbytes) = best(lambda: model(hp), a.repeat)
        loss = tr.result().curve.array("train_loss")[-1]
        print(f"| svm on digits (d = 650), full batch, 10 steps | {label} | {t:.2f} s | {t / 10 * 1e3:.0f} ms | "
              f"loss {loss:.6f}, nfev {int(tr.run.nfev[0])}; state {nbytes / 1024:.0f} kB per start "
              f"(one d × d matrix: {650 * 650 * 8 / 1024:.0f} kB) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
