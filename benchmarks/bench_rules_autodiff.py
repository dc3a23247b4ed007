"""Cost of a typed update rule against the built-in it imitates, and of autodiff against analytic gradients.

* **rules**: the momentum and Adam rules (:data:`gdstudio.core.rules.EXAMPLES`) against the built-in
  ``momentum`` and ``adam`` on Rosenbrock: one start for 2,000 steps, and 10,000 starts for 1,000 steps,
  iterating :class:`gdstudio.core.runs.Run` (the loop the window's worker runs).
* **autodiff**: gradient descent on each built-in objective with ``gradient="analytic"`` and ``"autodiff"``,
  10,000 starts x 200 steps; and the bare gradient call on a 500 x 500 grid.

Each figure is the best of ``--repeat`` runs (default 3).

    python benchmarks/bench_rules_autodiff.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gdstudio.core.autodiff import autodiff_gradient  # noqa: E402
from gdstudio.core.objectives import get_objective, objective_names  # noqa: E402
from gdstudio.core.rules import EXAMPLES  # noqa: E402
from gdstudio.core.runs import Run, RunConfig  # noqa: E402


def best(fn, repeat):
    t = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return t


def loop(cfg):
    for _ in Run(cfg):
        pass


def starts(objective, n):
    (x0, x1), (y0, y1) = objective.domain
    rng = np.random.default_rng(0)
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    ros = get_objective("rosenbrock")
    many = starts(ros, 10_000)
    print("\n| optimizer | single: steps/s | 10,000 × 1,000: time (s) |\n|---|---:|---:|")
    for label, opt, hp in (("momentum", "momentum", {"lr": 1e-4}),
                           ("rule: momentum", "rule:" + EXAMPLES["momentum"][1], {"lr": 1e-4}),
                           ("adam", "adam", {}), ("rule: Adam", "rule:" + EXAMPLES["adam"][1], {})):
        one = RunConfig.create("rosenbrock", opt, starts=[(-1.5, 2.0)], epochs=2000, hyperparams=hp)
        t1 = best(lambda: loop(one), a.repeat)
        batch = RunConfig.create("rosenbrock", opt, starts=many, epochs=1000, hyperparams=hp)
        tb = best(lambda: loop(batch), a.repeat)
        print(f"| {label} | {2000 / t1:,.0f} | {tb:.2f} |")
    print("\n| objective | nodes | gd 10,000 × 200 analytic (s) | autodiff (s) | 500 × 500 grid: analytic (ms) "
          "| autodiff (ms) |\n|---|---:|---:|---:|---:|---:|")
    from gdstudio.core.autodiff import objective_graph

    for name in objective_names():
        f = get_objective(name)
        pts = starts(f, 10_000)
        times = []
        for method in ("analytic", "autodiff"):
            cfg = RunConfig.create(name, "gd", starts=pts, epochs=200, hyperparams={"lr": 1e-5}, gradient=method)
            times.append(best(lambda: loop(cfg), a.repeat))
        (x0, x1), (y0, y1) = f.domain
        grid = np.stack(np.meshgrid(np.linspace(x0, x1, 500), np.linspace(y0, y1, 500), indexing="ij"), -1)
        ga = best(lambda: f.gradient(grid), a.repeat)
        gd = best(lambda: autodiff_gradient(f, grid), a.repeat)
        print(f"| {name} | {len(objective_graph(f))} | {times[0]:.2f} | {times[1]:.2f} | {1e3 * ga:.1f} "
              f"| {1e3 * gd:.1f} |")
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
