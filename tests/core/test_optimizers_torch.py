"""Parity with torch.optim: our trajectories equal torch's, recorded in ``data/torch_reference.json``.

The reference was made by ``data/make_torch_reference.py`` (see its docstring) with the same gradient
formulas as the test functions below, so only the optimizers' arithmetic is compared. torch is not
needed to run this test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gdstudio.core.gradients import Problem
from gdstudio.core.objectives import Objective2D
from gdstudio.core.optimizers import get_optimizer
from gdstudio.core.random import Streams, stream_seeds
from gdstudio.core.runs import RunConfig, run

DATA = json.loads((Path(__file__).parent / "data" / "torch_reference.json").read_text())
#: Largest allowed |ours − torch| per point, relative to the point's norm. The two agree to the bit in
#: most cases; torch's C++ kernels may fuse a multiply-add (one rounding instead of two), and
#: Rosenbrock amplifies such last-bit differences to ~1e-13 over 50 steps.
RTOL = 1e-12


def assert_same_path(ours: np.ndarray, ref: np.ndarray) -> None:
    assert ours.shape == ref.shape
    err = np.abs(ours - ref).max(axis=1) / np.maximum(np.linalg.norm(ref, axis=1), 1e-300)
    assert np.all(err <= RTOL), f"step {int(np.argmax(err))}: relative error {err.max():.3g} > {RTOL:g}"


class Rosen(Objective2D):
    """(1 − x)² + 100(y − x²)², gradient written exactly as in make_torch_reference.py."""

    name = "t-rosenbrock"
    domain = ((-2.0, 2.0), (-1.0, 3.0))

    def f(self, x, y):
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    def grad_xy(self, x, y):
        return -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)


class Quad(Objective2D):
    """x² + 3xy + 5y²."""

    name = "t-quadratic"
    domain = ((-5.0, 5.0), (-5.0, 5.0))

    def f(self, x, y):
        return x * x + 3 * x * y + 5 * y * y

    def grad_xy(self, x, y):
        return 2 * x + 3 * y, 3 * x + 10 * y


OBJECTIVES = {"rosenbrock": Rosen, "quadratic": Quad}


def _ours(case) -> np.ndarray:
    """The case's trajectory from our optimizer, stepped directly (one start)."""
    opt = get_optimizer(case["optimizer"], **case["hyperparams"])
    pb = Problem(OBJECTIVES[case["objective"]]())
    x = np.array([case["start"]], dtype=float)
    g = pb.gradient(x)
    seeds = stream_seeds(0, 1)
    state = opt.init(x, g, pb, Streams(seeds, 0))
    xs = [x[0]]
    for k in range(1, DATA["steps"] + 1):
        up = opt.update(x, g, state, pb, Streams(seeds, k))
        x, state = up.x, up.state
        g = pb.gradient(x)
        xs.append(x[0])
    return np.array(xs)


def _id(case) -> str:
    return f"{case['objective']}-{case['torch']}"


@pytest.mark.parametrize("case", DATA["cases"], ids=_id)
def test_matches_torch(case):
    ref = np.array(case["x"])
    assert_same_path(_ours(case), ref)


def test_reference_covers_every_torch_style_optimizer_and_option():
    seen = {(c["optimizer"], k) for c in DATA["cases"] for k, v in c["hyperparams"].items() if v}
    for name in ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"):
        assert any(o == name for o, _ in seen), name
    for option in ("weight_decay", "amsgrad", "centered", "dampening", "lr_decay", "initial_accumulator_value"):
        assert any(k == option for _, k in seen), option
    assert any(c["optimizer"] == "rmsprop" and c["hyperparams"].get("momentum") for c in DATA["cases"])


def test_run_reproduces_torch_through_the_runner():
    """The same numbers come out of the run loop (with several starts at once)."""
    case = next(c for c in DATA["cases"] if c["optimizer"] == "adam" and c["hyperparams"].get("amsgrad"))
    obj = OBJECTIVES[case["objective"]]()
    cfg = RunConfig.create(obj, "adam", starts=[case["start"], [0.5, 0.5]], epochs=DATA["steps"],
                           hyperparams=case["hyperparams"])
    res = run(cfg)
    assert_same_path(res[0].x, np.array(case["x"]))
