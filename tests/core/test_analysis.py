"""See why: the calculus behind the pictures (gdstudio.core.analysis), checked against hand computations."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdstudio.core import analysis as an
from gdstudio.core.objectives import CRITICAL_KINDS, Objective2D, get_objective
from gdstudio.core.runs import RunConfig, run


def cfg(objective="sphere", optimizer="gd", starts=((1.0, 2.0),), epochs=20, **hp):
    return RunConfig.create(objective, optimizer, starts=starts, epochs=epochs, hyperparams=hp)


class ExpCos(Objective2D):
    """f = e^x cos y: every derivative non-zero, unit scale (a test objective with real truncation error)."""

    name = "expcos"
    domain = ((-1.0, 1.0), (-1.0, 1.0))

    def f(self, x, y):
        return np.exp(x) * np.cos(y)

    def grad_xy(self, x, y):
        return np.exp(x) * np.cos(y), -np.exp(x) * np.sin(y)

    def hess_xy(self, x, y):
        return np.exp(x) * np.cos(y), -np.exp(x) * np.sin(y), -np.exp(x) * np.cos(y)


# --- 1. the second-derivative test --------------------------------------------------------------
@pytest.mark.parametrize("h, verdict", [
    ([[2, 0], [0, 3]], "minimum"),
    ([[-2, 1], [1, -3]], "maximum"),
    ([[2, 0], [0, -2]], "saddle"),
    ([[0, 5], [5, 0]], "saddle"),           # indefinite although both diagonal entries vanish
    ([[0, 0], [0, 0]], "inconclusive"),     # monkey saddle at the origin
    ([[2, 0], [0, 0]], "inconclusive"),     # semidefinite: higher-order terms decide
    ([[1, 0, 0], [0, -1, 0], [0, 0, 0]], "saddle"),  # opposite signs decide whatever the zero does
    ([[np.nan, 0], [0, 1]], "inconclusive"),
])
def test_classify(h, verdict):
    assert an.classify(h) == verdict


def test_classify_vectorises_and_uses_the_tolerance():
    stack = np.array([np.diag([1.0, 2.0]), np.diag([-1.0, 1.0]), np.diag([1e-9, 1.0]), np.diag([-3.0, -1.0])])
    assert an.classify(stack).tolist() == ["minimum", "saddle", "inconclusive", "maximum"]
    assert an.classify(np.diag([1e-9, 1.0]), tol=1e-12) == "minimum"
    with pytest.raises(ValueError, match="shape"):
        an.classify([1.0, 2.0])
    with pytest.raises(ValueError, match="tol"):
        an.classify(np.eye(2), tol=-1)


sym = st.floats(-10, 10, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(sym, sym, sym)
def test_det_trace_test_agrees_with_the_eigenvalues(a, b, c):
    h = np.array([[a, b], [b, c]])
    lam = np.linalg.eigvalsh(h)
    if np.min(np.abs(np.abs(lam) - an.EIGEN_TOL)) < 1e-9:  # rounding decides exactly at the tolerance
        return
    assert an.det_trace_test(h) == an.classify(h)


def test_hessian_info_at_known_points():
    info = an.hessian_info(get_objective("sphere"), (0.0, 0.0))
    np.testing.assert_allclose(info.eigenvalues, [2, 2])
    assert info.verdict == "minimum" and info.det_trace_verdict == "minimum" and info.agrees
    assert info.det == 4 and info.trace == 4 and info.is_critical
    sad = an.hessian_info(get_objective("saddle"), (0.0, 0.0))
    assert sad.verdict == "saddle" and sad.det < 0 and sad.agrees
    # eigenvectors are columns: H v = λ v
    np.testing.assert_allclose(sad.hessian @ sad.eigenvectors, sad.eigenvectors * sad.eigenvalues, atol=1e-12)
    monkey = an.hessian_info(get_objective("monkey-saddle"), (0.0, 0.0))
    assert monkey.verdict == "inconclusive" and monkey.det_trace_verdict == "inconclusive"
    off = an.hessian_info(get_objective("sphere"), (1.0, 2.0))
    assert not off.is_critical and "not a critical point" in off.explanation()
    assert "det H" in info.explanation()


# --- 2. critical points -------------------------------------------------------------------------
def _match(found, known, atol=1e-7):
    """For each known critical point, the found one at the same place (AssertionError if none)."""
    pts = np.array([c.x for c in found])
    out = []
    for c in known:
        dist = np.linalg.norm(pts - np.array(c.x), axis=1)
        i = int(np.argmin(dist))
        assert dist[i] < atol, f"{c} not found (nearest {found[i]})"
        out.append(found[i])
    return out


def test_himmelblau_all_nine_critical_points():
    f = get_objective("himmelblau")
    found = an.find_critical_points(f)
    kinds = [c.kind for c in found]
    assert kinds == ["minimum"] * 4 + ["maximum"] + ["saddle"] * 4  # sorted: minima first
    for k, c in zip(_match(found, f.critical_points()), f.critical_points()):
        assert k.kind == c.kind
    np.testing.assert_allclose([c.value for c in found[:4]], 0, atol=1e-20)
    assert {c.label for c in found[:4]} == {"lowest minimum in view"}
    mx = found[4]
    np.testing.assert_allclose(mx.x, (-0.270845, -0.923039), atol=1e-6)
    np.testing.assert_allclose(mx.value, 181.617, atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(f.gradient(np.array([c.x for c in found])), axis=1), 0,
                               atol=1e-10)


def test_saddle_and_monkey_saddle():
    (s,) = an.find_critical_points(get_objective("saddle"))
    assert s.kind == "saddle" and np.allclose(s.x, 0, atol=1e-12) and s.value == 0
    (m,) = an.find_critical_points(get_objective("monkey-saddle"))
    # Newton converges only linearly to the degenerate point: still to well within 1e-9
    assert m.kind == "degenerate" and np.linalg.norm(m.x) < 1e-9
    assert "inconclusive" in m.label


@pytest.mark.parametrize("name, resolution", [
    ("sphere", 24), ("quadratic", 24), ("booth", 24), ("rosenbrock", 24), ("beale", 24),
    ("goldstein-price", 24), ("six-hump-camel", 24), ("styblinski-tang", 24), ("rastrigin", 48),
])
def test_finds_every_listed_critical_point_of_the_builtins(name, resolution):
    f = get_objective(name)
    found = an.find_critical_points(f, resolution)
    for k, c in zip(_match(found, f.critical_points(), atol=1e-6), f.critical_points()):
        assert k.kind == c.kind, (k, c)
    order = [CRITICAL_KINDS.index(c.kind) for c in found]
    assert order == sorted(order)
    pts = np.array([c.x for c in found])
    gaps = np.linalg.norm(pts[:, None] - pts[None], axis=-1) + np.eye(len(pts)) * 1e9
    assert gaps.min() > 1e-4  # deduplicated


def test_critical_points_are_deterministic_and_inside_the_domain():
    f = get_objective("six-hump-camel")
    a, b = an.find_critical_points(f), an.find_critical_points(f)
    assert a == b
    (x0, x1), (y0, y1) = f.domain
    assert all(x0 <= c.x[0] <= x1 and y0 <= c.x[1] <= y1 for c in a)
    # a smaller domain keeps only what lies in it
    small = an.find_critical_points(get_objective("himmelblau"), domain=((0, 5), (0, 5)))
    assert [c.kind for c in small] == ["minimum", "saddle", "saddle"]
    np.testing.assert_allclose([c.x for c in small], [(3.0, 2.0), (3.385154, 0.073852), (0.086678, 2.884255)],
                               atol=1e-6)


def test_extra_seeds_and_formula_objectives():
    f = get_objective("rastrigin")
    coarse = an.find_critical_points(f, 4)
    seeded = an.find_critical_points(f, 4, extra_seeds=[c.x for c in f.critical_points()])
    assert len(seeded) > len(coarse)
    _match(seeded, f.critical_points())
    # ∇f = (3x² − 3, 2y): a minimum at (1, 0), a saddle at (−1, 0)
    found = an.find_critical_points(get_objective("expr:x^3 - 3*x + y^2"))
    assert [c.kind for c in found] == ["minimum", "saddle"]
    np.testing.assert_allclose([c.x for c in found], [(1, 0), (-1, 0)], atol=1e-12)
    np.testing.assert_allclose([c.value for c in found], [-2, 2], atol=1e-12)


def test_critical_points_bad_input():
    f = get_objective("sphere")
    with pytest.raises(ValueError, match="resolution"):
        an.find_critical_points(f, 1)
    with pytest.raises(ValueError, match="domain"):
        an.find_critical_points(f, domain=((1, 0), (0, 1)))


# --- 3. what happened at step k ----------------------------------------------------------------
def test_gd_step_on_the_sphere():
    e = an.explain_step(cfg(lr=0.1), 0)
    np.testing.assert_array_equal(e.x, [1, 2])
    np.testing.assert_array_equal(e.gradient, [2, 4])
    np.testing.assert_array_equal(e.neg_gradient, [-2, -4])
    np.testing.assert_allclose(e.update, -0.1 * np.array([2, 4]), atol=1e-15)
    assert e.value == 5 and e.next_value == pytest.approx(0.8**2 * 5)
    assert e.slope == pytest.approx(-2.0) and e.cos_angle == pytest.approx(1.0)
    assert e.change < 0 and e.optimizer == "gd" and dict(e.state_after) == {}
    assert set(e.vectors()) == {"∇f", "−∇f", "update"}


def test_explanations_replay_the_run_exactly():
    c = cfg("rosenbrock", "momentum", starts=((-1.5, 2.0), (0.5, -0.5)), epochs=60, lr=1e-3)
    res = run(c)
    for start in (0, 1):
        t = res[start]
        for k in (0, 7, 59, 60):
            e = an.explain_step(c, k, start)
            np.testing.assert_array_equal(e.x, t.x[k])
            np.testing.assert_array_equal(e.gradient, t.grad[k])
            assert e.value == t.loss[k]
            if k < 60:
                np.testing.assert_array_equal(e.next_x, t.x[k + 1])
    last = an.explain_step(c, 60)
    assert last.next_x is None and last.update is None and last.status == "completed" and last.last_step == 60
    with pytest.raises(ValueError, match="past the end.*0 to 60"):
        an.explain_step(c, 61)
    with pytest.raises(ValueError, match="start"):
        an.explain_step(c, 0, start=2)


def test_random_methods_replay_each_start_with_its_own_seed():
    c = cfg("himmelblau", "random-local-search", starts=((0.0, 0.0), (1.0, 1.0), (-2.0, 2.0)), epochs=40)
    c = c.replace(seed=7)
    res = run(c)
    for start in (0, 2):
        for k in (1, 25):
            e = an.explain_step(c, k, start)
            np.testing.assert_array_equal(e.x, res[start].x[k])
            np.testing.assert_array_equal(e.next_x, res[start].x[k + 1])
            assert set(e.info) == {"sample", "sample_f", "accepted"}


def test_a_failed_step_is_explained():
    c = cfg("monkey-saddle", "newton", starts=((0.0, 0.0),), epochs=5)
    e = an.explain_step(c, 0)
    assert e.next_x is None and e.status == "failed" and "singular" in e.message and e.last_step == 0
    assert ("run", e.message) in e.summary()


def test_summary_rows():
    rows = dict(an.explain_step(cfg(lr=0.1), 0).summary())
    assert rows["∇f(x)"] == "(2, 4)" and rows["step taken Δx"] == "(-0.2, -0.4)" and rows["f(x)"] == "5"


def test_momentum_shows_the_velocity():
    mu, lr = 0.9, 0.01
    c = cfg("booth", "momentum", starts=((0.0, 0.0),), lr=lr, momentum=mu)
    t = run(c)[0]
    e0, e1 = an.explain_step(c, 0), an.explain_step(c, 1)
    # b_1 = g_0; b_2 = μ b_1 + g_1; x_{k+1} = x_k − ε b_{k+1}
    np.testing.assert_array_equal(e0.state_after["buf"], t.grad[0])
    np.testing.assert_allclose(e1.state_after["buf"], mu * t.grad[0] + t.grad[1], rtol=1e-14)
    np.testing.assert_array_equal(e1.state_before["buf"], e0.state_after["buf"])
    np.testing.assert_allclose(e1.update, -lr * e1.state_after["buf"], rtol=1e-12)
    assert "state:buf" in e1.vectors() and e1.state_after["step"] == 2
    # the buffer carries the past: the step is no longer along −∇f
    assert e1.cos_angle < 1 - 1e-6


def test_line_search_shows_the_chosen_step():
    c = cfg("rosenbrock", "line-search", starts=((-1.5, 2.0),), epochs=10)
    e = an.explain_step(c, 2)
    t = float(e.info["t"])
    tried = e.info["tried_t"][np.isfinite(e.info["tried_t"])]
    assert 0 < t <= 1 and t in tried and len(tried) > 1
    np.testing.assert_allclose(e.update, -t * e.gradient, rtol=1e-12)
    f_at = e.info["tried_f"][list(e.info["tried_t"]).index(t)]
    assert f_at == pytest.approx(e.next_value, rel=1e-12)
    # every rejected trial broke Armijo's condition; the chosen one keeps it (c = 1e-4)
    prof = an.line_profile(get_objective("rosenbrock"), e.x, e.neg_gradient, tried)
    np.testing.assert_allclose(prof.values, e.info["tried_f"][: len(tried)], rtol=1e-12)
    ok = prof.values <= prof.armijo(1e-4)
    assert ok[-1] and not ok[:-1].any()


def test_bfgs_and_adam_state():
    c = cfg("rosenbrock", "bfgs", starts=((-1.5, 2.0),), epochs=30)
    e = an.explain_step(c, 6)
    b = e.inverse_hessian
    assert b.shape == (2, 2) and "B" in e.matrices()
    np.testing.assert_allclose(e.update, -float(e.info["t"]) * b @ e.gradient, rtol=1e-10, atol=1e-15)
    m = an.quadratic_model(get_objective("rosenbrock"), e.x, 0.1, inverse_hessian=b)
    np.testing.assert_allclose(m.newton_step, -b @ e.gradient)
    assert m.source == "inverse-approximation" and m.verdict == "minimum"  # BFGS keeps B positive definite
    assert an.explain_step(cfg(lr=0.1), 0).inverse_hessian is None

    c = cfg("rosenbrock", "adam", starts=((-1.5, 2.0),), epochs=30, lr=0.05)
    e = an.explain_step(c, 4)
    step = e.derived["step_size"]
    np.testing.assert_allclose(e.update, -e.derived["m_hat"] * step, rtol=1e-10)
    assert "derived:step_size" in e.vectors() and e.arrows["derived:step_size"] == "per-coordinate step ε/(√v̂+ϵ)"
    assert ("per-coordinate step ε/(√v̂+ϵ)", ) == tuple(r[0] for r in e.summary() if r[0].startswith("per-coord"))


def test_explainer_is_cached_and_lazy():
    c = cfg("booth", "gd", starts=((0.0, 0.0),), epochs=5000, lr=0.01)
    ex = an.explainer(c)
    assert an.explainer(c) is ex
    ex.explain(10)
    assert ex.recorded <= 12  # replayed only as far as asked (plus the next step)
    ex.explain(3000)
    n = ex.recorded
    ex.explain(5)  # backwards: nothing replayed
    assert ex.recorded == n
    assert ex.replay_all() == 5000


def test_explain_step_bad_input():
    with pytest.raises(ValueError, match="step"):
        an.explain_step(cfg(), -1)


# --- 4-5. local models ------------------------------------------------------------------------
def test_tangent_plane_touches_f_at_x():
    f = get_objective("himmelblau")
    x = np.array([1.0, -0.5])
    tp = an.tangent_plane(f, x, 0.5, resolution=21)
    assert tp.z.shape == (21, 21) == tp.f.shape
    assert tp.xs[10] == x[0] and tp.ys[10] == x[1]
    assert tp.z[10, 10] == tp.f[10, 10] == f.value(x)
    # the plane has the gradient as its slopes
    np.testing.assert_allclose(np.gradient(tp.z, tp.xs, tp.ys, edge_order=2)[0], tp.gradient[0], rtol=1e-12)
    # for the sphere the gap f − T is exactly |h|²
    sp = an.tangent_plane(get_objective("sphere"), (1.0, 2.0), 1.0)
    hx, hy = np.meshgrid(sp.xs - 1, sp.ys - 2, indexing="ij")
    np.testing.assert_allclose(sp.f - sp.z, hx**2 + hy**2, atol=1e-12)


def test_quadratic_model_is_exact_for_booth_and_newton_lands_on_the_minimum():
    f = get_objective("booth")
    m = an.quadratic_model(f, (-4.0, 7.0), 3.0)
    np.testing.assert_allclose(m.z, m.f, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(m.newton_point, (1.0, 3.0), atol=1e-12)
    assert m.source == "hessian" and m.verdict == "minimum"
    # with the exact inverse Hessian the BFGS form gives the same step
    m2 = an.quadratic_model(f, (-4.0, 7.0), 3.0, inverse_hessian=np.linalg.inv(f.hessian(np.zeros(2))))
    np.testing.assert_allclose(m2.newton_step, m.newton_step, rtol=1e-12)
    np.testing.assert_allclose(m2.z, m.z, rtol=1e-10, atol=1e-9)


def test_quadratic_model_on_non_quadratics():
    f = get_objective("himmelblau")
    x = np.array([0.5, 0.5])
    m = an.quadratic_model(f, x, 0.2, resolution=11)
    assert m.z[5, 5] == pytest.approx(f.value(x))
    # second-order accurate: the gap is O(h³)
    gap = np.abs(m.z - m.f)
    assert gap[5, 5] == pytest.approx(0, abs=1e-12) and 0 < gap.max() < 0.2**3 * 100
    # a Newton step from near the maximum goes to it (Newton seeks any critical point)
    near = an.quadratic_model(f, (-0.3, -0.9), 0.1)
    assert near.verdict == "maximum" and np.linalg.norm(near.newton_point - (-0.270845, -0.923039)) < 1e-2
    # singular Hessian: no Newton step
    mk = an.quadratic_model(get_objective("monkey-saddle"), (0.0, 0.0), 1.0)
    assert mk.newton_step is None and mk.newton_point is None and mk.verdict == "inconclusive"
    with pytest.raises(ValueError, match="extent"):
        an.quadratic_model(f, x, 0.0)
    with pytest.raises(ValueError, match="inverse_hessian"):
        an.quadratic_model(f, x, 1.0, inverse_hessian=np.eye(3))


# --- 6. along a line --------------------------------------------------------------------------
def test_line_profile():
    f = get_objective("sphere")
    ts = np.linspace(0, 1, 11)
    prof = an.line_profile(f, (1.0, 2.0), (-2.0, -4.0), ts)
    np.testing.assert_allclose(prof.values, 5 * (1 - 2 * ts) ** 2, rtol=1e-14)  # x − t∇f = (1 − 2t) x
    assert prof.value == 5 and prof.slope == -20  # φ'(0) = −‖∇f‖²
    np.testing.assert_allclose(prof.tangent, 5 - 20 * ts)
    assert np.argmin(prof.values) == 5  # exact line search: t = 1/2 lands on the minimum
    with pytest.raises(ValueError, match="direction"):
        an.line_profile(f, (1.0, 2.0), (1.0,), ts)


# --- 7. finite-difference error ---------------------------------------------------------------
def test_fd_error_curve_has_the_textbook_shape():
    c = an.fd_error_curve(ExpCos(), (0.3, 0.4))
    assert c.hs.shape == c.central.shape == c.forward.shape == (161,)
    # forward: error ∝ h on the truncation side, ∝ 1/h on the rounding side; best near √ε ≈ 1.5e-8
    assert c.slope("forward", 1e-5, 1e-2) == pytest.approx(1, abs=0.05)
    assert c.slope("central", 1e-3, 1e-1) == pytest.approx(2, abs=0.05)
    assert c.slope("forward", 1e-15, 1e-11) == pytest.approx(-1, abs=0.3)
    assert 1e-9 <= c.h_best_forward <= 1e-7
    assert 1e-6 <= c.h_best_central <= 1e-4
    # decreasing then increasing (compared a decade apart: rounding makes neighbours jitter)
    f = c.forward
    i = int(np.argmin(f))
    left, right = f[:i + 1][::-10], f[i:][::10]
    assert np.all(np.diff(left) > 0) and np.all(np.diff(right) > 0)
    assert c.error_best_central < c.error_best_forward < 1e-6
    assert c.h_theory_forward == pytest.approx(1.49e-8, rel=0.01)


def test_central_differences_are_exact_for_a_quadratic_up_to_rounding():
    c = an.fd_error_curve(get_objective("sphere"), (1.0, 2.0), np.logspace(-4, 0, 5))
    np.testing.assert_allclose(c.central, 0, atol=1e-11)
    np.testing.assert_allclose(c.forward, np.linalg.norm(np.array([1, 1]) * c.hs[:, None], axis=1)
                               / np.linalg.norm([2 + c.hs[:, None], 4 + c.hs[:, None]], axis=0)[:, 0],
                               rtol=1e-6)
    with pytest.raises(ValueError, match="hs"):
        an.fd_error_curve(get_objective("sphere"), (1.0, 2.0), [0.0, 1.0])


# --- 8. linear approximation ------------------------------------------------------------------
def test_linear_approximation_error_shrinks_like_h4():
    f = get_objective("himmelblau")
    la = an.linear_approximation(f, (1.0, 1.0), (3.0, 4.0), np.logspace(-4, -2, 9))
    np.testing.assert_allclose(la.direction, (0.6, 0.8))
    slope = np.polyfit(np.log(la.hs), np.log(la.squared_error), 1)[0]
    assert slope == pytest.approx(4, abs=0.02)
    # the leading term h⁴/4 (uᵀHu)² predicts it, better and better as h shrinks (the rest is O(h⁵))
    dev = np.abs(la.squared_error / la.predicted - 1)
    assert dev[0] < 1e-3 and np.all(np.diff(dev) > 0)
    u = la.direction
    assert la.curvature == pytest.approx(u @ f.hessian(np.array([1.0, 1.0])) @ u)
    np.testing.assert_allclose(la.linear, la.value + la.hs * la.slope)
    # the sphere: f(x + hu) − linear = h² exactly
    sp = an.linear_approximation(get_objective("sphere"), (1.0, 2.0), (1.0, 0.0), [0.5, 1.0])
    np.testing.assert_allclose(sp.squared_error, [0.5**4, 1.0], rtol=1e-12)
    with pytest.raises(ValueError, match="non-zero"):
        an.linear_approximation(f, (1.0, 1.0), (0.0, 0.0))


def test_points_are_validated():
    f = get_objective("sphere")
    with pytest.raises(ValueError, match="2 coordinates"):
        an.tangent_plane(f, (1.0, 2.0, 3.0), 1.0)
    with pytest.raises(ValueError, match="not finite"):
        an.hessian_info(f, (math.nan, 0.0))


def test_step_records_of_changing_shape_are_kept():
    cols = an._Columns()
    cols.append({"a": [1.0, 2.0], "t": [1.0]})
    cols.append({"a": [3.0, 4.0], "t": [1.0, 0.5]})
    cols.append({"a": [5.0, 6.0]})
    for _ in range(40):
        cols.append({"a": [0.0, 0.0]})
    cols.append({"late": [7.0]})  # a key first seen after the initial capacity
    for _ in range(40):  # past the initial capacity
        cols.append({"a": [0.0, 0.0], "t": [2.0]})
    np.testing.assert_array_equal(cols.row(0)["t"], [1.0])
    np.testing.assert_array_equal(cols.row(1)["t"], [1.0, 0.5])
    assert np.isnan(cols.row(2)["t"]).all()
    np.testing.assert_array_equal(cols.row(2)["a"], [5.0, 6.0])
    np.testing.assert_array_equal(cols.row(83)["t"], [2.0])
    np.testing.assert_array_equal(cols.row(43)["late"], [7.0])
    assert np.isnan(cols.row(10)["late"]).all() and cols.n == 84


# --- 9. helpers for the "see why" views ------------------------------------------------------------
def test_critical_points_merge_the_listed_ones():
    f = get_objective("himmelblau")
    cps = an.critical_points(f)
    assert [c.kind for c in cps] == ["minimum"] * 4 + ["maximum"] + ["saddle"] * 4
    listed = {c.x: c.label for c in f.critical_points()}
    assert all(c.label for c in cps)
    # the four minima keep their listed labels (within the merge radius of the listed coordinates)
    assert sum(any(np.allclose(c.x, x, atol=1e-6) and c.label == lab for x, lab in listed.items())
               for c in cps[:4]) == 4
    # Ackley's tip is not differentiable: the test is inconclusive there, the listed kind wins
    tip = [c for c in an.critical_points(get_objective("ackley")) if np.linalg.norm(c.x) < 1e-6]
    assert len(tip) == 1 and tip[0].kind == "minimum" and "cone" in tip[0].label


def test_step_line_search_recovers_the_search_direction():
    f = get_objective("rosenbrock")
    e = an.explain_step(cfg("rosenbrock", "line-search", starts=((-1.5, 2.0),), epochs=10), 2)
    ls = an.step_line_search(f, e)
    assert ls.searched and ls.chosen_t == float(e.info["t"])
    np.testing.assert_allclose(ls.direction, e.neg_gradient, rtol=1e-12)
    assert len(ls.tried_t) > 1 and np.all(np.isfinite(ls.tried_f))
    # the profile goes through every trial: φ(t) = f(x + t p)
    i = np.searchsorted(ls.profile.ts, ls.tried_t)
    np.testing.assert_allclose(ls.profile.values[i], ls.tried_f, rtol=1e-12)
    assert ls.chosen_f == pytest.approx(e.next_value)
    # backtracking shrank t from 1 to 1/1024: the profile is dense on [0, 4t] too, for the zoomed chart
    assert ls.chosen_t < 0.01 and ls.zoom == pytest.approx(4 * ls.chosen_t)
    assert np.sum(ls.profile.ts <= ls.zoom) >= 100
    e = an.explain_step(cfg("rosenbrock", "bfgs", starts=((-1.5, 2.0),), epochs=30), 6)
    ls = an.step_line_search(f, e)
    np.testing.assert_allclose(ls.direction, -e.inverse_hessian @ e.gradient, rtol=1e-9)
    # plain GD: along the step taken, t = 1 lands on x_{k+1}
    e = an.explain_step(cfg("rosenbrock", "gd", starts=((-1.5, 2.0),), epochs=10, lr=1e-3), 3)
    ls = an.step_line_search(f, e)
    assert not ls.searched and ls.chosen_t == 1.0 and ls.tried_t.size == 0
    j = int(np.argmin(abs(ls.profile.ts - 1.0)))
    assert ls.profile.values[j] == pytest.approx(e.next_value, rel=1e-12)


def test_principal_axes_follow_the_eigenvectors():
    f = get_objective("himmelblau")
    mx = (-0.270845, -0.923039)
    pa = an.principal_axes(f, mx, 0.5, 21)
    assert pa.info.verdict == "maximum" and pa.points.shape == (2, 21, 2)
    # both axes curve down at the maximum; the model matches f to second order near x
    assert np.all(pa.values[:, 10] >= pa.values[:, [0, -1]].max(axis=1))
    np.testing.assert_allclose(pa.values[:, 9:12], pa.model[:, 9:12], rtol=1e-3)
    v = pa.info.eigenvectors
    np.testing.assert_allclose(pa.points[1, -1] - pa.points[1, 10], 0.5 * v[:, 1], atol=1e-12)


@pytest.mark.parametrize("g, angle, u", [
    ((1.0, 0.0), 0, (-1.0, 0.0)), ((0.0, 2.0), 0, (0.0, -1.0)), ((1.0, 0.0), 90, (0.0, -1.0)),
    ((0.0, 0.0), 90, (0.0, 1.0)),
])
def test_gradient_direction(g, angle, u):
    np.testing.assert_allclose(an.gradient_direction(g, angle), u, atol=1e-15)


def test_gradient_direction_bad_input():
    with pytest.raises(ValueError, match="angle"):
        an.gradient_direction((1.0, 0.0), "north")
    with pytest.raises(ValueError, match="gradient"):
        an.gradient_direction((np.nan, 0.0))


def test_newton_value_is_the_model_at_its_stationary_point():
    f = get_objective("himmelblau")
    q = an.quadratic_model(f, (0.5, 0.5), 1.0)
    h = q.newton_step
    assert q.newton_value == pytest.approx(q.value + q.gradient @ h + 0.5 * h @ q.hessian @ h, rel=1e-12)
    assert an.quadratic_model(f, (0.5, 0.5), 1.0, hessian=np.zeros((2, 2))).newton_value is None
