r"""How well the derivatives approximate: finite-difference gradient error against h, and the linear
approximation f(x) + h∇f·u against f(x + hu) (companions of :mod:`gdstudio.core.gradients`).

Re-exported by :mod:`gdstudio.core.analysis`, whose "see why" pictures draw them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdstudio.core.gradients import Problem, relative_error
from gdstudio.core.objectives import Objective
from gdstudio.core.objectives.base import as_point as _point

_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class FDErrorCurve:
    r"""Relative error of finite-difference gradients against the analytic one, as a function of h.

    ``central[i]`` and ``forward[i]`` are :math:`\|g_{\text{fd}}(h_i) - \nabla f\| / \max(\|g_{\text{fd}}\|,
    \|\nabla f\|)` (see :func:`gdstudio.core.gradients.relative_error`). An exact 0 (possible when
    rounding cancels) is reported as 0; a log axis should clip it (``floor`` is a convenient value).
    ``h_best_*`` is the measured minimiser, ``h_theory_*`` the textbook optimum
    (:math:`\sqrt{\epsilon_{\text{mach}}}` for forward, :math:`\epsilon_{\text{mach}}^{1/3}` for central,
    for unit-scale ``f``).
    """

    hs: np.ndarray
    central: np.ndarray
    forward: np.ndarray
    h_best_central: float
    h_best_forward: float
    error_best_central: float
    error_best_forward: float
    h_theory_central: float
    h_theory_forward: float
    floor: float = _EPS / 2

    def slope(self, scheme: str, h_low: float, h_high: float) -> float:
        """Least-squares slope of log(error) against log(h) for ``h_low ≤ h ≤ h_high``."""
        err = {"central": self.central, "forward": self.forward}.get(scheme)
        if err is None:
            raise ValueError(f"unknown scheme {scheme!r} (valid: central, forward)")
        m = (self.hs >= h_low) & (self.hs <= h_high) & (err > 0) & np.isfinite(err)
        if m.sum() < 2:
            raise ValueError(f"fewer than two positive errors with {h_low:g} ≤ h ≤ {h_high:g}")
        return float(np.polyfit(np.log(self.hs[m]), np.log(err[m]), 1)[0])


def fd_error_curve(objective: Objective, x, hs=None) -> FDErrorCurve:
    r"""Finite-difference gradient error against the step ``h``: the truncation/rounding trade-off.

    .. math::

        \text{forward: } \frac{f(x + h e_i) - f(x)}{h} = \partial_i f + \frac h2 \partial_i^2 f
            + O(h^2) + O\!\Big(\frac{\epsilon_{\text{mach}} |f|}{h}\Big)

        \text{central: } \frac{f(x + h e_i) - f(x - h e_i)}{2h} = \partial_i f
            + \frac{h^2}{6} \partial_i^3 f + O(h^4) + O\!\Big(\frac{\epsilon_{\text{mach}} |f|}{h}\Big)

    On log-log axes the truncation side (large h) has slope 1 (forward) and 2 (central), the
    rounding side (small h) slope −1; the total is smallest near :math:`h \approx
    \sqrt{\epsilon_{\text{mach}}} \approx 1.5 \cdot 10^{-8}` (forward) and :math:`h \approx
    \epsilon_{\text{mach}}^{1/3} \approx 6 \cdot 10^{-6}` (central) for a function of unit scale. For
    a quadratic the central difference has no truncation error at all (its third derivatives vanish).

    Vectorised over all ``h`` at once (a loop over the d coordinates only).

    Parameters
    ----------
    hs : array_like, optional
        Positive steps; default ``np.logspace(-16, 0, 161)``.
    """
    p = _point(x, objective.dim)
    h = np.logspace(-16, 0, 161) if hs is None else np.asarray(hs, dtype=float).reshape(-1)
    if h.size == 0 or not np.all(np.isfinite(h) & (h > 0)):
        raise ValueError("hs must be positive finite numbers")
    problem = Problem(objective)
    d = objective.dim
    with np.errstate(all="ignore"):
        g = np.asarray(problem.gradient(p[None]), dtype=float)[0]
        f0 = float(problem.value(p[None])[0])
        eye = np.eye(d)
        # the step actually taken is (x + h) − x, which rounding can change; dividing by the true h is
        # part of the error the curve shows, as in gradients.finite_difference
        plus = np.asarray(problem.value(p + h[:, None, None] * eye), dtype=float)   # (H, d)
        minus = np.asarray(problem.value(p - h[:, None, None] * eye), dtype=float)  # (H, d)
        central = (plus - minus) / (2 * h[:, None])
        forward = (plus - f0) / h[:, None]
        ec = relative_error(central, g[None])
        ef = relative_error(forward, g[None])
    ec = np.where(np.isfinite(ec), ec, np.nan)
    ef = np.where(np.isfinite(ef), ef, np.nan)

    def best(err):
        if not np.isfinite(err).any():
            return math.nan, math.nan
        i = int(np.nanargmin(err))
        return float(h[i]), float(err[i])

    hc, ecb = best(ec)
    hf, efb = best(ef)
    return FDErrorCurve(h, ec, ef, hc, hf, ecb, efb, float(_EPS ** (1 / 3)), float(np.sqrt(_EPS)))


@dataclass(frozen=True)
class LinearApproximation:
    r"""``f`` along a unit direction against its linear approximation.

    Attributes
    ----------
    hs : ndarray
    direction : ndarray (d,)
        The unit vector :math:`u = d / \|d\|`.
    actual : ndarray
        :math:`f(x + h u)`.
    linear : ndarray
        :math:`f(x) + h\, \nabla f(x) \cdot u`.
    squared_error : ndarray
        :math:`(f(x + hu) - f(x) - h \nabla f(x) \cdot u)^2`.
    predicted : ndarray
        The leading term :math:`\tfrac{h^4}{4} (u^\top H u)^2` (from
        :math:`f(x + hu) = f(x) + h \nabla f \cdot u + \tfrac{h^2}{2} u^\top H u + O(h^3)`).
    curvature : float
        :math:`u^\top H u`, the second directional derivative.
    """

    hs: np.ndarray
    direction: np.ndarray
    actual: np.ndarray
    linear: np.ndarray
    squared_error: np.ndarray
    predicted: np.ndarray
    curvature: float
    point: np.ndarray
    value: float
    slope: float


def linear_approximation(objective: Objective, x, direction, hs=None) -> LinearApproximation:
    r"""How well :math:`f(x) + h \nabla f(x) \cdot u` predicts :math:`f(x + hu)`, against ``h``.

    .. math::

        f(x + hu) - \big(f(x) + h \nabla f(x)\cdot u\big) = \tfrac{h^2}{2} u^\top H u + O(h^3)
        \quad\Rightarrow\quad \text{squared error} \approx \tfrac{h^4}{4} (u^\top H u)^2

    so on log-log axes the squared error has slope 4 for small ``h`` (until rounding, about
    :math:`(\epsilon_{\text{mach}} |f|)^2`, takes over), and the linear approximation's error
    vanishes faster than ``h`` itself: the definition of the gradient.

    Parameters
    ----------
    direction : array_like (d,)
        Any non-zero vector; it is normalised to ``u``.
    hs : array_like, optional
        Step lengths (default ``np.logspace(-4, 0, 41)``).
    """
    p = _point(x, objective.dim)
    dvec = np.array(direction, dtype=float).reshape(-1)
    norm = float(np.linalg.norm(dvec)) if dvec.shape == p.shape else 0.0
    if dvec.shape != p.shape or not (math.isfinite(norm) and norm > 0):
        raise ValueError(f"direction must be a non-zero finite vector of {objective.dim} coordinates, "
                         f"got {direction!r}")
    u = dvec / norm
    h = np.logspace(-4, 0, 41) if hs is None else np.asarray(hs, dtype=float).reshape(-1)
    if not np.all(np.isfinite(h)):
        raise ValueError("hs must be finite numbers")
    problem = Problem(objective)
    with np.errstate(all="ignore"):
        f0 = float(problem.value(p[None])[0])
        g = np.asarray(problem.gradient(p[None]), dtype=float)[0]
        hm = np.asarray(problem.hessian(p[None]), dtype=float)[0]
        actual = np.asarray(problem.value(p + h[:, None] * u), dtype=float)
    slope = float(g @ u)
    curv = float(u @ hm @ u)
    linear = f0 + h * slope
    return LinearApproximation(h, u, actual, linear, (actual - linear) ** 2, h**4 / 4 * curv**2, curv, p, f0,
                               slope)


def gradient_direction(gradient, angle_deg: float = 0.0) -> np.ndarray:
    r"""The unit vector at ``angle_deg`` (counter-clockwise, degrees) from :math:`-\nabla f` in the plane.

    .. math:: u = R(\theta)\, \frac{-\nabla f}{\|\nabla f\|}, \qquad
        R(\theta) = \begin{pmatrix} \cos\theta & -\sin\theta \\ \sin\theta & \cos\theta \end{pmatrix}

    At a critical point (:math:`\nabla f = 0`) the reference direction is the x axis. Only the first
    two coordinates turn (d > 2 keeps the others at 0 after normalising).
    """
    g = np.array(gradient, dtype=float).reshape(-1)
    if g.size < 2 or not np.all(np.isfinite(g)):
        raise ValueError(f"gradient must be a finite vector of at least 2 coordinates, got {gradient!r}")
    try:
        a = math.radians(float(angle_deg))
    except (TypeError, ValueError):
        raise ValueError(f"angle must be a number of degrees, got {angle_deg!r}") from None
    if not math.isfinite(a):
        raise ValueError(f"angle must be finite, got {angle_deg!r}")
    norm = float(np.linalg.norm(g))
    base = -g / norm if norm > 0 else np.eye(g.size)[0]
    c, s = math.cos(a), math.sin(a)
    out = base.copy()
    out[0], out[1] = c * base[0] - s * base[1], s * base[0] + c * base[1]
    return out / np.linalg.norm(out)
