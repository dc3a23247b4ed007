"""Speed of the models: a 2-D landscape slice and an epoch of training.

* **slice**: a ``--grid`` × ``--grid`` slice (default 51 × 51) of the training loss on digits (1,797 samples)
  around trained parameters, for softmax and svm (exact linear-model path: scores computed once) and the MLP
  (hidden 32, evaluated point by point in chunks), filter-normalised directions.
* **epoch**: one epoch of training on digits through :class:`gdstudio.core.training.Training` (the run loop
  the CLI and the window use), full batch and minibatches of 64, with SGD and Adam; the time includes the
  end-of-epoch full-set loss and accuracy.

Each figure is the best of ``--repeat`` runs (default 3). Usage::

    python benchmarks/bench_models.py
    python benchmarks/bench_models.py --grid 101 --repeat 5
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

from gdstudio.core.landscape import grid_slice, make_plane  # noqa: E402
from gdstudio.core.training import TrainConfig, Training, train  # noqa: E402


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--grid", type=int, default=51)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, cpus {os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.1f}")
    train(TrainConfig.create(epochs=0))  # load digits once (scikit-learn import, file read)
    print(f"\n| model | d | {a.grid}×{a.grid} slice (s) | µs per grid point |")
    print("|---|---:|---:|---:|")
    for model, params in (("softmax", {}), ("svm", {}), ("mlp", {"hidden": 32})):
        r = train(TrainConfig.create(model=model, optimizer="gd", hyperparams={"lr": 0.3}, model_params=params,
                                     epochs=5))
        plane = make_plane(r.model, r.final, "filter")
        t = best(lambda: grid_slice(r.model, plane, a.grid, 1.0), a.repeat)
        print(f"| {model} | {r.model.dim} | {t:.3f} | {1e6 * t / a.grid ** 2:.1f} |")
    print("\n| model | optimizer | batch | steps per epoch | one epoch (ms) | ms per step |")
    print("|---|---|---|---:|---:|---:|")
    for model, params in (("softmax", {}), ("svm", {}), ("mlp", {"hidden": 32})):
        for opt, lr in (("gd", 0.1), ("adam", 0.01)):
            for batch in (None, 64):
                cfg = TrainConfig.create(model=model, optimizer=opt, hyperparams={"lr": lr}, model_params=params,
                                         batch_size=batch, epochs=1)

                def one():
                    for _ in Training(cfg, keep_thetas=False):
                        pass

                t = best(one, a.repeat)
                steps = Training(cfg).model.batches_per_epoch
                print(f"| {model} | {opt} | {batch or 'full'} | {steps} | {1e3 * t:.1f} | {1e3 * t / steps:.2f} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
