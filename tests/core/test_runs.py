"""The run machinery: rows, statuses, vectorised starts, cancellation, config round trips."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdstudio.core.objectives import Objective2D
from gdstudio.core.runs import Recorder, Run, RunConfig, Status, run


def cfg(**kw):
    base = dict(objective="booth", optimizer="gd", starts=[(0.0, 0.0)], epochs=150, hyperparams={"lr": 0.01})
    base.update(kw)
    return RunConfig.create(**base)


def test_row_k_is_the_point_after_k_updates():
    res = run(cfg(epochs=3))
    t = res[0]
    assert t.steps == 3 and t.x.shape == (4, 2)
    np.testing.assert_array_equal(t.x[0], [0.0, 0.0])
    # one gd step by hand: ∇f(0, 0) = (−34, −38)
    np.testing.assert_allclose(t.x[1], [0.34, 0.38], rtol=0, atol=1e-15)
    np.testing.assert_allclose(t.grad[0], [-34.0, -38.0])
    assert t.loss[0] == 74.0
    assert t.status is Status.COMPLETED and t.message == "completed 3 epochs"


def test_article_booth_example_approaches_the_minimum():
    t = run(cfg())[0]
    assert t.steps == 150
    assert np.linalg.norm(t.final - [1, 3]) < 0.1
    assert t.loss[-1] < t.loss[0] / 1000


def test_gd_on_booth_diverges_above_one_ninth():
    t = run(cfg(hyperparams={"lr": 0.12}))[0]
    assert t.status is Status.DIVERGED
    assert t.message.startswith(f"diverged at step {t.steps}")
    assert np.all(np.isfinite(t.x)) and np.all(np.isfinite(t.loss))
    # just below the threshold it converges
    assert run(cfg(hyperparams={"lr": 0.11}))[0].status is Status.COMPLETED


class Cliff(Objective2D):
    """f = −x, undefined (NaN) for x ≥ 3: gd with lr = 1 walks 0, 1, 2 and falls off at step 3."""

    name = "cliff"
    domain = ((-5.0, 5.0), (-5.0, 5.0))

    def f(self, x, y):
        return np.where(x < 3, -x + 0 * y, np.nan)

    def grad_xy(self, x, y):
        return np.where(x < 3, -1.0, np.nan) + 0 * x, 0 * y

    def hess_xy(self, x, y):
        return 0.0, 0.0, 0.0


def test_non_finite_rows_are_not_kept():
    c = cfg(objective=Cliff(), hyperparams={"lr": 1.0}, epochs=10)
    r = Run(c)
    rec = Recorder(r)
    for step in r:
        rec.add(step)
    t = rec.result()[0]
    assert t.status is Status.DIVERGED
    np.testing.assert_array_equal(t.x[:, 0], [0, 1, 2])
    assert t.message == "diverged at step 3: the function is undefined or infinite here"
    assert np.all(np.isfinite(t.loss))


def test_tolerance_converges_and_start_at_minimum_converges_at_step_0():
    t = run(cfg(tol=1e-6, epochs=10_000))[0]
    assert t.status is Status.CONVERGED and np.linalg.norm(t.grad[-1]) <= 1e-6
    assert np.linalg.norm(t.grad[-2]) > 1e-6
    t0 = run(cfg(starts=[(1.0, 3.0)], tol=1e-9))[0]
    assert t0.status is Status.CONVERGED and t0.steps == 0


def test_zero_epochs_gives_the_start_only():
    t = run(cfg(epochs=0))[0]
    assert t.steps == 0 and t.status is Status.COMPLETED


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(-10, 10), st.floats(-10, 10)), min_size=1, max_size=6),
       st.sampled_from([0.01, 0.05, 0.12]))
def test_n_starts_equal_n_single_runs(starts, lr):
    many = run(cfg(starts=starts, hyperparams={"lr": lr}, epochs=80))
    for i, s in enumerate(starts):
        one = run(cfg(starts=[s], hyperparams={"lr": lr}, epochs=80))[0]
        np.testing.assert_array_equal(many[i].x, one.x)
        np.testing.assert_array_equal(many[i].loss, one.loss)
        assert many[i].status == one.status and many[i].message == one.message


def test_starts_that_end_at_different_steps():
    res = run(cfg(starts=[(0, 0), (1, 3), (100, 100)], tol=1e-3, hyperparams={"lr": 0.1}, epochs=500))
    assert [t.status for t in res] == [Status.CONVERGED, Status.CONVERGED, Status.CONVERGED]
    assert res[1].steps == 0 and res[0].steps != res[2].steps


def test_cancel_between_steps():
    r = Run(cfg(epochs=1_000_000))
    rec = Recorder(r)
    for step in r:
        rec.add(step)
        if step.k == 10:
            r.cancel()
    t = rec.result()[0]
    assert t.status is Status.CANCELLED and t.steps == 10
    assert t.message == "cancelled after step 10"


def test_iteration_and_collection_agree():
    c = cfg(starts=[(0, 0), (5, -5)], epochs=20)
    steps = list(Run(c))
    res = run(c)
    assert len(steps) == 21
    for k, s in enumerate(steps):
        assert s.k == k
        np.testing.assert_array_equal(s.x, np.stack([res[0].x[k], res[1].x[k]]))


@pytest.mark.parametrize("bad, message", [
    (dict(objective="nope"), "unknown objective 'nope'"),
    (dict(optimizer="nope"), "unknown optimizer 'nope'"),
    (dict(hyperparams={"momentum": 0.9}), "no hyperparameter 'momentum'"),
    (dict(hyperparams={"lr": -1}), "lr must be in"),
    (dict(hyperparams={"lr": "fast"}), "lr must be a number"),
    (dict(epochs=-1), "epochs must be"),
    (dict(starts=[(math.nan, 0)]), "not finite"),
    (dict(starts=[(1.0, 2.0, 3.0)]), "needs 2 coordinates"),
    (dict(gradient="symbolic"), "unknown gradient source"),
    (dict(gradient="central", fd_step=-1.0), "positive"),
    (dict(tol=-1.0), "tol must be"),
    (dict(starts=[]), "at least one start point"),
])
def test_bad_configs_name_the_problem(bad, message):
    with pytest.raises(ValueError, match=message):
        cfg(**bad)


def test_config_is_immutable_and_round_trips():
    c = cfg(starts=[(0.1, 0.2), (3, 4)], tol=1e-5, seed=7, name="a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.epochs = 3
    with pytest.raises(ValueError, match="read-only"):
        c.starts[0, 0] = 9.0
    again = RunConfig.from_dict(c.to_dict())
    assert again == c and hash(again) == hash(c)
    with pytest.raises(ValueError, match="unknown run setting"):
        RunConfig.from_dict({**c.to_dict(), "colour": "red"})


def test_finite_difference_gradients_follow_the_analytic_run():
    exact = run(cfg(epochs=50))[0]
    for method in ("central", "forward"):
        t = run(cfg(epochs=50, gradient=method))[0]
        np.testing.assert_allclose(t.x, exact.x, rtol=0, atol=1e-5)
