"""Speed of every optimizer through the run loop: one start, and many starts at once.

For each optimizer in the registry, on the Rosenbrock function:

* **single**: one start, ``--single-steps`` steps (default 2,000), iterating :class:`gdstudio.core.runs.Run`
  the way the window's worker does; reported as steps per second.
* **batch**: ``--starts`` starts (default 10,000, uniform over the view domain, fixed seed) for ``--steps``
  steps (default 1,000); reported as wall time, steps per second and start-steps per second
  (starts × steps / time).

Each measurement is the best of ``--repeat`` runs (default 1). Hyperparameters are chosen so that runs do not
diverge on Rosenbrock (small ε for the plain gradient methods); the ``alive`` column says how many starts were
still running at the last step (a diverged start stops costing time).

Usage::

    python benchmarks/bench_optimizers.py            # full: 2,000 single steps; 10,000 starts x 1,000 steps
    python benchmarks/bench_optimizers.py --quick    # 500 single steps; 1,000 starts x 100 steps
    python benchmarks/bench_optimizers.py --json out.json --only adam,newton
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gdstudio.core.optimizers import OPTIMIZERS
from gdstudio.core.runs import Run, RunConfig

OBJECTIVE = "rosenbrock"
#: Hyperparameters that keep Rosenbrock runs finite over the domain (others: defaults).
HYPERPARAMS = {"gd": {"lr": 1e-4}, "sign-gd": {"lr": 1e-3}, "momentum": {"lr": 1e-4}, "nesterov": {"lr": 1e-4}}
#: Extra rows: (label, optimizer, hyperparameters).
VARIANTS = {"line-search": [("line-search method=exact", "line-search", {"method": "exact"}),
                            ("line-search method=grid", "line-search", {"method": "grid"})]}


def starts(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-1, 3, n)])


def time_run(name: str, hp: dict, pts: np.ndarray, steps: int, repeat: int) -> tuple[float, int]:
    """Best wall time of iterating a run to the end, and the number of starts alive at the end."""
    cfg = RunConfig.create(OBJECTIVE, name, starts=pts, epochs=steps, hyperparams=hp)
    best, alive = float("inf"), 0
    for _ in range(repeat):
        r = Run(cfg)
        t0 = time.perf_counter()
        last = None
        for last in r:
            pass
        best = min(best, time.perf_counter() - t0)
        alive = int(np.sum(last.recorded)) if last is not None and last.k == steps else 0
    return best, alive


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "nproc": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_average_1min": os.getloadavg()[0]}  # other processes on a shared machine slow every row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (500 single steps; 1,000 x 100 batch)")
    ap.add_argument("--single-steps", type=int, default=None)
    ap.add_argument("--starts", type=int, default=None)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--only", default="", help="comma-separated optimizer names")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    a = ap.parse_args(argv)
    single = a.single_steps or (500 if a.quick else 2000)
    n = a.starts or (1000 if a.quick else 10_000)
    steps = a.steps or (100 if a.quick else 1000)
    names = [s for s in a.only.split(",") if s] or list(OPTIMIZERS)
    unknown = [s for s in names if s not in OPTIMIZERS]
    if unknown:
        ap.error(f"unknown optimizer {unknown[0]!r} (valid: {', '.join(OPTIMIZERS)})")

    pts = starts(n)
    rows = []
    print(f"| optimizer | single: steps/s | {n:,} × {steps:,}: time (s) | steps/s | start-steps/s | alive |")
    print("|---|---:|---:|---:|---:|---:|")
    cases = []
    for name in names:
        cases.append((name, name, HYPERPARAMS.get(name, {})))
        cases.extend(VARIANTS.get(name, []))
    for label, name, hp in cases:
        t1, _ = time_run(name, hp, pts[:1], single, a.repeat)
        tn, alive = time_run(name, hp, pts, steps, a.repeat)
        row = {"optimizer": label, "hyperparams": hp, "single_steps_per_s": single / t1, "batch_time_s": tn,
               "batch_steps_per_s": steps / tn, "batch_start_steps_per_s": n * steps / tn, "alive": alive}
        rows.append(row)
        print(f"| {label} | {row['single_steps_per_s']:,.0f} | {tn:.2f} | {row['batch_steps_per_s']:,.0f} "
              f"| {row['batch_start_steps_per_s']:.3g} | {alive:,} |", flush=True)
    info = machine()
    print(f"\n{OBJECTIVE}; single run {single:,} steps; batch {n:,} starts × {steps:,} steps; "
          f"{info['cpu']}, {info['nproc']} CPUs (load average {info['load_average_1min']:.2f}); "
          f"Python {info['python']}, numpy {info['numpy']}; {info['date']}")
    if a.json:
        Path(a.json).write_text(json.dumps({"machine": info, "objective": OBJECTIVE, "single_steps": single,
                                            "starts": n, "steps": steps, "results": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
