"""The built-in objective library: derivatives against finite differences, shapes, critical points,
parameters and error messages. No Qt."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdstudio.core.gradients import finite_difference
from gdstudio.core.objectives import CRITICAL_KINDS, get_objective, objective_names
from gdstudio.core.objectives.library import BUILTINS, Himmelblau

NAMES = objective_names()

#: Central-difference step for the derivative checks (domains are of unit to ten scale).
H = 1e-5

# Tolerances, honest rather than tight. Central differences with step h err by about
# h²|f'''|/6 (truncation) + ε|f|/h (rounding). Measured over 50,000 uniform points per domain plus
# 2,000 points within 1e-4 of each listed critical point (where ∇f ≈ 0, so only the absolute floor
# is left), the worst ratios below were 1.0e-4 (gradient, monkey saddle next to its origin) and
# 5.9e-8 (Hessian, Ackley). Any wrong term in a formula gives a ratio of order 1.
GRAD_RTOL = 1e-3
HESS_RTOL = 1e-6

#: Ackley's cone tip: at distance r from the origin its derivatives vary on the scale r, so a fixed
#: step h errs by about (h/r)²; the random checks keep r ≥ 0.05 and the tip has its own test with h ∝ r.
ACKLEY_HOLE = 0.05


def gradient_mismatch(obj, p, h=H):
    """``‖g_fd − g‖ / scale`` with ``scale = ‖g‖ + h‖H‖ + 1e-6 (1 + |f|)``: the FD error relative to
    what central differences can resolve at ``p`` (the last two terms are the floor near ∇f = 0)."""
    g = obj.gradient(p)
    fd = finite_difference(obj.value, p, h, "central")
    scale = (np.linalg.norm(g, axis=-1) + h * np.linalg.norm(obj.hessian(p), axis=(-2, -1))
             + 1e-6 * (1 + np.abs(obj.value(p))))
    return np.linalg.norm(fd - g, axis=-1) / scale


def hessian_mismatch(obj, p, h=H):
    """Analytic Hessian against central differences of the analytic gradient, component by component
    and not symmetrised (so an asymmetric mistake is caught too)."""
    hess = obj.hessian(p)
    # fd[..., j, i] = ∂g_j/∂x_i
    fd = np.stack([finite_difference(lambda q, j=j: obj.gradient(q)[..., j], p, h) for j in range(2)], axis=-2)
    scale = np.linalg.norm(hess, axis=(-2, -1)) + 1e-6 * (1 + np.linalg.norm(obj.gradient(p), axis=-1))
    return np.linalg.norm(fd - hess, axis=(-2, -1)) / scale


@st.composite
def domain_points(draw, name):
    """A point of the objective's domain (away from Ackley's non-differentiable origin)."""
    (x0, x1), (y0, y1) = BUILTINS[name].domain
    x = draw(st.floats(x0, x1, allow_nan=False))
    y = draw(st.floats(y0, y1, allow_nan=False))
    if name == "ackley" and math.hypot(x, y) < ACKLEY_HOLE:
        x = ACKLEY_HOLE if x >= 0 else -ACKLEY_HOLE
    return np.array([x, y])


def kind_from_hessian(hess: np.ndarray) -> str:
    """The second-derivative test, with a zero tolerance relative to the Hessian's size."""
    ev = np.linalg.eigvalsh(hess)
    tol = 1e-9 * (1 + np.abs(ev).max())
    if np.any(np.abs(ev) <= tol):
        return "degenerate"
    if np.all(ev > 0):
        return "minimum"
    if np.all(ev < 0):
        return "maximum"
    return "saddle"


# --- the registry ------------------------------------------------------------------------------

