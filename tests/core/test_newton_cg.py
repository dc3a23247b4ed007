"""Newton-CG: Hessian-vector products by central differences, truncated conjugate gradients, any dimension."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gdstudio.core.gradients import Problem
from gdstudio.core.objectives import get_objective
from gdstudio.core.optimizers import get_optimizer
from gdstudio.core.optimizers.newton_cg import hessian_vector
from gdstudio.core.runs import RunConfig, Status, run
from gdstudio.core.training import TrainConfig, Training


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["himmelblau", "rosenbrock", "beale"]), st.floats(-2, 2), st.floats(-2, 2),
       st.floats(-1, 1), st.floats(-1, 1))
def test_hessian_vector_products_match_the_analytic_hessian(name, x, y, vx, vy):
    pb = Problem(get_objective(name))
    p = np.array([[x, y]])
    v = np.array([[vx, vy]])
    exact = pb.hessian(p)[0] @ v[0]
    got = hessian_vector(pb, p, v, 6e-6)[0]
    scale = np.linalg.norm(pb.hessian(p)[0]) * np.linalg.norm(v) + 1e-12
    assert np.linalg.norm(got - exact) <= 1e-6 * scale


def test_on_a_quadratic_one_step_is_newtons():
    r = run(RunConfig.create("booth", "newton-cg", starts=[(-4.0, 7.0)], epochs=1))
    np.testing.assert_allclose(r[0].x[1], (1.0, 3.0), atol=1e-9)
    # one CG iteration per direction of the plane: 2 products of 2 gradients, plus the run's own 2 evaluations
    assert r[0].njev == 2 + 2 * 2


def test_first_step_on_rosenbrock_is_the_truncated_cauchy_step():
    """Far from the minimum the forcing term min(0.5, √‖∇f‖)·‖∇f‖ stops CG after one iteration: the step is
    z₁ = −(gᵀg / gᵀHg) g, accepted in full (scipy.optimize.minimize(method="Newton-CG") makes the same first step,
    (−1.42591523, 2.02389831))."""
    pb = Problem(get_objective("rosenbrock"))
    x = np.array([-1.5, 2.0])
    g = pb.gradient(x)
    H = pb.hessian(x)
    expected = x - (g @ g) / (g @ H @ g) * g
    r = run(RunConfig.create("rosenbrock", "newton-cg", starts=[tuple(x)], epochs=1))
    np.testing.assert_allclose(r[0].x[1], expected, rtol=1e-9)
    np.testing.assert_allclose(r[0].x[1], (-1.42591523, 2.02389831), atol=1e-8)


def test_negative_curvature_falls_back_on_descent():
    """Near Himmelblau's maximum H is negative definite: Newton climbs to the maximum, Newton-CG goes down."""
    start = [(-0.2, -0.9)]
    newton = run(RunConfig.create("himmelblau", "newton", starts=start, epochs=10))
    ncg = run(RunConfig.create("himmelblau", "newton-cg", starts=start, epochs=20))
    assert newton[0].loss[-1] > newton[0].loss[0]  # climbed
    assert ncg[0].loss[-1] < 1e-6 and np.all(np.diff(ncg[0].loss) <= 0)


def test_many_starts_equal_single_runs():
    starts = [(-1.5, 2.0), (0.0, 0.0), (3.0, 2.0), (-4.0, 4.0), (1.0, 1.0)]
    res = run(RunConfig.create("himmelblau", "newton-cg", starts=starts, epochs=8, hyperparams={"max_cg": 3}))
    for i, s in enumerate(starts):
        one = run(RunConfig.create("himmelblau", "newton-cg", starts=[s], epochs=8, hyperparams={"max_cg": 3}))
        np.testing.assert_array_equal(res[i].x, one[0].x)
        assert (res[i].nfev, res[i].njev) == (one[0].nfev, one[0].njev)


def test_trains_a_d650_softmax_that_newton_refuses():
    cfg = TrainConfig.create(dataset="digits", model="softmax", optimizer="newton-cg", epochs=5)
    t = Training(cfg)
    for _ in t:
        pass
    loss = t.result().curve.array("train_loss")
    assert t.model.dim == 650 and t.result().status == Status.COMPLETED
    assert loss[0] > 2.3 and loss[-1] < 0.4 and np.all(np.diff(loss) < 0)
    assert get_optimizer("newton-cg").dense_matrices == 0


def test_cli_train_with_newton_cg_and_the_refusal_names_it(tmp_path, capsys):
    from gdstudio.cli import main

    assert main(["train", "--model", "softmax", "--optimizer", "newton-cg", "--set", "max_cg=5", "--epochs", "3",
                 "--out", str(tmp_path / "c.csv")]) == 0
    assert "(d = 650), newton-cg: completed 3 epochs" in capsys.readouterr().err
    assert main(["train", "--model", "softmax", "--optimizer", "newton", "--out", str(tmp_path / "n.csv")]) == 2
    assert "Newton-CG (newton-cg" in capsys.readouterr().err
    assert main(["run", "--objective", "booth", "--optimizer", "newton-cg", "--start", "-4", "7", "--epochs", "2",
                 "--out", str(tmp_path / "r.csv")]) == 0
    assert "final (1, 3)" in capsys.readouterr().err


def test_evaluations_are_counted_per_product_and_trial():
    """njev = the run's evaluations + 2 per H·v; nfev = the run's + 1 per backtracking trial (+ 1 in init);
    with central differences each gradient adds its 2d values of f."""
    from gdstudio.core.runs import Run

    for gradient, fd in (("analytic", 0), ("central", 4)):
        cfg = RunConfig.create("rosenbrock", "newton-cg", starts=[(-1.5, 2.0)], epochs=6, gradient=gradient,
                               hyperparams={"max_cg": 4})
        r = Run(cfg)
        cg = trials = 0
        for step in r:
            if step.k:
                cg += int(step.info["cg"][0])
                trials += int(np.count_nonzero(~np.isnan(step.info["tried_t"][0])))
        assert cg > 6 and trials >= 6
        assert r.njev[0] == 7 + 2 * cg
        # + 1: init evaluates f at the start for the first line search (as BFGS and line-search do)
        assert r.nfev[0] == 7 * (1 + fd) + 1 + trials + 2 * cg * fd
