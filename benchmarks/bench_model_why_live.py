"""What explaining the latest step *while training runs* costs the training (Model mode's See why, live).

    python benchmarks/bench_model_why_live.py [--seconds 6] [--pause 0.5]

For each model on digits (val 0.2) with full batches and minibatches of 64: the training's steps per second
alone, then with a second thread that explains the latest step (what one See why selection computes: the step,
its line search and the gradient check) and then rests ``--pause`` seconds before the next one (the window's live
pace: one explanation in flight, the next one requested no sooner than that after the previous result). Printed:
both rates, the slowdown, and the median time of one explanation during training.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from gdstudio.core.analysis import model_step as MS  # noqa: E402
from gdstudio.core.training import TrainConfig, Training  # noqa: E402


def rate(cfg: TrainConfig, seconds: float, pause: float | None):
    t = Training(cfg)
    stop = threading.Event()
    times: list[float] = []

    def explain_loop():
        while not stop.is_set():
            th = t._thetas
            n = len(th)
            if n >= 2:
                t0 = time.perf_counter()
                with np.errstate(all="ignore"):
                    s = MS.explain_model_update(t.model, n - 2, th[n - 2], th[n - 1], "batch")
                    MS.model_line_search(t.model, s)
                    MS.model_gradient_check(t.model, s, n=8, seed=n, curve=np.logspace(-12, -1, 23))
                times.append(time.perf_counter() - t0)
            stop.wait(pause)

    helper = threading.Thread(target=explain_loop) if pause is not None else None
    if helper:
        helper.start()
    steps, t0 = 0, time.perf_counter()
    for _ in t:
        steps += 1
        if time.perf_counter() - t0 >= seconds:
            break
    elapsed = time.perf_counter() - t0
    stop.set()
    if helper:
        helper.join()
    return steps / elapsed, times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--pause", type=float, default=0.5)
    args = ap.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print("| model | batch | steps/s alone | steps/s explaining live | slowdown | one explanation (median s) |")
    print("|---|---|---:|---:|---:|---:|")
    for model in ("softmax", "svm", "mlp"):
        for bs in (None, 64):
            cfg = TrainConfig.create(model=model, optimizer="gd", hyperparams={"lr": 0.1}, batch_size=bs,
                                     epochs=100_000, val=0.2)
            rate(cfg, 1.0, None)  # warm-up (the dataset's cache, first allocations)
            alone, _ = rate(cfg, args.seconds, None)
            live, times = rate(cfg, args.seconds, args.pause)
            print(f"| {model} | {bs or 'full'} | {alone:,.0f} | {live:,.0f} | {100 * (1 - live / alone):.0f} % | "
                  f"{np.median(times) if times else float('nan'):.3f} |")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
