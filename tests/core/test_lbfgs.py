"""L-BFGS: parity with torch.optim.LBFGS (``data/lbfgs_reference.json``, made by ``data/make_lbfgs_reference.py``),
evaluation counts, many starts at once, models of any size.

torch is not needed to run these tests.
"""

from __future__ import annotations

import importlib.util
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdstudio.core.gradients import Problem
from gdstudio.core.objectives import Objective2D
from gdstudio.core.optimizers import get_optimizer, optimizer_names
from gdstudio.core.optimizers.lbfgs import LBFGS, cubic_interpolate, fma, strong_wolfe
from gdstudio.core.runs import RunConfig, run
from gdstudio.core.training import TrainConfig, Training

DATA = json.loads((Path(__file__).parent / "data" / "lbfgs_reference.json").read_text())
#: The reference script's own f and ∇f (data/lbfgs_functions.py, torch-free), loaded from its file.
_spec = importlib.util.spec_from_file_location("lbfgs_functions", Path(__file__).parent / "data" / "lbfgs_functions.py")
_FUNCTIONS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_FUNCTIONS)
#: Largest allowed |ours − torch| per point, relative to the point's norm (as for the other torch optimizers).
RTOL = 1e-12


class _Fn(Objective2D):
    """A test function whose f and gradient are those make_lbfgs_reference.py gave torch (data/lbfgs_functions.py)."""

    domain = ((-5.0, 5.0), (-5.0, 5.0))
    formula_fn = None

    def f(self, x, y):
        return type(self).formula_fn(x, y)[0]

    def grad_xy(self, x, y):
        return type(self).formula_fn(x, y)[1]


def _objective(name: str) -> Objective2D:
    fn = getattr(_FUNCTIONS, name)
    cls = type(f"T{name}", (_Fn,), {"name": f"t-{name}", "formula_fn": staticmethod(fn)})
    return cls()


def _id(case) -> str:
    return f"{case['objective']}-{case['torch']}"


