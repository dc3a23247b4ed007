"""How long See why takes to explain one training step of a model (Model mode computes it on a selection).

    python benchmarks/bench_model_why.py [--repeat 5]

For each model on digits (val 0.2: 1,438 training samples), full batches and minibatches of 64: the median time
of :func:`explain_model_step` + :func:`model_line_search` + :func:`model_gradient_check` (8 coordinates, and its error curve at 23 step sizes) at step 0,
which is what one selection in the window computes. The line search evaluates the loss at about 450 parameter
vectors (79 to explore the line, 7 × 41 to refine its minimiser, 161 for the chart), each in one vectorised call
per chunk; the gradient check 16 × 24 more.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from gdstudio.core.analysis.model_step import explain_model_step, model_gradient_check, model_line_search  # noqa: E402
from gdstudio.core.training import TrainConfig, train  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print("| model | batch | d | median time (s) |")
    print("|---|---|---:|---:|")
    for model in ("softmax", "svm", "mlp"):
        for bs in (None, 64):
            r = train(TrainConfig.create(model=model, optimizer="gd", hyperparams={"lr": 0.1}, batch_size=bs,
                                         epochs=1, val=0.2))
            m = r.model
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                s = explain_model_step(m, r.thetas, 0)
                model_line_search(m, s)
                model_gradient_check(m, s, curve=np.logspace(-12, -1, 23))
                times.append(time.perf_counter() - t0)
            print(f"| {model} | {bs or 'full'} | {m.dim:,} | {np.median(times):.3f} |")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
