"""See why for a model (gdstudio.core.analysis.model_step): values checked, no Qt."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdstudio.core.analysis import model_step as M
from gdstudio.core.training import TrainConfig, train


@pytest.fixture(scope="module")
def gd_full():
    return train(TrainConfig.create(optimizer="gd", hyperparams={"lr": 0.1}, epochs=3, val=0.2))


@pytest.fixture(scope="module")
def momentum_batches():
    return train(TrainConfig.create(optimizer="momentum", hyperparams={"lr": 0.05}, batch_size=64, epochs=1,
                                    val=0.2, seed=3))


def test_plain_gd_moves_along_minus_the_gradient(gd_full):
    m = gd_full.model
    for k in range(3):
        s = M.explain_model_step(m, gd_full.thetas, k)
        assert s.cos_angle == pytest.approx(1.0, abs=1e-12)
        assert s.effective_lr == pytest.approx(0.1, rel=1e-12)
        np.testing.assert_allclose(s.update, -0.1 * s.gradient, rtol=0, atol=1e-15)
        assert s.loss == gd_full.curve.array("train_loss")[k]  # full batches: the whole training set
        assert s.next_loss == pytest.approx(gd_full.curve.array("train_loss")[k + 1], rel=1e-12)
        assert s.change < 0 and s.slope == pytest.approx(-0.1 * s.grad_norm ** 2, rel=1e-12)
        for name, (gn, un, cos) in s.blocks.items():
            assert cos == pytest.approx(1.0, abs=1e-12) and un == pytest.approx(0.1 * gn, rel=1e-12)
    assert "whole training set" in s.data_text
    last = M.explain_model_step(m, gd_full.thetas, len(gd_full.thetas) - 1)
    assert last.update is None and last.cos_angle is None and M.model_line_search(m, last) is None


def test_momentum_on_minibatches_uses_the_steps_batch_and_turns_away(momentum_batches):
    r = momentum_batches
    m = r.model
    k = 10
    s = M.explain_model_step(m, r.thetas, k)
    assert s.loss == pytest.approx(r.curve.array("batch_loss")[k], rel=1e-12)  # the loss the run reported
    idx = m.batch_indices(k)
    assert f"minibatch of step {k} ({len(idx)} of" in s.data_text
    assert s.cos_angle < 0.99  # the velocity remembers earlier batches' gradients
    full = M.explain_model_step(m, r.thetas, k, data="train")
    assert full.loss == pytest.approx(float(m.full_loss(r.thetas[k])), rel=1e-12)
    assert full.cos_angle != s.cos_angle
    with pytest.raises(ValueError):
        M.explain_model_step(m, r.thetas, k, data="val")
    with pytest.raises(ValueError):
        M.explain_model_step(m, r.thetas, len(r.thetas))


@pytest.mark.parametrize("fixture", ["gd_full", "momentum_batches"])
def test_line_search_minimiser_against_a_fine_grid(fixture, request):
    r = request.getfixturevalue(fixture)
    m = r.model
    s = M.explain_model_step(m, r.thetas, 1)
    ls = M.model_line_search(m, s)
    assert ls.bounded
    assert ls.taken_t == pytest.approx(s.update_norm, rel=1e-15)
    assert ls.taken_value == pytest.approx(s.next_loss, rel=1e-12)  # the point the optimizer took is on φ
    np.testing.assert_allclose(ls.linear, ls.value + ls.ts * ls.slope, rtol=1e-15)
    assert ls.slope == pytest.approx(s.gradient @ s.update / s.update_norm, rel=1e-12)
    X, y, _ = M.samples(m, 1)
    grid = np.linspace(0.0, 2 * ls.best_t, 20001)
    phi = M.model_losses(m, s.theta + grid[:, None] * ls.direction, X, y)
    j = int(np.argmin(phi))
    assert ls.best_value <= phi[j] + 1e-13  # no grid point is lower
    assert abs(ls.best_t - grid[j]) <= grid[1] - grid[0]
    assert ls.values.min() >= ls.best_value - 1e-13
    assert ls.ts[0] < 0 < ls.taken_t and ls.ts[-1] > max(ls.taken_t, ls.best_t)
    assert ls.zoom_ts[0] == -ls.taken_t / 2 and ls.zoom_ts[-1] == 2 * ls.taken_t
    np.testing.assert_allclose(ls.zoom_values, M.model_losses(m, s.theta + ls.zoom_ts[:, None] * ls.direction, X, y),
                               rtol=1e-13)
    assert ls.zoom_values[np.searchsorted(ls.zoom_ts, ls.taken_t)] == ls.taken_value


def test_linear_approximation_error_is_second_order(gd_full):
    m = gd_full.model
    s = M.explain_model_step(m, gd_full.thetas, 2)
    ls = M.model_line_search(m, s)
    X, y, _ = M.samples(m, 2)
    ts = 0.2 * 0.5 ** np.arange(6)
    phi = M.model_losses(m, s.theta + ts[:, None] * ls.direction, X, y)
    err = np.abs(phi - (ls.value + ts * ls.slope))
    ratios = err[:-1] / err[1:]
    np.testing.assert_allclose(ratios, 4.0, rtol=0.05)  # halving t quarters the error: O(t²)


def test_line_minimum_on_known_lines():
    t, v, ok = M.line_minimum(lambda ts: (ts - 3.0) ** 2 + 1.0, 0.01)
    assert ok and t == pytest.approx(3.0, abs=1e-8) and v == pytest.approx(1.0, abs=1e-15)
    t, v, ok = M.line_minimum(lambda ts: (ts + 0.5) ** 2, 1.0)  # behind the start: an uphill step
    assert ok and t == pytest.approx(-0.5, abs=1e-8)
    t, _, ok = M.line_minimum(lambda ts: -ts, 1.0)
    assert not ok and t == 2.0 ** 24
    with pytest.raises(ValueError):
        M.line_minimum(lambda ts: ts, 0.0)


@given(c=st.floats(-1e3, 1e3), a=st.floats(1e-3, 1e3), s=st.floats(1e-4, 1e2))
@settings(max_examples=60, deadline=None)
def test_line_minimum_finds_a_parabolas_vertex(c, a, s):
    t, _, ok = M.line_minimum(lambda ts: a * (ts - c) ** 2, s)
    assert ok
    assert abs(t - c) <= 1e-7 * max(abs(c), s) + 1e-12


def test_verdicts_overshoot_and_short(gd_full):
    m = gd_full.model
    thetas = gd_full.thetas
    s = M.explain_model_step(m, thetas, 0)
    ls = M.model_line_search(m, s)
    assert ls.ratio < 0.1 and ls.verdict().startswith("short")  # ε = 0.1 on softmax/digits crawls
    big = thetas[:2].copy()
    big[1] = thetas[0] + (ls.best_t * 3) * ls.direction  # three times as far as the line's minimum
    ls3 = M.model_line_search(m, M.explain_model_step(m, big, 0))
    assert ls3.ratio == pytest.approx(3.0, rel=1e-6) and ls3.verdict().startswith("overshoot")


def test_losses_are_vectorised_and_chunked(gd_full, monkeypatch):
    m = gd_full.model
    X, y, _ = M.samples(m, 0)
    thetas = gd_full.thetas[:4] + np.random.default_rng(0).normal(scale=0.1, size=(4, m.dim))
    one_by_one = np.array([m.loss_grad(t, X, y, need_grad=False)[0] for t in thetas])
    np.testing.assert_allclose(M.model_losses(m, thetas, X, y), one_by_one, rtol=1e-13)
    monkeypatch.setattr(M, "CHUNK_FLOATS", 1)  # one parameter vector per chunk
    np.testing.assert_allclose(M.model_losses(m, thetas, X, y), one_by_one, rtol=1e-13)


@pytest.mark.parametrize("model", ["softmax", "mlp"])
def test_gradient_check_agrees_and_catches_a_wrong_gradient(model):
    r = train(TrainConfig.create(model=model, optimizer="adam", hyperparams={"lr": 0.01}, batch_size=128,
                                 epochs=1, val=0.2))
    m = r.model
    s = M.explain_model_step(m, r.thetas, 3)
    gc = M.model_gradient_check(m, s, n=10, seed=1)
    assert len(gc.coords) == 10 and np.all(gc.analytic != 0)
    assert gc.max_error < 1e-5
    assert all(lbl.split("[")[0] in dict(m.layout) for lbl in gc.labels)
    wrong = M.ModelStep(s.k, s.theta, s.next_theta, s.loss, s.gradient * 1.01, s.next_loss, s.data, s.data_text,
                        s.blocks)
    assert M.model_gradient_check(m, wrong, n=10, seed=1).errors.min() > 5e-3  # a 1 % error shows


def test_coordinate_labels(gd_full):
    m = gd_full.model  # W (64, 10), b (10,)
    assert M.coordinate_label(m, 0) == "W[0, 0]"
    assert M.coordinate_label(m, 13) == "W[1, 3]"
    assert M.coordinate_label(m, 640) == "b[0]"
    with pytest.raises(ValueError):
        M.coordinate_label(m, m.dim)


def test_gradient_check_error_curve_has_the_truncation_and_rounding_slopes(gd_full):
    m = gd_full.model
    s = M.explain_model_step(m, gd_full.thetas, 1)
    hs = np.logspace(-11, -1, 21)
    gc = M.model_gradient_check(m, s, n=6, seed=2, curve=hs)
    assert gc.curve_errors.shape == (21, 6)
    typical = np.median(gc.curve_errors, axis=1)
    best = int(np.argmin(typical))
    assert 1e-7 < hs[best] < 1e-3  # the V's bottom is between rounding and truncation
    assert typical[best] < 1e-7
    assert typical[0] > 10 * typical[best] and typical[-1] > 10 * typical[best]  # both arms rise
    # at the default h the table's errors are the curve's row for that h (|θ_i| < 1: one h for all coordinates)
    gc2 = M.model_gradient_check(m, s, n=6, seed=2, curve=gc.h[:1])
    assert np.all(gc2.h == gc2.h[0])
    np.testing.assert_allclose(gc2.curve_errors[0], gc2.errors, rtol=1e-12, atol=0)


def test_a_diverged_point_is_explained_without_error(gd_full):
    m = gd_full.model
    thetas = gd_full.thetas[:2].copy()
    thetas[1, :5] = np.nan  # θ_1 is not finite: no line to search
    s = M.explain_model_step(m, thetas, 0)
    assert M.model_line_search(m, s) is None and np.isnan(s.next_loss)
    bad = M.explain_model_step(m, thetas, 1)
    assert np.isnan(bad.loss) and bad.update is None
    gc = M.model_gradient_check(m, bad, n=4)
    assert np.isnan(gc.max_error)  # never "they agree" for NaN