def _relative_error(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return np.abs(ours - ref).max(axis=1) / np.maximum(np.linalg.norm(ref, axis=1), 1e-300)


@pytest.mark.parametrize("case", DATA["functions"], ids=_id)
def test_trajectory_and_evaluations_match_torch(case):
    """Each step = one ``optimizer.step(closure)``: the points equal torch's, and so do the closure calls
    (the run counts one more: its evaluation at the last point, which torch makes at the next step)."""
    cfg = RunConfig.create(_objective(case["objective"]), "lbfgs", starts=[case["start"]], epochs=DATA["steps"],
                           hyperparams=case["hyperparams"])
    res = run(cfg)
    ref = np.array(case["x"])
    ours = res[0].x
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    err = _relative_error(ours, ref)
    assert np.all(err <= RTOL), f"step {int(np.argmax(err))}: relative error {err.max():.3g} > {RTOL:g}"
    assert res[0].nfev == case["func_evals"][-1] + 1
    assert res[0].njev == case["func_evals"][-1] + 1


@pytest.mark.parametrize("case", DATA["functions"], ids=_id)
def test_evaluations_step_by_step(case):
    """The per-step evaluation counts equal torch's func_evals after every step (runs of 1..STEPS steps)."""
    obj = _objective(case["objective"])
    for k in (1, 2, 5):
        cfg = RunConfig.create(obj, "lbfgs", starts=[case["start"]], epochs=k, hyperparams=case["hyperparams"])
        assert run(cfg)[0].nfev == case["func_evals"][k] + 1, k


def test_reference_covers_the_options():
    seen = {k for c in DATA["functions"] for k in c["hyperparams"]}
    assert {"lr", "max_iter", "max_eval", "tolerance_change", "history_size", "line_search_fn"} <= seen
    assert {c["objective"] for c in DATA["functions"]} == {"rosenbrock", "quadratic", "booth", "himmelblau"}
    # the small history really wraps around (more accepted pairs than it holds)
    assert any(c["hyperparams"].get("history_size") == 2 and c["func_evals"][-1] > 10 for c in DATA["functions"])


def test_many_starts_equal_single_runs():
    """Starts that stop their inner iterations at different times, in one vectorised run: each row is what
    a run from that start alone gives (a history size that wraps, one start already at the minimum)."""
    obj = _objective("himmelblau")
    starts = [[0.5, -1.5], [-3.0, 3.0], [3.0, 2.0], [4.0, 4.0], [-1.0, -4.0]]
    for hp in ({"history_size": 3, "max_iter": 6}, {"line_search_fn": "strong_wolfe", "history_size": 2}):
        res = run(RunConfig.create(obj, "lbfgs", starts=starts, epochs=8, hyperparams=hp))
        for i, s in enumerate(starts):
            one = run(RunConfig.create(obj, "lbfgs", starts=[s], epochs=8, hyperparams=hp))
            np.testing.assert_array_equal(res[i].x, one[0].x)
            assert (res[i].nfev, res[i].njev) == (one[0].nfev, one[0].njev)


def test_first_step_scaling_and_stopping_tests():
    """Hand-checked first inner iteration: t = min(1, 1/‖g‖₁)·lr along −g; max_iter = 1 stops after it."""
    pb = Problem(_objective("quadratic"))
    x = np.array([[3.0, -2.0]])
    g = pb.gradient(x)  # (0, −11): ‖g‖₁ = 11
    opt = LBFGS(max_iter=1, lr=2.0)
    up = opt.update(x, g, opt.init(x, g, pb, None), pb, None)
    np.testing.assert_allclose(up.x, x - (2.0 / 11) * g, rtol=0, atol=1e-15)
    assert up.info["iterations"][0] == 1 and up.evals["nfev"][0] == 0  # the last iteration is not evaluated
    # at the minimum: the step changes nothing and evaluates nothing
    z = np.zeros((1, 2))
    up = opt.update(z, pb.gradient(z), opt.init(z, pb.gradient(z), pb, None), pb, None)
    np.testing.assert_array_equal(up.x, z)
    assert up.info["iterations"][0] == 0


def test_memory_is_limited_to_history_size():
    obj = _objective("rosenbrock")
    opt = get_optimizer("lbfgs", history_size=3)
    pb = Problem(obj)
    x = np.array([[-1.5, 2.0]])
    g = pb.gradient(x)
    state = opt.init(x, g, pb, None)
    for _ in range(4):
        up = opt.update(x, g, state, pb, None)
        x, state, g = up.x, up.state, pb.gradient(up.x)
    assert state["S"].shape == (1, 3, 2) and state["count"][0] == 3  # full, and no bigger
    assert opt.dense_matrices == 0


def test_hyperparameters_are_torchs():
    opt = get_optimizer("lbfgs")
    assert dict(opt.hp) == {"lr": 1.0, "max_iter": 20, "max_eval": 0, "tolerance_grad": 1e-7,
                            "tolerance_change": 1e-9, "history_size": 100, "line_search_fn": "none"}
    assert opt.max_eval == 25  # torch: max_iter * 5 // 4
    assert get_optimizer("lbfgs", max_iter=7).max_eval == 8
    assert get_optimizer("lbfgs", max_eval=3).max_eval == 3
    with pytest.raises(ValueError, match="line_search_fn"):
        get_optimizer("lbfgs", line_search_fn="armijo")
    assert "lbfgs" in optimizer_names()
    assert optimizer_names().index("lbfgs") < optimizer_names().index("newton")


def _model_id(case) -> str:
    return f"{case['model']}-{case['torch']}"


@pytest.mark.parametrize("case", DATA["models"], ids=_model_id)
def test_model_loss_curve_matches_torch(case):
    """Zero init, full batch, digits (d = 650), --val 0: the loss after each step equals torch's, and so do
    the evaluations."""
    cfg = TrainConfig.create(dataset="digits", model=case["model"], optimizer="lbfgs",
                             hyperparams=case["hyperparams"], model_params={"reg": case["reg"]},
                             epochs=DATA["model_steps"])
    training = Training(cfg)
    for _ in training:
        pass
    got = training.result().curve.array("train_loss")
    ref = np.array(case["loss"])
    assert len(got) == len(ref)
    # Measured: at most 1.3e-13 (softmax, step 2). Each step runs 20 inner iterations whose dot products of
    # length 650 torch sums in its BLAS's order; the last-bit differences grow a little more than over the
    # single update of a first-order step (whose references hold to 1e-13).
    np.testing.assert_allclose(got, ref, rtol=2e-13, atol=0)
    assert training.run.nfev[0] == case["func_evals"][-1] + 1


# --- the pieces ------------------------------------------------------------------------------------------
#: Away from overflow and underflow of the partial products (where the emulation is documented to be exact).
_finite = st.floats(-1e100, 1e100, allow_nan=False, allow_infinity=False).filter(lambda v: v == 0 or abs(v) >= 1e-100)
_moderate = st.floats(-1e30, 1e30, allow_nan=False).filter(lambda v: v == 0 or abs(v) >= 1e-30)


@settings(max_examples=400, deadline=None)
@given(_finite, _finite, _finite)
def test_fma_is_the_correctly_rounded_multiply_add(a, b, c):
    exact = float(Fraction(a) * Fraction(b) + Fraction(c))
    assert fma(a, b, c) == exact


@settings(max_examples=300, deadline=None)
@given(_moderate, _moderate, st.floats(-1e-20, 1e-20, allow_nan=False))
def test_fma_in_cancellation(a, b, rel):
    """c ≈ −ab: the hard case, where a two-rounding a·b + c loses every digit."""
    c = -(a * b) * (1 + rel)
    assert fma(a, b, c) == float(Fraction(a) * Fraction(b) + Fraction(c))


def test_fma_vectorised_many_cases():
    rng = np.random.default_rng(7)
    a = rng.standard_normal(4000) * 10.0 ** rng.integers(-20, 20, 4000)
    b = rng.standard_normal(4000) * 10.0 ** rng.integers(-20, 20, 4000)
    c = -(a * b) * (1 + rng.standard_normal(4000) * 10.0 ** rng.integers(-17, -1, 4000))
    got = fma(a, b, c)
    exact = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c)]
    np.testing.assert_array_equal(got, exact)
    assert np.count_nonzero(got != a * b + c) > 1000  # the test distinguishes FMA from two roundings