def test_builtins_in_menu_order():
    assert NAMES == [
        "sphere", "quadratic", "booth", "rosenbrock", "himmelblau", "beale", "rastrigin", "ackley",
        "goldstein-price", "six-hump-camel", "styblinski-tang", "saddle", "monkey-saddle",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_metadata(name):
    cls = BUILTINS[name]
    obj = get_objective(name)
    assert obj.name == name and obj.title and obj.formula and obj.notes
    assert ".. math::" in cls.__doc__ and "Notes" in cls.__doc__
    (x0, x1), (y0, y1) = obj.domain
    assert x0 < x1 and y0 < y1
    crit = obj.critical_points()
    assert crit, "every built-in lists at least one critical point"
    kinds = [c.kind for c in crit]
    assert set(kinds) <= set(CRITICAL_KINDS)
    # minima first
    assert kinds == sorted(kinds, key=lambda k: k != "minimum")
    for c in crit:
        assert x0 <= c.x[0] <= x1 and y0 <= c.x[1] <= y1, c
        assert c.value == obj.value(np.array(c.x))


def test_log_levels_where_values_span_decades():
    assert {n for n in NAMES if BUILTINS[n].log_levels} == {"rosenbrock", "beale", "goldstein-price"}


# --- derivatives -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_gradient_matches_central_differences(name, data):
    obj = get_objective(name)
    p = data.draw(domain_points(name))
    assert gradient_mismatch(obj, p) < GRAD_RTOL


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_hessian_matches_central_differences_of_gradient(name, data):
    obj = get_objective(name)
    p = data.draw(domain_points(name))
    assert hessian_mismatch(obj, p) < HESS_RTOL


@pytest.mark.parametrize("name", NAMES)
def test_derivatives_on_a_grid(name):
    """The same checks on a fixed 41 × 41 grid over the whole domain, vectorised."""
    obj = get_objective(name)
    (x0, x1), (y0, y1) = obj.domain
    pts = np.stack(np.meshgrid(np.linspace(x0, x1, 41), np.linspace(y0, y1, 40), indexing="ij"), axis=-1)
    if name == "ackley":
        pts = pts[np.linalg.norm(pts, axis=-1) >= ACKLEY_HOLE]
    assert gradient_mismatch(obj, pts).max() < GRAD_RTOL
    assert hessian_mismatch(obj, pts).max() < HESS_RTOL


def test_the_checks_catch_a_wrong_derivative():
    """A test that cannot fail is a defect: a typo in Himmelblau's gradient or Hessian is caught."""

    class WrongGradient(Himmelblau):
        def grad_xy(self, x, y):
            a = x**2 + y - 11
            b = x + y**2 - 7
            return 4 * x * a + 2 * b, 2 * a + 4.04 * y * b  # 1% off in one term

    class WrongHessian(Himmelblau):
        def hess_xy(self, x, y):
            hxx, hxy, hyy = super().hess_xy(x, y)
            return hxx, hxy + 0.01 * x, hyy  # a small, asymmetric-looking slip

    pts = np.random.default_rng(0).uniform(-5, 5, (50, 2))
    good = Himmelblau()
    assert gradient_mismatch(good, pts).max() < GRAD_RTOL
    assert hessian_mismatch(good, pts).max() < HESS_RTOL
    assert gradient_mismatch(WrongGradient(), pts).max() > GRAD_RTOL
    assert hessian_mismatch(WrongHessian(), pts).max() > HESS_RTOL


@pytest.mark.parametrize("name", NAMES)
def test_hessian_symmetric(name):
    obj = get_objective(name)
    (x0, x1), (y0, y1) = obj.domain
    rng = np.random.default_rng(1)
    pts = np.stack([rng.uniform(x0, x1, 200), rng.uniform(y0, y1, 200)], axis=-1)
    h = obj.hessian(pts)
    assert h.shape == (200, 2, 2)
    np.testing.assert_array_equal(h, np.swapaxes(h, -1, -2))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(), (7,), (3, 4)])
def test_shapes_agree_with_per_point(name, shape):
    obj = get_objective(name)
    (x0, x1), (y0, y1) = obj.domain
    rng = np.random.default_rng(2)
    pts = np.stack([rng.uniform(x0, x1, shape), rng.uniform(y0, y1, shape)], axis=-1)
    v, g, h = obj.value(pts), obj.gradient(pts), obj.hessian(pts)
    assert v.shape == shape and g.shape == shape + (2,) and h.shape == shape + (2, 2)
    assert v.dtype == g.dtype == h.dtype == np.float64
    for idx in np.ndindex(*shape):
        p = pts[idx]
        assert v[idx] == obj.value(p)
        np.testing.assert_array_equal(g[idx], obj.gradient(p))
        np.testing.assert_array_equal(h[idx], obj.hessian(p))
    # plain lists work too
    assert obj.value(pts[idx].tolist()) == v[idx]


