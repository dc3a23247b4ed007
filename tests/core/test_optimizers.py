"""Optimizers: registry and specs, convergence, statuses, reproducibility, N starts = N single runs,
hyperparameter validation, line searches, Newton's singular Hessians, BFGS updates, any dimension d."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdstudio.core.gradients import Problem
from gdstudio.core.objectives import Objective, get_objective
from gdstudio.core.optimizers import OPTIMIZERS, get_optimizer
from gdstudio.core.optimizers.bfgs import BFGS
from gdstudio.core.optimizers.line_search import GRID_POWERS, backtracking, exact, grid
from gdstudio.core.optimizers.newton import singular_rows
from gdstudio.core.optimizers.random_search import sample_box
from gdstudio.core.random import Streams, stream_seeds
from gdstudio.core.runs import RunConfig, Status, run

ALL = list(OPTIMIZERS)
RANDOM = [n for n, c in OPTIMIZERS.items() if c.stochastic]


# --- registry and specs ----------------------------------------------------------------------------
def test_registry_holds_every_method_in_menu_order():
    """Every optimizer class of the package is registered under its own name, and the menu shows plain
    gradient descent first, then first-order methods, then those with a curvature model, then random ones."""
    import importlib
    import inspect
    import pkgutil

    import gdstudio.core.optimizers as pkg
    from gdstudio.core.optimizers import Optimizer

    defined = set()
    for info in pkgutil.iter_modules(pkg.__path__):
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        defined |= {c for _, c in inspect.getmembers(mod, inspect.isclass)
                    if issubclass(c, Optimizer) and c is not Optimizer and c.__module__ == mod.__name__}
    assert defined == set(OPTIMIZERS.values())
    assert all(OPTIMIZERS[name].name == name for name in ALL)

    def family(cls) -> int:
        return 2 if cls.stochastic else 1 if cls.curvature is not Optimizer.curvature else 0

    families = [family(OPTIMIZERS[n]) for n in ALL]
    assert ALL[0] == "gd" and families == sorted(families) and set(families) == {0, 1, 2}
    assert RANDOM == [n for n in ALL if family(OPTIMIZERS[n]) == 2]


@pytest.mark.parametrize("name", ALL)
def test_each_optimizer_documents_itself(name):
    cls = OPTIMIZERS[name]
    assert cls.name == name and cls.title and cls.rule and cls.reference
    assert ".. math::" in cls.__doc__ and "State" in cls.__doc__
    for h in cls.hyperparams:
        assert h.doc, f"{name}.{h.name} has no doc"
        assert h.parse(h.default) == h.default  # every default is valid
    assert get_optimizer(name).hp == {h.name: h.default for h in cls.hyperparams}


@pytest.mark.parametrize("name, defaults", [
    ("momentum", {"lr": 0.01, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0}),
    ("nesterov", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.0}),
    ("adagrad", {"lr": 0.01, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0,
                 "eps": 1e-10}),
    ("rmsprop", {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                 "centered": False}),
    ("adam", {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False}),
    ("adamw", {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False}),
    ("newton", {"lr": 1.0}),
    ("lbfgs", {"lr": 1.0, "max_iter": 20, "max_eval": 0, "tolerance_grad": 1e-7, "tolerance_change": 1e-9,
               "history_size": 100, "line_search_fn": "none"}),
])
def test_torch_names_and_defaults(name, defaults):
    assert dict(get_optimizer(name).hp) == defaults


# --- hyperparameter validation ---------------------------------------------------------------------
def test_unknown_hyperparameter_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"no hyperparameter 'betas'.*valid: lr, beta1, beta2, eps"):
        get_optimizer("adam", betas=(0.9, 0.99))


@pytest.mark.parametrize("name, hp, message", [
    ("adam", {"beta1": 1.0}, r"beta1 must be in \[0, 1\)"),
    ("momentum", {"momentum": -0.1}, r"momentum must be in \[0, 1\)"),
    ("rmsprop", {"eps": 0}, r"eps must be in \(0, ∞"),
    ("gd", {"lr": -1}, r"lr must be in \(0, ∞"),
    ("random-local-search", {"scale": 0}, r"scale must be in \(0, ∞"),
    ("line-search", {"c": 1.5}, r"c must be in \(0, 1\)"),
    ("line-search", {"method": "wolfe"}, "method must be one of backtracking, exact, grid"),
    ("adam", {"amsgrad": "maybe"}, "amsgrad must be true or false"),
    ("adam", {"lr": "fast"}, "lr must be a number"),
    ("rmsprop", {"centered": 2}, "centered must be true or false"),
    ("adagrad", {"lr": float("nan")}, "lr must be finite"),
])
def test_bad_hyperparameter_values_are_rejected(name, hp, message):
    with pytest.raises(ValueError, match=message):
        get_optimizer(name, **hp)


def test_hyperparameters_parse_strings_from_the_command_line():
    opt = get_optimizer("adam", lr="0.05", amsgrad="true")
    assert opt.hp["lr"] == 0.05 and opt.hp["amsgrad"] is True
    assert get_optimizer("line-search", method="exact").hp["method"] == "exact"


# --- convergence -----------------------------------------------------------------------------------
CONVERGE = [
    # (optimizer, hyperparameters, objective, start, epochs, how close to the minimiser)
    ("gd", {"lr": 0.1}, "sphere", (3.0, -2.0), 200, 1e-8),
    ("gd", {"lr": 0.1}, "booth", (-4.0, 7.0), 500, 1e-8),
    ("sign-gd", {"lr": 0.01}, "sphere", (1.005, -0.505), 200, 0.0075),  # ends oscillating ±ε/2
    ("line-search", {}, "booth", (-4.0, 7.0), 500, 1e-8),
    ("line-search", {"method": "exact"}, "booth", (-4.0, 7.0), 200, 1e-6),
    ("line-search", {"method": "grid"}, "quadratic", (3.0, -2.0), 300, 1e-8),
    ("line-search", {"method": "grid"}, "rosenbrock", (-1.5, 2.0), 1000, 1e-5),
    ("momentum", {"lr": 0.01}, "booth", (-4.0, 7.0), 500, 1e-8),
    ("momentum", {"lr": 1e-3}, "rosenbrock", (-1.5, 2.0), 5000, 1e-4),
    ("nesterov", {"lr": 0.01}, "quadratic", (3.0, -2.0), 500, 1e-8),
    ("nesterov", {"lr": 1e-3}, "rosenbrock", (-1.5, 2.0), 5000, 1e-4),
    ("adagrad", {"lr": 1.0}, "booth", (-4.0, 7.0), 2000, 1e-6),
    ("rmsprop", {"lr": 1e-3}, "sphere", (3.0, -2.0), 5000, 1e-2),
    ("rmsprop", {"lr": 0.01, "centered": True, "momentum": 0.5}, "booth", (-4.0, 7.0), 3000, 0.1),
    ("adam", {"lr": 0.05}, "booth", (-4.0, 7.0), 3000, 1e-5),
    ("adam", {"lr": 0.02}, "rosenbrock", (-1.5, 2.0), 3000, 1e-4),
    ("adamw", {"lr": 0.05, "weight_decay": 0.0}, "sphere", (3.0, -2.0), 3000, 1e-5),
    ("newton", {}, "booth", (-4.0, 7.0), 1, 1e-12),
    ("newton", {}, "rosenbrock", (-1.5, 2.0), 20, 1e-12),
    ("newton", {"lr": 0.5}, "sphere", (3.0, -2.0), 60, 1e-12),
    ("bfgs", {}, "booth", (-4.0, 7.0), 50, 1e-10),
    ("bfgs", {}, "rosenbrock", (-1.5, 2.0), 100, 1e-8),
    ("bfgs", {}, "himmelblau", (0.5, 0.5), 100, 1e-8),
    ("lbfgs", {}, "booth", (-4.0, 7.0), 5, 1e-5),
    ("lbfgs", {"line_search_fn": "strong_wolfe"}, "rosenbrock", (-1.5, 2.0), 10, 1e-5),
    ("newton-cg", {}, "booth", (-4.0, 7.0), 1, 1e-9),
    ("newton-cg", {}, "himmelblau", (0.5, 0.5), 30, 1e-8),
    ("random-local-search", {"scale": 0.05}, "booth", (-4.0, 7.0), 3000, 0.05),
    ("random-search", {}, "sphere", (4.0, 4.0), 3000, 0.5),
]


@pytest.mark.parametrize("name, hp, objective, start, epochs, close", CONVERGE,
                         ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CONVERGE)])
def test_reaches_the_minimum(name, hp, objective, start, epochs, close):
    res = run(RunConfig.create(objective, name, starts=[start], epochs=epochs, hyperparams=hp, seed=3))
    t = res[0]
    assert t.status in (Status.COMPLETED, Status.CONVERGED), t.message
    obj = get_objective(objective)
    dist = min(np.linalg.norm(t.final - np.array(m.x)) for m in obj.minima())
    assert dist < close, f"ended at {t.final}, {dist:.3g} from the nearest minimum"
    assert t.loss[-1] <= t.loss[0]


def test_gd_on_booth_diverges_above_one_ninth():
    res = run(RunConfig.create("booth", "gd", starts=[(-4.0, 7.0)], epochs=2000, hyperparams={"lr": 0.12}))
    assert res[0].status is Status.DIVERGED
    ok = run(RunConfig.create("booth", "gd", starts=[(-4.0, 7.0)], epochs=2000, hyperparams={"lr": 0.105}))
    assert ok[0].status is Status.COMPLETED


def test_adam_moves_about_lr_per_coordinate_at_first():
    res = run(RunConfig.create("booth", "adam", starts=[(-4.0, 6.0)], epochs=1, hyperparams={"lr": 0.1}))
    np.testing.assert_allclose(np.abs(res[0].x[1] - res[0].x[0]), 0.1, rtol=1e-6)


def test_momentum_zero_is_gradient_descent_and_adamw_without_decay_is_adam():
    cfg = RunConfig.create("rosenbrock", "gd", starts=[(-1.5, 2.0)], epochs=50, hyperparams={"lr": 1e-3})
    gd = run(cfg)[0].x
    mom = run(cfg.replace(optimizer="momentum", hyperparams={"lr": 1e-3, "momentum": 0.0}))[0].x
    np.testing.assert_array_equal(gd, mom)
    adam = run(cfg.replace(optimizer="adam", hyperparams={"lr": 0.01}))[0].x
    adamw = run(cfg.replace(optimizer="adamw", hyperparams={"lr": 0.01, "weight_decay": 0.0}))[0].x
    np.testing.assert_array_equal(adam, adamw)
    decayed = run(cfg.replace(optimizer="adamw", hyperparams={"lr": 0.01}))[0].x
    assert not np.array_equal(adam, decayed)


# --- N starts = N single runs; seeds --------------------------------------------------------------
STARTS = [(-1.5, 2.0), (1.0, 3.0), (0.3, -0.7), (4.0, -4.0), (-2.0, -1.0)]
HP = {"gd": {"lr": 0.05}, "sign-gd": {"lr": 0.05}, "momentum": {"lr": 0.01}, "nesterov": {"lr": 0.01},
      "adagrad": {"lr": 0.5}, "rmsprop": {"lr": 0.05}, "adam": {"lr": 0.1}, "adamw": {"lr": 0.1}}


@pytest.mark.parametrize("name", ALL)
def test_n_starts_equal_n_single_runs(name):
    """Rows are independent: start i of an N-start run is a single run with seed + i, bit for bit.

    Booth with a tolerance: start (1, 3) is the minimum and converges at step 0, and others converge
    at different steps, so the runner hands the optimizer changing subsets of rows.
    """
    cfg = RunConfig.create("booth", name, starts=STARTS, epochs=40, hyperparams=HP.get(name, {}), tol=1e-3,
                           seed=11)
    many = run(cfg)
    for i, s in enumerate(STARTS):
        one = run(cfg.replace(starts=(s,), seed=11 + i))[0]
        assert np.array_equal(many[i].x, one.x), f"start {i}"
        assert np.array_equal(many[i].loss, one.loss)
        assert many[i].status == one.status and many[i].message == one.message
    assert many[1].status is Status.CONVERGED and many[1].steps == 0


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_run(name):
    cfg = RunConfig.create("himmelblau", name, starts=STARTS[:3], epochs=30, hyperparams=HP.get(name, {}), seed=5)
    a, b = run(cfg), run(cfg)
    for ta, tb in zip(a, b):
        assert np.array_equal(ta.x, tb.x)
    other = run(cfg.replace(seed=6))
    same = all(np.array_equal(ta.x, tb.x) for ta, tb in zip(a, other))
    assert same == (not OPTIMIZERS[name].stochastic)


# --- random search -----------------------------------------------------------------------------------
def test_random_search_samples_the_view_domain_and_keeps_the_best():
    obj = get_objective("rosenbrock")
    pb = Problem(obj)
    opt = get_optimizer("random-search")
    x = np.array([[-2.0, -1.0]] * 500)
    state = opt.init(x, pb.gradient(x), pb, Streams(stream_seeds(0, 500), 0))
    up = opt.update(x, pb.gradient(x), state, pb, Streams(stream_seeds(0, 500), 1))
    z = up.info["sample"]
    (x0, x1), (y0, y1) = obj.domain
    assert np.all((z[:, 0] >= x0) & (z[:, 0] < x1) & (z[:, 1] >= y0) & (z[:, 1] < y1))
    assert z[:, 0].std() > 0.5 and z[:, 1].std() > 0.5
    better = up.info["sample_f"] < state["f"]
    np.testing.assert_array_equal(up.x, np.where(better[:, None], z, x))
    np.testing.assert_array_equal(up.state["f"], np.minimum(state["f"], up.info["sample_f"]))
    assert better.mean() > 0.9  # (−2, −1) is the worst corner: almost any sample beats it


def test_random_search_loss_never_increases():
    res = run(RunConfig.create("himmelblau", "random-local-search", starts=STARTS, epochs=200,
                               hyperparams={"scale": 0.3}))
    for t in res:
        assert np.all(np.diff(t.loss) <= 0)
        assert np.any(np.diff(t.loss) < 0)


def test_sample_box_extends_the_last_axis_range_for_more_dimensions():
    lo, hi = sample_box(get_objective("six-hump-camel"), 4)
    np.testing.assert_array_equal(lo, [-3, -2, -2, -2])
    np.testing.assert_array_equal(hi, [3, 2, 2, 2])


# --- line search -------------------------------------------------------------------------------------
def _quadratic_problem(kappa=10.0):
    return Problem(get_objective("quadratic", {"kappa": kappa}))


def test_exact_line_search_finds_the_analytic_step_on_a_quadratic():
    """For f = ½xᵀAx the minimiser along −g is t* = gᵀg / gᵀAg."""
    pb = _quadratic_problem(10.0)
    x = np.array([[3.0, -2.0], [1.0, 1.0], [-4.0, 0.1], [0.0, 0.0]])
    g = pb.gradient(x)
    a = np.array([1.0, 10.0])
    with np.errstate(invalid="ignore"):
        t_star = np.einsum("ij,ij->i", g, g) / np.einsum("ij,ij->i", g, a * g)
    s = exact(pb, x, pb.value(x), -g, 1.0)
    np.testing.assert_allclose(s.t[:3], t_star[:3], rtol=1e-6)
    assert s.tried_t.shape == s.tried_f.shape and s.tried_t.shape[0] == 4
    np.testing.assert_allclose(s.f, pb.value(x - s.t[:, None] * g))


def test_exact_line_search_brackets_far_minima_by_doubling():
    pb = _quadratic_problem(1.0)  # t* = 1 along −g for ½‖x‖²
    x = np.array([[3.0, -2.0]])
    s = exact(pb, x, pb.value(x), -pb.gradient(x), 1e-3)
    np.testing.assert_allclose(s.t, [1.0], rtol=1e-6)
    doubled = s.tried_t[0, :12]
    np.testing.assert_allclose(doubled, 1e-3 * 2.0 ** np.arange(12))


def test_backtracking_takes_the_first_step_with_sufficient_decrease():
    pb = _quadratic_problem(10.0)
    x = np.array([[3.0, -2.0], [3.0, 0.0]])
    g = pb.gradient(x)
    f0, slope = pb.value(x), -np.einsum("ij,ij->i", g, g)
    s = backtracking(pb, x, f0, -g, slope, 1.0, 1e-4, 0.5)
    # row 0: κ = 10 needs t < 0.2 to decrease along y: 1, 0.5, 0.25 fail, 0.125 passes.
    np.testing.assert_array_equal(s.t, [0.125, 1.0])
    np.testing.assert_array_equal(s.tried_t[0, :4], [1.0, 0.5, 0.25, 0.125])
    assert s.tried_t.shape == (2, 4) and np.all(np.isnan(s.tried_t[1, 1:]))  # rounds of 1 and 3 trials ran
    assert np.all(s.f <= f0 + 1e-4 * s.t * slope)
    assert np.all(s.tried_f[0, :3] > f0[0] + 1e-4 * s.tried_t[0, :3] * slope[0])


def _backtracking_one_by_one(pb, x, f0, p, slope, t0, c, rho, m):
    """The textbook loop, one row and one trial at a time: the reference for the batched search."""
    ts, fs = [], []
    t = t0
    for j in range(m):
        f = float(pb.value((x + t * p)[None])[0])  # as a row: numpy scalars may round differently
        ts.append(t)
        fs.append(f)
        if f <= f0 + c * t * slope:
            break
        if j + 1 < m:
            t = t * rho
    return t, f, ts, fs


def test_batched_backtracking_equals_the_one_by_one_search():
    from gdstudio.core.optimizers.line_search import BACKTRACK_MAX

    pb = Problem(get_objective("rosenbrock"))
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.uniform(-2, 2, 60), rng.uniform(-1, 3, 60)])
    x[0] = [1.0, 1.0]  # gradient 0: accepts t0
    g = pb.gradient(x)
    f0, slope = pb.value(x), -np.einsum("ij,ij->i", g, g)
    for t0, rho in [(1.0, 0.5), (1e3, 0.9), (1e-9, 0.5)]:
        s = backtracking(pb, x, f0, -g, slope, t0, 1e-4, rho)
        for i in range(len(x)):
            t, f, ts, fs = _backtracking_one_by_one(pb, x[i], f0[i], -g[i], slope[i], t0, 1e-4, rho, BACKTRACK_MAX)
            assert s.t[i] == t and s.f[i] == f
            np.testing.assert_array_equal(s.tried_t[i, :len(ts)], ts)
            np.testing.assert_array_equal(s.tried_f[i, :len(fs)], fs)
            assert np.all(np.isnan(s.tried_t[i, len(ts):]))


def test_grid_line_search_keeps_the_best_of_its_trials():
    pb = _quadratic_problem(10.0)
    x = np.array([[3.0, -2.0]])
    g = pb.gradient(x)
    s = grid(pb, x, -g, 1.0)
    ts = 10.0 ** np.array(GRID_POWERS, dtype=float)
    np.testing.assert_array_equal(s.tried_t[0], ts)
    fs = pb.value(x - ts[:, None] * g)
    np.testing.assert_array_equal(s.tried_f[0], fs)
    assert s.t[0] == ts[np.argmin(fs)] == 0.1


@pytest.mark.parametrize("method", ["backtracking", "exact", "grid"])
def test_line_search_reports_its_step_and_trials(method):
    cfg = RunConfig.create("rosenbrock", "line-search", starts=STARTS[:2], epochs=3, hyperparams={"method": method})
    from gdstudio.core.runs import Run
    steps = list(Run(cfg))
    info = steps[1].info
    assert info["t"].shape == (2,) and np.all(info["t"] > 0)
    assert info["tried_t"].shape == info["tried_f"].shape and info["tried_t"].shape[0] == 2
    x0, x1, g0 = steps[0].x, steps[1].x, steps[0].grad
    np.testing.assert_allclose(x1, x0 - info["t"][:, None] * g0)
    chosen = np.nanargmin(np.abs(info["tried_t"] - info["t"][:, None]), axis=1)
    np.testing.assert_allclose(info["tried_t"][[0, 1], chosen], info["t"])  # the chosen t was tried
    assert np.all(steps[1].loss < steps[0].loss)


# --- Newton ------------------------------------------------------------------------------------------
def test_newton_goes_to_a_saddle_that_is_the_lesson():
    res = run(RunConfig.create("saddle", "newton", starts=[(1.5, -0.5)], epochs=5))
    np.testing.assert_array_equal(res[0].x[1], [0.0, 0.0])  # one step to the saddle, not downhill


def test_newton_fails_rows_with_a_singular_hessian_and_continues_the_others():
    res = run(RunConfig.create("monkey-saddle", "newton", starts=[(0.0, 0.0), (1.0, 0.5)], epochs=5))
    assert res[0].status is Status.FAILED
    assert "singular Hessian (det ≈ 0)" in res[0].message and "step 1" in res[0].message
    assert res[0].steps == 0
    assert res[1].status is Status.COMPLETED and res[1].steps == 5


def test_singular_rows_detects_zero_tiny_and_non_finite_hessians():
    h = np.array([np.eye(2), np.zeros((2, 2)), [[1.0, 0.0], [0.0, 1e-14]], [[np.nan, 0], [0, 1]],
                  [[2.0, 3.0], [3.0, 4.5]], [[1.0, 0.0], [0.0, -1.0]], [[1e8, 0], [0, 1e-3]],
                  [[np.inf, 0], [0, 1]]])
    expected = [False, True, True, True, True, False, False, True]
    np.testing.assert_array_equal(singular_rows(h), expected)
    # the general path (d > 2) agrees: embed each 2×2 block with a 1 on the diagonal
    h3 = np.zeros((len(h), 3, 3))
    h3[:, :2, :2], h3[:, 2, 2] = h, 1.0
    np.testing.assert_array_equal(singular_rows(h3), expected)


def test_newton_solve_closed_form_agrees_with_lapack():
    from gdstudio.core.optimizers.newton import solve

    rng = np.random.default_rng(2)
    a = rng.normal(size=(50, 2, 2))
    h = a + np.swapaxes(a, 1, 2)
    g = rng.normal(size=(50, 2))
    np.testing.assert_allclose(solve(h, g), np.linalg.solve(h, g[:, :, None])[:, :, 0], rtol=1e-9, atol=1e-12)


class FlatY(Objective):
    """f = x² in the plane: its Hessian diag(2, 0) is singular everywhere."""

    name = "flat-y"
    dim = 2

    def value(self, p):
        return np.asarray(p)[..., 0] ** 2

    def gradient(self, p):
        p = np.asarray(p)
        return np.stack([2 * p[..., 0], 0 * p[..., 1]], axis=-1)

    def hessian(self, p):
        p = np.asarray(p)
        h = np.zeros(p.shape + (2,))
        h[..., 0, 0] = 2.0
        return h


def test_newton_update_marks_failed_rows():
    pb = Problem(FlatY())
    x = np.array([[1.0, 2.0]])
    up = get_optimizer("newton").update(x, pb.gradient(x), {}, pb, None)
    assert up.failed.tolist() == [True] and up.message == "singular Hessian (det ≈ 0)"


# --- BFGS ----------------------------------------------------------------------------------------------
def test_bfgs_update_satisfies_the_secant_equation_and_skips_negative_curvature():
    pb = Problem(get_objective("rosenbrock"))
    opt = BFGS()
    x = np.array([[-1.5, 2.0], [0.2, 0.1]])
    g = pb.gradient(x)
    st = opt.init(x, g, pb, None)
    up = opt.update(x, g, st, pb, None)
    x1 = up.x
    g1 = pb.gradient(x1)
    up2 = opt.update(x1, g1, up.state, pb, None)
    s, y = x1 - x, g1 - g
    B = up2.state["B"]
    np.testing.assert_allclose(np.einsum("nij,nj->ni", B, y), s, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(B, np.swapaxes(B, 1, 2))
    assert np.all(np.linalg.eigvalsh(B) > 0)
    # A state whose last step s has sᵀy < 0 keeps B unchanged.
    fake = dict(up2.state, s=-(up2.state["s"]), g=g1, B=np.broadcast_to(np.eye(2) * 3, (2, 2, 2)).copy())
    x2 = up2.x
    g2 = pb.gradient(x2)
    assert np.all(np.einsum("ij,ij->i", fake["s"], g2 - g1) < 0)
    up3 = opt.update(x2, g2, fake, pb, None)
    np.testing.assert_array_equal(up3.state["B"], fake["B"])


def test_bfgs_minimises_a_quadratic_in_at_most_a_few_steps():
    res = run(RunConfig.create("quadratic", "bfgs", starts=[(3.0, -2.0)], epochs=20, tol=1e-10,
                               objective_params={"kappa": 100}))
    assert res[0].status is Status.CONVERGED and res[0].steps <= 10


# --- any dimension d ----------------------------------------------------------------------------------
class SphereND(Objective):
    """f = Σ cᵢ xᵢ² in d dimensions (c = 1, 2, ..., d)."""

    name = "sphere-nd"

    def __init__(self, d):
        self.dim = d
        self.c = np.arange(1.0, d + 1)
        self.domain = ((-2.0, 2.0),) * 2
        super().__init__()

    def value(self, p):
        return np.sum(self.c * np.asarray(p) ** 2, axis=-1)

    def gradient(self, p):
        return 2 * self.c * np.asarray(p)

    def hessian(self, p):
        p = np.asarray(p)
        return np.broadcast_to(np.diag(2 * self.c), p.shape + (self.dim,)).copy()


@pytest.mark.parametrize("name", ALL)
def test_every_optimizer_works_in_five_dimensions(name):
    d, n = 5, 3
    pb = Problem(SphereND(d))
    hp = {"lr": 0.05} if name in ("gd", "momentum", "nesterov", "adam", "adamw", "rmsprop") else {}
    opt = get_optimizer(name, **hp)
    x = np.linspace(-1, 1, n * d).reshape(n, d) + 0.3
    seeds = stream_seeds(0, n)
    g = pb.gradient(x)
    state = opt.init(x, g, pb, Streams(seeds, 0))
    f0 = pb.value(x)
    for k in range(1, 301):
        up = opt.update(x, g, state, pb, Streams(seeds, k))
        assert up.x.shape == (n, d)
        x, state = up.x, up.state
        assert all(v.shape[0] == n for v in state.values())
        g = pb.gradient(x)
    if OPTIMIZERS[name].stochastic:  # in 5-D the box rarely beats a start near the centre
        assert np.all(pb.value(x) <= f0) and np.any(pb.value(x) < f0)
    else:
        assert np.all(pb.value(x) < f0)
    if not OPTIMIZERS[name].stochastic and name not in ("sign-gd", "adagrad"):
        assert np.all(pb.value(x) < 1e-3 * f0), name


def test_update_does_not_mutate_its_inputs():
    pb = Problem(get_objective("rosenbrock"))
    x = np.array([[-1.5, 2.0], [0.5, 0.5]])
    g = pb.gradient(x)
    for name in ALL:
        opt = get_optimizer(name)
        seeds = stream_seeds(0, 2)
        st = opt.init(x, g, pb, Streams(seeds, 0))
        st = opt.update(x, g, st, pb, Streams(seeds, 1)).state
        copies = (x.copy(), g.copy(), {k: v.copy() for k, v in st.items()})
        opt.update(x, g, st, pb, Streams(seeds, 2))
        assert np.array_equal(x, copies[0]) and np.array_equal(g, copies[1])
        for k, v in st.items():
            assert np.array_equal(v, copies[2][k]), (name, k)




# --- docstring examples ----------------------------------------------------------------------------------
@pytest.mark.parametrize("module", ["gd", "line_search", "momentum", "adaptive", "newton", "bfgs", "random_search"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    mod = importlib.import_module(f"gdstudio.core.optimizers.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


# --- properties on random quadratics ---------------------------------------------------------------------
class QuadraticForm(Objective):
    """f = ½ xᵀAx − bᵀx for a symmetric positive definite A (minimum at A⁻¹b)."""

    name = "quadratic-form"

    def __init__(self, A, b):
        self.A, self.b = np.asarray(A, float), np.asarray(b, float)
        self.dim = len(self.b)
        super().__init__()

    def value(self, p):
        p = np.asarray(p)
        return 0.5 * np.einsum("...i,ij,...j->...", p, self.A, p) - p @ self.b

    def gradient(self, p):
        return np.asarray(p) @ self.A - self.b

    def hessian(self, p):
        p = np.asarray(p)
        return np.broadcast_to(self.A, p.shape + (self.dim,)).copy()


_floats = st.floats(-3, 3, allow_nan=False, allow_subnormal=False)


@st.composite
def spd_quadratics(draw):
    d = draw(st.integers(2, 4))
    m = np.array(draw(st.lists(_floats, min_size=d * d, max_size=d * d))).reshape(d, d)
    A = m @ m.T + np.eye(d) * draw(st.floats(0.1, 3))
    b = np.array(draw(st.lists(_floats, min_size=d, max_size=d)))
    x = np.array(draw(st.lists(_floats, min_size=2 * d, max_size=2 * d))).reshape(2, d)
    return QuadraticForm(A, b), x


@settings(max_examples=40, deadline=None)
@given(spd_quadratics())
def test_newton_minimises_any_positive_definite_quadratic_in_one_step(case):
    obj, x = case
    pb = Problem(obj)
    up = get_optimizer("newton").update(x, pb.gradient(x), {}, pb, None)
    assert up.failed is None or not up.failed.any()
    x_star = np.linalg.solve(obj.A, obj.b)
    np.testing.assert_allclose(up.x, np.broadcast_to(x_star, x.shape), rtol=1e-8, atol=1e-8)


@settings(max_examples=40, deadline=None)
@given(spd_quadratics())
def test_exact_line_search_step_is_gTg_over_gTAg_on_any_quadratic(case):
    obj, x = case
    pb = Problem(obj)
    g = pb.gradient(x)
    gg = np.einsum("ij,ij->i", g, g)
    if np.any(gg < 1e-8):
        return
    t_star = gg / np.einsum("ij,jk,ik->i", g, obj.A, g)
    s = exact(pb, x, pb.value(x), -g, 1.0)
    np.testing.assert_allclose(s.t, t_star, rtol=1e-5)


def test_a_step_count_shared_by_many_rows_is_one_number_and_reads_as_before():
    """Adam and momentum keep a step count that every row shares as one number seen through a zero stride
    (no pass over the rows to add one or to see that they agree); it reads, compares and is taken apart by
    rows like the array it replaces, and a state whose rows differ still works row by row."""
    from gdstudio.core.optimizers.base import common_step, next_step, put_rows, take_rows

    x = np.random.default_rng(0).normal(size=(50, 2))
    for name in ("adam", "momentum"):
        opt = get_optimizer(name)
        st = opt.init(x, x, None, None)
        for k in range(1, 4):
            st = opt.update(x, x, st, None, None).state
            assert st["step"].strides == (0,) and not st["step"].flags.writeable
            np.testing.assert_array_equal(st["step"], np.full(50, float(k)))
        assert common_step(st["step"]) == 3.0
        part = take_rows(st, np.arange(50) < 20)
        assert part["step"].shape == (20,) and part["step"].flags.writeable
        mixed = put_rows(st, np.arange(5), {k: v[:5] * 0 for k, v in part.items()})  # 5 rows back at step 0
        assert common_step(mixed["step"]) is None
        up = opt.update(x, x, mixed, None, None)
        np.testing.assert_array_equal(up.state["step"], [1.0] * 5 + [4.0] * 45)
    assert common_step(np.zeros(0)) is None and common_step(np.array([2.0])) == 2.0
    assert next_step(np.array([2.0]), 2.0).tolist() == [3.0]  # one row: a plain array, as before