def test_cubic_interpolation_finds_the_minimum_of_a_cubic():
    """φ(t) = t³/3 − t² (φ' = t² − 2t) has its local minimum at t = 2; the interpolating cubic is φ itself."""
    def phi(t):
        return t ** 3 / 3 - t ** 2, t ** 2 - 2 * t
    for x1, x2 in ((1.0, 3.0), (3.0, 1.5), (0.5, 2.5)):
        (f1, g1), (f2, g2) = phi(x1), phi(x2)
        np.testing.assert_allclose(cubic_interpolate(x1, f1, g1, x2, f2, g2), 2.0, rtol=1e-14)
    # clipped to the bounds, and the midpoint of the bounds when the cubic has no minimum
    (f1, g1), (f2, g2) = phi(1.0), phi(3.0)
    assert cubic_interpolate(1.0, f1, g1, 3.0, f2, g2, 2.5, 9.0) == 2.5
    assert cubic_interpolate(0.0, 0.0, 3.0, 1.0, 2.0, 3.0) == 0.5  # d₁² − g₁g₂ = −9: no real minimiser


def test_strong_wolfe_step_satisfies_the_conditions():
    """From many starts on Himmelblau, along −∇f: every returned step satisfies both strong Wolfe conditions
    (or the search ran out of evaluations)."""
    pb = Problem(_objective("himmelblau"))
    rng = np.random.default_rng(3)
    x = rng.uniform(-5, 5, (200, 2))
    g = pb.gradient(x)
    d = -g
    gtd = np.einsum("ij,ij->i", g, d)
    f = pb.value(x)
    f_new, g_new, t, evals = strong_wolfe(pb, x, np.full(200, 0.01), d, f, g, gtd, max_ls=25)
    np.testing.assert_allclose(f_new, pb.value(x + t[:, None] * d), rtol=1e-12)
    armijo = f_new <= f + 1e-4 * t * gtd
    curvature = np.abs(np.einsum("ij,ij->i", g_new, d)) <= -0.9 * gtd
    assert np.all((armijo & curvature) | (evals >= 25))
    assert np.any(evals > 2)  # zooms and extrapolations happened


