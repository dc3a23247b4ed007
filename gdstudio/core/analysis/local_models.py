r"""Local models at a point: the tangent plane, the quadratic model and the principal curvature axes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdstudio.core.analysis._common import _extent, _point, _resolution, _square_grid
from gdstudio.core.analysis.critical import HessianInfo, classify, hessian_info
from gdstudio.core.gradients import Problem
from gdstudio.core.objectives import Objective


@dataclass(frozen=True)
class TangentPlane:
    r"""The tangent plane :math:`T(x + h) = f(x) + \nabla f(x) \cdot h` on the square ``x ± extent``.

    ``z[i, j]`` is the plane at ``(xs[i], ys[j])``; ``f`` is the objective on the same grid (to show
    the gap :math:`f - T = \tfrac12 h^\top H h + O(\|h\|^3)`).
    """

    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray
    f: np.ndarray
    point: np.ndarray
    value: float
    gradient: np.ndarray


def tangent_plane(objective: Objective, x, extent: float, resolution: int = 21) -> TangentPlane:
    r"""The tangent plane of a 2-D objective at ``x`` over the square of half-width ``extent``.

    .. math:: T(x + h) = f(x) + \nabla f(x) \cdot h, \qquad \|h\|_\infty \le \text{extent}

    It touches the surface at ``x`` (``T(x) = f(x)``, same slopes there), which is what "the
    gradient is the best linear approximation" means.
    """
    p = _point(x, objective.dim)
    e, r = _extent(extent), _resolution(resolution)
    problem = Problem(objective)
    xs, ys, h = _square_grid(p, e, r)
    with np.errstate(all="ignore"):
        f0 = float(problem.value(p[None])[0])
        g = np.asarray(problem.gradient(p[None]), dtype=float)[0]
        fz = np.asarray(problem.value(p + h), dtype=float)
    return TangentPlane(xs, ys, f0 + h @ g, np.where(np.isfinite(fz), fz, np.nan), p, f0, g)


@dataclass(frozen=True)
class QuadraticModel:
    r"""The quadratic model :math:`m(h) = f + g \cdot h + \tfrac12 h^\top B h` around ``point``.

    Attributes
    ----------
    xs, ys, z : the model on the square grid (``z[i, j]`` at ``(xs[i], ys[j])``)
    f : the objective on the same grid
    point, value, gradient : :math:`x`, :math:`f(x)`, :math:`g = \nabla f(x)`
    hessian : ndarray (d, d)
        :math:`B`: the exact Hessian, or the inverse of a quasi-Newton inverse-Hessian approximation.
    newton_step : ndarray (d,) or None
        :math:`h^* = -B^{-1} g` (or :math:`-H_{\text{approx}}\, g` from an inverse approximation);
        None when :math:`B` is singular. It is the stationary point of the model: its minimum when
        :math:`B` is positive definite, a maximum or saddle of the model otherwise.
    newton_point : ndarray (d,) or None
        :math:`x + h^*`.
    source : str
        ``"hessian"`` (exact) or ``"inverse-approximation"`` (quasi-Newton state).
    verdict : str
        :func:`classify` of :math:`B`: the model's shape (bowl, cap, saddle, or degenerate).
    """

    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray
    f: np.ndarray
    point: np.ndarray
    value: float
    gradient: np.ndarray
    hessian: np.ndarray
    newton_step: np.ndarray | None
    newton_point: np.ndarray | None
    source: str
    verdict: str

    @property
    def newton_value(self) -> float | None:
        r"""The model at its stationary point: :math:`m(h^*) = f + \tfrac12\, g \cdot h^*` (as :math:`Bh^* = -g`)."""
        if self.newton_step is None or not np.all(np.isfinite(self.newton_step)):
            return None
        return float(self.value + 0.5 * self.gradient @ self.newton_step)


def _inverse_or_none(m: np.ndarray, rcond: float = 1e-12) -> np.ndarray | None:
    """``m⁻¹`` for a symmetric matrix, or None when it is singular (``|λ|min ≤ rcond·|λ|max``) or not finite."""
    if not np.all(np.isfinite(m)):
        return None
    lam, vec = np.linalg.eigh(0.5 * (m + m.T))
    big = np.max(np.abs(lam))
    if big == 0 or np.min(np.abs(lam)) <= rcond * big:
        return None
    return (vec / lam) @ vec.T


def quadratic_model(objective: Objective, x, extent: float, resolution: int = 41, *,
                    hessian=None, inverse_hessian=None) -> QuadraticModel:
    r"""The second-order Taylor model of a 2-D objective at ``x`` and its Newton step.

    .. math::

        m(h) = f(x) + \nabla f(x) \cdot h + \tfrac12 h^\top B h, \qquad
        h^* = -B^{-1} \nabla f(x) \quad (\nabla m(h^*) = 0)

    With the exact Hessian :math:`B = \nabla^2 f(x)`, ``m`` equals ``f`` for a quadratic objective
    and :math:`x + h^*` is its critical point (one Newton step solves a quadratic). For BFGS pass
    the optimizer's inverse-Hessian approximation :math:`H_k` from its state as
    ``inverse_hessian``: then :math:`h^* = -H_k \nabla f(x)` (BFGS's search direction) and the
    drawn model uses :math:`B = H_k^{-1}`.

    Parameters
    ----------
    hessian : array_like (d, d), optional
        A Hessian to use instead of the objective's.
    inverse_hessian : array_like (d, d), optional
        An inverse-Hessian approximation (takes precedence over ``hessian``).
    """
    p = _point(x, objective.dim)
    e, r = _extent(extent), _resolution(resolution)
    problem = Problem(objective)
    d = objective.dim
    with np.errstate(all="ignore"):
        f0 = float(problem.value(p[None])[0])
        g = np.asarray(problem.gradient(p[None]), dtype=float)[0]
    if inverse_hessian is not None:
        hinv = np.asarray(inverse_hessian, dtype=float)
        if hinv.shape != (d, d):
            raise ValueError(f"inverse_hessian must have shape ({d}, {d}), got {hinv.shape}")
        hinv = 0.5 * (hinv + hinv.T)
        b = _inverse_or_none(hinv)
        step = -hinv @ g if np.all(np.isfinite(hinv)) else None
        if b is None:
            b = np.full((d, d), np.nan)
        source = "inverse-approximation"
    else:
        if hessian is not None:
            b = np.asarray(hessian, dtype=float)
            if b.shape != (d, d):
                raise ValueError(f"hessian must have shape ({d}, {d}), got {b.shape}")
        else:
            with np.errstate(all="ignore"):
                b = np.asarray(problem.hessian(p[None]), dtype=float)[0]
        b = 0.5 * (b + b.T)
        inv = _inverse_or_none(b)
        step = None if inv is None else -inv @ g
        source = "hessian"
    xs, ys, h = _square_grid(p, e, r)
    with np.errstate(all="ignore"):
        z = f0 + h @ g + 0.5 * np.einsum("...i,ij,...j->...", h, b, h)
        fz = np.asarray(problem.value(p + h), dtype=float)
    verdict = classify(b) if np.all(np.isfinite(b)) else "inconclusive"
    return QuadraticModel(xs, ys, z, np.where(np.isfinite(fz), fz, np.nan), p, f0, g, b, step,
                          None if step is None else p + step, source, verdict)


@dataclass(frozen=True)
class PrincipalAxes:
    r"""``f`` along the Hessian's eigenvectors through ``x``: the principal curvature axes.

    ``points[i]`` (n, d) are :math:`x + t\,v_i` for ``ts``; ``values[i]`` is ``f`` there and
    ``model[i]`` the quadratic model along the axis, :math:`f(x) + t\,\nabla f\cdot v_i + \tfrac12
    \lambda_i t^2`. ``info`` is the :class:`HessianInfo` at ``x``.
    """

    info: HessianInfo
    ts: np.ndarray
    points: np.ndarray
    values: np.ndarray
    model: np.ndarray


def principal_axes(objective: Objective, x, length: float, n: int = 41) -> PrincipalAxes:
    r"""The eigen-axes of the Hessian at ``x``, each sampled over :math:`t \in [-\text{length}, \text{length}]`.

    Along the unit eigenvector :math:`v_i` of eigenvalue :math:`\lambda_i`,
    :math:`f(x + t v_i) = f(x) + t\,\nabla f \cdot v_i + \tfrac12 \lambda_i t^2 + O(t^3)`: the surface
    curves up along axes with :math:`\lambda_i > 0` and down along those with :math:`\lambda_i < 0`.
    """
    info = hessian_info(objective, x)
    e, r = _extent(length), _resolution(n)
    ts = np.linspace(-e, e, r)
    vec = np.where(np.isfinite(info.eigenvectors), info.eigenvectors, 0.0).T  # row i = v_i
    pts = info.point[None, None, :] + ts[None, :, None] * vec[:, None, :]
    problem = Problem(objective)
    with np.errstate(all="ignore"):
        vals = np.asarray(problem.value(pts), dtype=float)
        f0 = float(problem.value(info.point[None])[0])
        model = f0 + ts[None, :] * (vec @ info.gradient)[:, None] + 0.5 * info.eigenvalues[:, None] * ts[None, :] ** 2
    return PrincipalAxes(info, ts, pts, np.where(np.isfinite(vals), vals, np.nan), model)