@pytest.mark.parametrize("name", NAMES)
def test_bad_point_shape_is_a_value_error(name):
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        get_objective(name).gradient(np.zeros((4, 3)))


# --- critical points ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_critical_points_are_stationary_and_of_their_kind(name):
    obj = get_objective(name)
    for c in obj.critical_points():
        x = np.array(c.x)
        g = obj.gradient(x)
        h = obj.hessian(x)
        if name == "ackley":  # the cone tip: gradient defined as 0, Hessian deliberately NaN
            np.testing.assert_array_equal(g, [0.0, 0.0])
            assert np.isnan(h).all()
            continue
        # rounding x to doubles alone moves ∇f by about ε‖H‖‖x‖
        assert np.linalg.norm(g) <= 1e-12 * (1 + np.linalg.norm(h)) * (1 + np.linalg.norm(x)), (c, g)
        assert kind_from_hessian(h) == c.kind, (c, np.linalg.eigvalsh(h))


@pytest.mark.parametrize("name", NAMES)
def test_global_minimum_is_lowest_on_a_grid(name):
    """The value of a listed global minimum is the lowest on a fine grid over the domain."""
    obj = get_objective(name)
    glob = [c for c in obj.critical_points() if c.label.startswith("global minimum")]
    if name in ("saddle", "monkey-saddle"):
        assert not glob and not obj.minima()
        return
    assert glob and all(c.kind == "minimum" for c in glob)
    assert len({c.value for c in glob}) == 1 or np.ptp([c.value for c in glob]) < 1e-12
    _, _, z = obj.grid(301)
    assert z.min() >= glob[0].value - 1e-12 * (1 + abs(glob[0].value))


MINIMUM_VALUES = {
    "sphere": 0.0, "quadratic": 0.0, "booth": 0.0, "rosenbrock": 0.0, "himmelblau": 0.0, "beale": 0.0,
    "rastrigin": 0.0, "ackley": 0.0, "goldstein-price": 3.0, "six-hump-camel": -1.031628453489877,
    "styblinski-tang": -78.33233140754282,
}


@pytest.mark.parametrize("name", list(MINIMUM_VALUES))
def test_documented_minimum_values(name):
    obj = get_objective(name)
    for c in obj.critical_points():
        if c.label.startswith("global minimum"):
            assert c.value == pytest.approx(MINIMUM_VALUES[name], abs=1e-12, rel=1e-13)


def test_himmelblau_has_its_nine_critical_points():
    crit = get_objective("himmelblau").critical_points()
    assert [c.kind for c in crit].count("minimum") == 4
    assert [c.kind for c in crit].count("maximum") == 1
    assert [c.kind for c in crit].count("saddle") == 4
    obj = get_objective("himmelblau")
    for c in crit:
        assert np.linalg.norm(obj.gradient(np.array(c.x))) < 1e-9
    xs = np.array([c.x for c in crit])
    assert np.min(np.linalg.norm(xs[:, None] - xs[None], axis=-1) + np.eye(9) * 1e9) > 0.5  # distinct
    quoted = [(3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126),
              (-0.270845, -0.923039)]
    np.testing.assert_allclose(xs[:5], quoted, atol=1e-6)


def test_goldstein_price_critical_values():
    values = {c.x: c.value for c in get_objective("goldstein-price").critical_points()}
    for x, v in {(0.0, -1.0): 3, (-0.6, -0.4): 30, (1.8, 0.2): 84, (1.2, 0.8): 840, (0.8, 0.2): 1155}.items():
        assert values[x] == pytest.approx(v, rel=1e-13)