# --- the command line ------------------------------------------------------------------------------------
def test_cli_run_with_lbfgs_and_strong_wolfe(tmp_path, capsys):
    from gdstudio.cli import main

    out = tmp_path / "r.csv"
    assert main(["run", "--objective", "rosenbrock", "--optimizer", "lbfgs", "--start", "-1.5", "2",
                 "--set", "line_search_fn=strong_wolfe", "--set", "history_size=5", "--epochs", "10",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "completed 10 epochs" in err and "final (0.99998" in err and "evaluations: f 62, ∇f 62, H 0" in err
    assert main(["run", "--objective", "rosenbrock", "--optimizer", "lbfgs", "--start", "0", "0",
                 "--set", "line_search_fn=wolfe"]) == 2
    assert "line_search_fn must be one of none, strong_wolfe" in capsys.readouterr().err


def test_cli_train_a_d650_svm_with_lbfgs_and_the_refusal_of_bfgs_points_to_it(tmp_path, capsys):
    from gdstudio.cli import main

    out = tmp_path / "c.csv"
    assert main(["train", "--dataset", "digits", "--model", "svm", "--optimizer", "lbfgs", "--epochs", "3",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "(d = 650), lbfgs: completed 3 epochs" in err
    losses = [float(line.split(",")[3]) for line in out.read_text().splitlines()[1:]]
    assert losses[0] == 9.0 and losses[-1] < 0.25  # the hinge loss at zero weights; gd (lr 0.1) needs 20 steps for 0.73
    assert main(["train", "--dataset", "digits", "--model", "svm", "--optimizer", "bfgs", "--epochs", "3",
                 "--out", str(tmp_path / "b.csv")]) == 2
    assert "use L-BFGS (lbfgs" in capsys.readouterr().err


def test_fma_on_python_floats_equals_the_array_version():
    """Small inputs (one start in 2-D) take a Python-float path: it gives the same bits as the array path."""
    rng = np.random.default_rng(11)
    a = rng.standard_normal(3000) * 10.0 ** rng.integers(-20, 20, 3000)
    b = rng.standard_normal(3000) * 10.0 ** rng.integers(-20, 20, 3000)
    c = -(a * b) * (1 + rng.standard_normal(3000) * 10.0 ** rng.integers(-17, -1, 3000))
    big = fma(a, b, c)  # 3000 elements: numpy
    small = np.concatenate([fma(a[i:i + 2], b[i:i + 2], c[i:i + 2]) for i in range(0, 3000, 2)])
    np.testing.assert_array_equal(small, big)
    assert fma(np.array([[2.0]]), np.array([[1.5, -3.0]]), np.array([[1.0, 1.0]])).shape == (1, 2)
    assert np.isnan(fma(np.nan, 1.0, 2.0)) and fma(1e300, 1e300, 1.0) == np.inf


def test_a_session_with_lbfgs_reproduces_the_run_to_the_last_digit():
    from gdstudio.core.session import Session, SessionRun, dumps, loads

    cfg = RunConfig.create("himmelblau", "lbfgs", starts=[(0.5, -1.5)], epochs=6, name="lb",
                           hyperparams={"line_search_fn": "strong_wolfe", "history_size": 4, "max_eval": 9})
    back = loads(dumps(Session("himmelblau", runs=(SessionRun(cfg),)))).runs[0].config
    assert back.hp == cfg.hp and isinstance(back.hp["history_size"], int)
    np.testing.assert_array_equal(run(back)[0].x, run(cfg)[0].x)


def test_a_memory_that_would_not_fit_is_refused_with_the_history_that_would():
    opt = get_optimizer("lbfgs")
    opt.check_size(1, 650)  # the digits models: 1 MB
    opt.check_size(10_000, 2)  # a basin map block
    with pytest.raises(ValueError, match=r"lbfgs keeps 100 pairs of 1,000,000 numbers per start: 1,526 MB .*"
                                         r"set history_size to 33 or less"):
        opt.check_size(1, 1_000_000)
    get_optimizer("lbfgs", history_size=33).check_size(1, 1_000_000)