def test_styblinski_tang_all_nine_and_global_coordinate():
    crit = get_objective("styblinski-tang").critical_points()
    assert len(crit) == 9
    assert crit[0].x[0] == crit[0].x[1] == pytest.approx(-2.903534, abs=1e-6)
    # per axis, the roots of 4t³ − 32t + 5 = 0
    roots = np.sort(np.roots([4, 0, -32, 5]).real)
    np.testing.assert_allclose(sorted({c.x[0] for c in crit}), roots, rtol=0, atol=1e-13)


def test_six_hump_camel_global_minima_symmetric():
    glob = [c for c in get_objective("six-hump-camel").critical_points() if c.label == "global minimum"]
    assert len(glob) == 2
    np.testing.assert_allclose(glob[0].x, (0.0898420131, -0.7126564030), atol=1e-10)
    np.testing.assert_allclose(glob[1].x, (-0.0898420131, 0.7126564030), atol=1e-10)


def test_ackley_origin_is_a_cone_tip():
    """Gradient 0 at the origin by definition; nearby its norm is about the cone slope 2√2 in every direction."""
    obj = get_objective("ackley")
    np.testing.assert_array_equal(obj.gradient(np.zeros(2)), [0.0, 0.0])
    assert obj.value(np.zeros(2)) == pytest.approx(0.0, abs=1e-14)
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    ring = 1e-9 * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    g = obj.gradient(ring)
    np.testing.assert_allclose(np.linalg.norm(g, axis=-1), 2 * np.sqrt(2), rtol=1e-6)
    np.testing.assert_allclose(g / np.linalg.norm(g, axis=-1, keepdims=True), ring / 1e-9, atol=1e-6)  # outward
    assert np.all(obj.value(ring) > obj.value(np.zeros(2)))
    assert np.isnan(obj.hessian(np.zeros((3, 2)))).all()
    assert np.isfinite(obj.hessian(ring)).all()
    assert "not differentiable" in obj.notes.lower()


@pytest.mark.parametrize("r", [1e-2, 1e-4, 1e-6, 1e-8])
def test_ackley_derivatives_near_the_tip(r):
    """Close to the origin, with a step proportional to the distance."""
    obj = get_objective("ackley")
    angles = np.linspace(0.1, 2 * np.pi, 7, endpoint=False)
    pts = r * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    assert gradient_mismatch(obj, pts, h=1e-3 * r).max() < GRAD_RTOL
    assert hessian_mismatch(obj, pts, h=1e-3 * r).max() < 1e-5


def test_monkey_saddle_is_neither_minimum_nor_maximum():
    obj = get_objective("monkey-saddle")
    np.testing.assert_array_equal(obj.hessian(np.zeros(2)), np.zeros((2, 2)))
    t = 1e-3
    assert obj.value(np.array([t, 0.0])) > 0 > obj.value(np.array([-t, 0.0]))


# --- parameters and errors ---------------------------------------------------------------------

def test_quadratic_kappa():
    obj = get_objective("quadratic", {"kappa": 100})
    assert obj.params["kappa"] == 100
    np.testing.assert_array_equal(obj.hessian(np.array([0.3, -2.0])), [[1, 0], [0, 100]])
    assert obj.value(np.array([2.0, 1.0])) == 0.5 * (4 + 100)
    assert get_objective("quadratic").params["kappa"] == 10
    assert "kappa=100" in repr(obj)


@pytest.mark.parametrize("kappa", [0, -1, float("nan"), float("inf")])
def test_quadratic_bad_kappa(kappa):
    with pytest.raises(ValueError, match="kappa") as info:
        get_objective("quadratic", {"kappa": kappa})
    assert "outside" in str(info.value)


def test_unknown_parameter_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"no parameter 'k'.*valid: kappa"):
        get_objective("quadratic", {"k": 3})
    with pytest.raises(ValueError, match=r"valid: none"):
        get_objective("rosenbrock", {"a": 1})


def test_unknown_objective_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown objective 'rosenbrok'") as info:
        get_objective("rosenbrok")
    for name in NAMES:
        assert name in str(info.value)
