r"""See why: the calculus behind every picture, computed without a screen.

Each function here returns plain arrays (or small frozen records of arrays) that a view draws as they
are; no view computes mathematics of its own.

============================ =============================================================================
:func:`classify`             the second-derivative test's verdict from the Hessian's eigenvalues
:func:`hessian_info`         Hessian, eigen-decomposition, verdict and (2-D) the det/trace test at a point
:func:`find_critical_points` all critical points in the view domain (vectorised damped Newton on ∇f = 0)
:func:`critical_points`      the same, merged with the objective's listed (closed-form) critical points
:func:`explain_step`         what happened at step k of a run: point, gradient, update, optimizer state
:class:`RunExplainer`        the same, replaying a run once and answering any step in O(1) afterwards
:func:`tangent_plane`        f(x) + ∇f(x)·h on a small square around x
:func:`quadratic_model`      f + g·h + ½hᵀHh around x, and the Newton step −H⁻¹g (or BFGS's −Bg)
:func:`line_profile`         f(x + t d) against t (the line-search chart)
:func:`step_line_search`     that chart for one explained step: the direction searched, tried and chosen t
:func:`principal_axes`       f along the Hessian's eigenvectors through x (the curvature axes)
:func:`gradient_direction`   a unit direction at an angle from −∇f (the linear-approximation direction)
:func:`fd_error_curve`       finite-difference gradient error against the step h (log-log)
:func:`linear_approximation` f(x + hu) against f(x) + h∇f·u and the squared error against h
============================ =============================================================================

Points follow the objectives' convention: shape ``(d,)`` for one point, ``(..., d)`` for many. Grids
for drawing follow :meth:`~gdstudio.core.objectives.Objective.grid`: ``z[i, j]`` is the value at
``(xs[i], ys[j])`` (x along the first axis).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from gdstudio.core.gradients import Problem, relative_error
from gdstudio.core.objectives import CRITICAL_KINDS, CriticalPoint, Objective
from gdstudio.core.runs import Run, RunConfig

#: Verdicts of the second-derivative test (``"inconclusive"`` is a degenerate critical point).
VERDICTS = ("minimum", "maximum", "saddle", "inconclusive")

#: Default tolerance on eigenvalues: ``|λ| ≤ tol`` counts as zero.
EIGEN_TOL = 1e-8

_EPS = np.finfo(float).eps


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


def _point(x, dim: int) -> np.ndarray:
    p = np.array(x, dtype=float).reshape(-1)
    if p.shape != (dim,):
        raise ValueError(f"a point needs {dim} coordinates, got shape {np.shape(x)}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"the point {p.tolist()} is not finite")
    return p


def _extent(extent) -> float:
    try:
        e = float(extent)
    except (TypeError, ValueError):
        raise ValueError(f"extent must be a positive number, got {extent!r}") from None
    if not (math.isfinite(e) and e > 0):
        raise ValueError(f"extent must be a positive number, got {extent!r}")
    return e


def _resolution(resolution, low: int = 2) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < low:
        raise ValueError(f"resolution must be a whole number ≥ {low}, got {resolution!r}")
    return int(resolution)


def _square_grid(x: np.ndarray, extent: float, resolution: int):
    """``xs, ys, h`` for the square ``x ± extent``: ``h[i, j] = (xs[i], ys[j]) − x`` of shape (R, R, 2)."""
    if len(x) != 2:
        raise ValueError(f"grids are drawn for two-dimensional objectives only, this one has d = {len(x)}")
    t = np.linspace(-extent, extent, resolution)
    h = np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1)
    return x[0] + t, x[1] + t, h


# ------------------------------------------------------------------------------------------------
# 1. The second-derivative test
# ------------------------------------------------------------------------------------------------
def _verdict_codes(eigenvalues: np.ndarray, tol: float) -> np.ndarray:
    """Index into :data:`VERDICTS` for eigenvalues of shape ``(..., d)`` (NaN → inconclusive)."""
    lam = np.asarray(eigenvalues, dtype=float)
    finite = np.all(np.isfinite(lam), axis=-1)
    with np.errstate(invalid="ignore"):
        pos = np.any(lam > tol, axis=-1)
        neg = np.any(lam < -tol, axis=-1)
        allpos = np.all(lam > tol, axis=-1)
        allneg = np.all(lam < -tol, axis=-1)
    code = np.full(lam.shape[:-1], 3, dtype=int)
    code[allpos] = 0
    code[allneg] = 1
    code[pos & neg] = 2
    code[~finite] = 3
    return code


def classify(hessian, tol: float = EIGEN_TOL):
    r"""The second-derivative test: what kind of critical point a Hessian describes.

    With the eigenvalues :math:`\lambda_1 \le \dots \le \lambda_d` of the symmetric Hessian
    :math:`H = \nabla^2 f(x^*)` at a critical point :math:`x^*` (where :math:`\nabla f(x^*) = 0`),
    Taylor's theorem gives :math:`f(x^* + h) = f(x^*) + \tfrac12 h^\top H h + o(\|h\|^2)` and, along
    the eigenvector :math:`v_i`, :math:`\tfrac12 h^\top H h = \tfrac12 \lambda_i t^2` for
    :math:`h = t v_i`. Hence

    * all :math:`\lambda_i > \text{tol}`: ``"minimum"`` (the surface curves up in every direction);
    * all :math:`\lambda_i < -\text{tol}`: ``"maximum"``;
    * some :math:`\lambda_i > \text{tol}` and some :math:`\lambda_j < -\text{tol}`: ``"saddle"``;
    * otherwise (some :math:`|\lambda_i| \le \text{tol}`, the others of one sign): ``"inconclusive"``.

    "Inconclusive" means the quadratic term vanishes along some direction and higher-order terms
    decide (the monkey saddle :math:`x^3 - 3xy^2` at the origin, where :math:`H = 0`); a point
    with one positive and one negative eigenvalue is a saddle whatever the zero ones do.

    Parameters
    ----------
    hessian : array_like, shape (d, d) or (..., d, d)
        Symmetric Hessian(s). Only the lower triangle is read (``numpy.linalg.eigh``).
    tol : float
        Eigenvalues with ``|λ| ≤ tol`` count as zero. Absolute: scale it with the problem
        (:func:`find_critical_points` uses ``1e-6`` times the Hessian's typical size over the domain).

    Returns
    -------
    str or ndarray of str
        One of :data:`VERDICTS` for a single Hessian, an array of them for a stack. Non-finite
        Hessians are ``"inconclusive"``.

    Examples
    --------
    >>> classify([[2.0, 0.0], [0.0, -2.0]])
    'saddle'
    >>> classify([[0.0, 0.0], [0.0, 0.0]])
    'inconclusive'
    """
    h = np.asarray(hessian, dtype=float)
    if h.ndim < 2 or h.shape[-1] != h.shape[-2]:
        raise ValueError(f"a Hessian must have shape (..., d, d), got {h.shape}")
    if not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a number ≥ 0, got {tol!r}")
    lam = _eigvalsh(h)
    names = np.array(VERDICTS)[_verdict_codes(lam, tol)]
    return str(names) if h.ndim == 2 else names


def _eigvalsh(h: np.ndarray) -> np.ndarray:
    """Eigenvalues of symmetric matrices ``(..., d, d)``; rows with non-finite entries give NaN."""
    finite = np.all(np.isfinite(h), axis=(-1, -2))
    safe = np.where(finite[..., None, None], h, 0.0)
    lam = np.linalg.eigvalsh(safe)
    return np.where(finite[..., None], lam, np.nan)


def _eigh(h: np.ndarray):
    finite = np.all(np.isfinite(h), axis=(-1, -2))
    safe = np.where(finite[..., None, None], h, 0.0)
    lam, vec = np.linalg.eigh(safe)
    return np.where(finite[..., None], lam, np.nan), np.where(finite[..., None, None], vec, np.nan)


def det_trace_test(hessian, tol: float = EIGEN_TOL) -> str:
    r"""The 2 × 2 second-derivative test from the determinant and the trace, as taught in calculus.

    For :math:`H = \begin{pmatrix} a & b \\ b & c \end{pmatrix}` with eigenvalues
    :math:`\lambda_1, \lambda_2`: :math:`\det H = ac - b^2 = \lambda_1 \lambda_2` and
    :math:`\operatorname{tr} H = a + c = \lambda_1 + \lambda_2`. So

    * :math:`\det H < 0`: the eigenvalues have opposite signs, a saddle;
    * :math:`\det H > 0` and :math:`\operatorname{tr} H > 0` (equivalently :math:`a > 0`): a minimum;
    * :math:`\det H > 0` and :math:`\operatorname{tr} H < 0`: a maximum;
    * :math:`\det H = 0`: inconclusive.

    "Zero" uses the same tolerance as :func:`classify`: the smaller eigenvalue in absolute value is
    :math:`|\det H| / \rho` with the spectral radius
    :math:`\rho = \tfrac12(|\operatorname{tr} H| + \sqrt{\operatorname{tr}^2 H - 4\det H})`, so
    :math:`|\det H| \le \text{tol}\cdot\rho` counts as :math:`\det H = 0`. The verdict agrees with
    :func:`classify` (up to rounding exactly at the tolerance).
    """
    h = np.asarray(hessian, dtype=float)
    if h.shape != (2, 2):
        raise ValueError(f"the det/trace test is for 2 × 2 Hessians, got shape {h.shape}")
    if not np.all(np.isfinite(h)):
        return "inconclusive"
    a, b, c = h[0, 0], 0.5 * (h[0, 1] + h[1, 0]), h[1, 1]
    det, tr = a * c - b * b, a + c
    rho = 0.5 * (abs(tr) + math.sqrt(max(tr * tr - 4 * det, 0.0)))
    if abs(det) <= tol * rho or rho <= tol:
        return "inconclusive"
    if det < 0:
        return "saddle"
    return "minimum" if tr > 0 else "maximum"


@dataclass(frozen=True)
class HessianInfo:
    r"""The curvature of ``f`` at one point: Hessian, its eigen-decomposition and the test's verdict.

    Attributes
    ----------
    point : ndarray (d,)
    hessian : ndarray (d, d)
    eigenvalues : ndarray (d,)
        Ascending (``numpy.linalg.eigh``). Each is the curvature :math:`v^\top H v` along its
        eigenvector :math:`v`.
    eigenvectors : ndarray (d, d)
        Column ``i`` is the unit eigenvector of ``eigenvalues[i]`` (draw them as principal axes).
    verdict : str
        :func:`classify`'s verdict. It describes the point only if the gradient vanishes there;
        elsewhere it describes the local shape (bowl, cap, saddle) of the quadratic model.
    gradient : ndarray (d,)
    det, trace : float
        :math:`\det H = \prod \lambda_i` and :math:`\operatorname{tr} H = \sum \lambda_i`.
    det_trace_verdict : str or None
        :func:`det_trace_test`'s verdict for d = 2 (None otherwise).
    tol : float
        The eigenvalue tolerance used.
    """

    point: np.ndarray
    hessian: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    verdict: str
    gradient: np.ndarray
    det: float
    trace: float
    det_trace_verdict: str | None
    tol: float

    @property
    def is_critical(self) -> bool:
        """Whether ``‖∇f‖`` is negligible against the curvature scale (``≤ 1e-8 (1 + ρ)``)."""
        rho = float(np.nanmax(np.abs(self.eigenvalues))) if np.all(np.isfinite(self.eigenvalues)) else 0.0
        return bool(np.linalg.norm(self.gradient) <= 1e-8 * (1.0 + rho))

    @property
    def agrees(self) -> bool | None:
        """Whether the det/trace test gives the eigenvalue verdict (None when d ≠ 2)."""
        return None if self.det_trace_verdict is None else self.det_trace_verdict == self.verdict

    def explanation(self) -> str:
        """One paragraph a student can read: eigenvalues, the verdict and, for 2-D, det and trace."""
        lam = ", ".join(f"{v:.4g}" for v in self.eigenvalues)
        text = f"eigenvalues of the Hessian: {lam} → {self.verdict}"
        if self.det_trace_verdict is not None:
            text += (f"; det H = λ₁λ₂ = {self.det:.4g}, tr H = λ₁ + λ₂ = {self.trace:.4g} → "
                     f"{self.det_trace_verdict}"
                     + (" (the two tests agree)" if self.agrees else " (differs at the tolerance)"))
        if not self.is_critical:
            text += f"; ∇f ≠ 0 here (‖∇f‖ = {np.linalg.norm(self.gradient):.3g}): not a critical point"
        return text


def hessian_info(objective: Objective, x, tol: float = EIGEN_TOL) -> HessianInfo:
    """:class:`HessianInfo` of ``objective`` at the point ``x`` (analytic Hessian, else finite differences)."""
    problem = Problem(objective)
    p = _point(x, objective.dim)
    with np.errstate(all="ignore"):
        h = np.asarray(problem.hessian(p[None]), dtype=float)[0]
        g = np.asarray(problem.gradient(p[None]), dtype=float)[0]
    h = 0.5 * (h + h.T)
    lam, vec = _eigh(h)
    verdict = str(np.array(VERDICTS)[_verdict_codes(lam, tol)])
    dt = det_trace_test(h, tol) if objective.dim == 2 else None
    det = float(np.prod(lam)) if objective.dim != 2 else float(h[0, 0] * h[1, 1] - h[0, 1] * h[1, 0])
    return HessianInfo(p, h, lam, vec, verdict, g, det, float(np.trace(h)), dt, tol)


# ------------------------------------------------------------------------------------------------
# 2. Critical points
# ------------------------------------------------------------------------------------------------
_KIND_OF_VERDICT = {"minimum": "minimum", "maximum": "maximum", "saddle": "saddle", "inconclusive": "degenerate"}
_BACKTRACK = 0.5 ** np.arange(6)  # trial fractions of the Newton step: 1, 1/2, ..., 1/32


def _domain(objective: Objective, domain) -> np.ndarray:
    dom = np.asarray(domain if domain is not None else objective.domain, dtype=float)
    if dom.ndim != 2 or dom.shape[1] != 2 or len(dom) != objective.dim:
        raise ValueError(f"the domain needs one (low, high) pair per coordinate ({objective.dim}), "
                         f"got {np.shape(domain if domain is not None else objective.domain)}")
    if not np.all(np.isfinite(dom)) or np.any(dom[:, 1] <= dom[:, 0]):
        raise ValueError(f"each domain pair must be finite with low < high, got {dom.tolist()}")
    return dom


def _merge(points: np.ndarray, gnorm: np.ndarray, radius: float) -> np.ndarray:
    """Indices of one representative (smallest ‖∇f‖) per cluster of points within ``radius``.

    One vectorised pass per distinct critical point (a handful), never per seed.
    """
    order = np.argsort(gnorm, kind="stable")
    pts = points[order]
    left = np.ones(len(pts), dtype=bool)
    keep = []
    while left.any():
        i = int(np.argmax(left))  # the best remaining point
        keep.append(order[i])
        near = np.linalg.norm(pts - pts[i], axis=-1) <= radius
        left &= ~near
    return np.array(keep, dtype=int)


def find_critical_points(objective: Objective, resolution: int = 24, domain=None, *,
                         max_iter: int = 100, merge: float = 1e-4, extra_seeds=None) -> tuple[CriticalPoint, ...]:
    r"""All critical points (:math:`\nabla f = 0`) of ``objective`` in its view domain, classified.

    Method: a ``resolution``\ :sup:`d` grid of seeds (cell centres) over the domain runs a damped
    Newton iteration on the system :math:`F(x) = \nabla f(x) = 0`, whose Jacobian is the Hessian
    :math:`H`, all seeds at once. In the eigenbasis :math:`H = V \Lambda V^\top` the step is

    .. math::

        s = -V \,\operatorname{diag}\!\Big(\frac{\lambda_i}{\lambda_i^2 + \mu}\Big) V^\top \nabla f(x)

    (Levenberg–Marquardt on :math:`\tfrac12\|\nabla f\|^2`; with :math:`\mu = (10^{-12} S)^2`, for
    the Hessian scale :math:`S`, this is Newton's :math:`-H^{-1}\nabla f` except on singular
    directions), its length capped at a quarter of the domain's half-diagonal, and the point moves to
    :math:`x + t s` for the first :math:`t \in \{1, \tfrac12, \dots, \tfrac1{32}\}` that lowers
    :math:`\|\nabla f\|` (a row where none does has stalled and stops). Newton converges to critical
    points of every kind — minima, maxima and saddles alike — quadratically when :math:`H` is
    invertible there and linearly at degenerate ones.

    A seed counts when it converged inside the domain with
    :math:`\|\nabla f\| \le 10^{-8} G` (:math:`G` the median gradient norm over the seeds). Points
    closer than ``merge`` times the domain's diagonal are one point (kept: the smallest gradient).
    Each is classified by :func:`classify` with ``tol = 1e-6 S`` (:math:`S` the median spectral
    radius of the Hessian over the seeds); ``"inconclusive"`` becomes the kind ``"degenerate"``.

    Parameters
    ----------
    objective : Objective
    resolution : int
        Seeds per axis. A critical point is found when some seed lies in its basin of Newton
        attraction; 24 finds every listed critical point of the built-ins except Rastrigin's
        hundreds (raise it for such).
    domain : sequence of (low, high), optional
        Defaults to ``objective.domain``.
    max_iter : int
        Newton iterations (all seeds together).
    merge : float
        Deduplication radius, relative to the domain's diagonal.
    extra_seeds : array_like (M, d), optional
        More starts besides the grid (e.g. the rough positions in ``objective.critical_points()``).

    Returns
    -------
    tuple of CriticalPoint
        Sorted by kind in the order of :data:`~gdstudio.core.objectives.CRITICAL_KINDS` (minima
        first), then by value, then by coordinates. Labels: ``"lowest minimum in view"`` for the
        minima of the smallest value, ``"local minimum"``, ``"local maximum"``, ``"saddle point"``,
        ``"degenerate (second-derivative test inconclusive)"``.

    Notes
    -----
    Deterministic (no randomness). A curve of critical points (e.g. a ring of minima) is reported as
    many degenerate points along it. Where ``f`` is not differentiable (Ackley's cone tip) Newton
    finds nothing; such points come from ``objective.critical_points()``.
    """
    dom = _domain(objective, domain)
    res = _resolution(resolution)
    d = objective.dim
    if res**d > 1_000_000:
        raise ValueError(f"resolution {res} gives {res**d} seeds in {d} dimensions; at most 1,000,000")
    problem = Problem(objective)
    width = dom[:, 1] - dom[:, 0]
    diag = float(np.linalg.norm(width))
    axes = [lo + (np.arange(res) + 0.5) * (hi - lo) / res for lo, hi in dom]
    x = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    if extra_seeds is not None:
        more = np.asarray(extra_seeds, dtype=float).reshape(-1, d) if np.size(extra_seeds) else np.empty((0, d))
        if not np.all(np.isfinite(more)):
            raise ValueError("extra_seeds must be finite points")
        x = np.concatenate([x, more])

    def grad(p):
        with np.errstate(all="ignore"):
            return np.asarray(problem.gradient(p), dtype=float)

    def hess(p):
        with np.errstate(all="ignore"):
            h = np.asarray(problem.hessian(p), dtype=float)
        return 0.5 * (h + np.swapaxes(h, -1, -2))

    g = grad(x)
    gn = np.linalg.norm(g, axis=-1)
    h0 = hess(x)
    rho0 = np.max(np.abs(_eigvalsh(h0)), axis=-1)
    g_scale = float(np.nanmedian(np.where(np.isfinite(gn), gn, np.nan))) if np.isfinite(gn).any() else 1.0
    h_scale = float(np.nanmedian(np.where(np.isfinite(rho0), rho0, np.nan))) if np.isfinite(rho0).any() else 1.0
    g_scale = g_scale if g_scale > 0 and math.isfinite(g_scale) else 1.0
    h_scale = h_scale if h_scale > 0 and math.isfinite(h_scale) else 1.0
    mu = (1e-12 * h_scale) ** 2
    max_step = 0.125 * diag
    lo_bound, hi_bound = dom[:, 0] - 0.5 * width, dom[:, 1] + 0.5 * width

    alive = np.isfinite(gn) & (gn > 0)
    for _ in range(max_iter):
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        xa, ga, gna = x[idx], g[idx], gn[idx]
        lam, vec = _eigh(hess(xa))
        ok = np.all(np.isfinite(lam), axis=-1)
        coef = np.where(ok[:, None], lam / (lam * lam + mu), 0.0)
        vec = np.where(ok[:, None, None], vec, 0.0)
        s = -np.einsum("nij,nj,nkj,nk->ni", vec, coef, vec, ga)
        sn = np.linalg.norm(s, axis=-1)
        s *= np.minimum(1.0, max_step / np.where(sn > 0, sn, 1.0))[:, None]
        trial = xa[None] + _BACKTRACK[:, None, None] * s[None]  # (T, n, d): all trials in one call
        gt = grad(trial)
        gnt = np.linalg.norm(gt, axis=-1)
        better = np.isfinite(gnt) & (gnt < gna[None])
        has = better.any(axis=0) & ok & (sn > 0)
        j = np.argmax(better, axis=0)
        cols = np.arange(idx.size)
        x_new = np.where(has[:, None], trial[j, cols], xa)
        x[idx], g[idx], gn[idx] = x_new, np.where(has[:, None], gt[j, cols], ga), np.where(has, gnt[j, cols], gna)
        moved = np.linalg.norm(x_new - xa, axis=-1)
        inside = np.all((x_new >= lo_bound) & (x_new <= hi_bound), axis=-1)
        alive[idx] = has & inside & (moved > 1e-15 * diag) & (gn[idx] > 0)

    slack = 1e-9 * width
    inside = np.all((x >= dom[:, 0] - slack) & (x <= dom[:, 1] + slack), axis=-1)
    good = inside & np.isfinite(gn) & (gn <= 1e-8 * g_scale)
    pts, gns = x[good], gn[good]
    if len(pts) == 0:
        return ()
    pts = pts[_merge(pts, gns, merge * diag)]
    with np.errstate(all="ignore"):
        values = np.asarray(problem.value(pts), dtype=float)
    verdicts = np.array(VERDICTS)[_verdict_codes(_eigvalsh(hess(pts)), 1e-6 * h_scale)]
    kinds = [_KIND_OF_VERDICT[str(v)] for v in verdicts]
    minima = [v for v, k in zip(values, kinds) if k == "minimum"]
    lowest = min(minima) if minima else None
    labels = {"maximum": "local maximum", "saddle": "saddle point",
              "degenerate": "degenerate (second-derivative test inconclusive)"}
    out = []
    for p, v, k in zip(pts, values, kinds):
        if k == "minimum":
            low = lowest is not None and v <= lowest + 1e-9 * max(1.0, abs(lowest))
            label = "lowest minimum in view" if low else "local minimum"
        else:
            label = labels[k]
        out.append(CriticalPoint(tuple(float(c) for c in p), k, float(v), label))
    out.sort(key=lambda c: (CRITICAL_KINDS.index(c.kind), c.value, c.x))
    return tuple(out)


# ------------------------------------------------------------------------------------------------
# 3. What happened at step k
# ------------------------------------------------------------------------------------------------
def _adam_derived(state: Mapping[str, np.ndarray], hp: Mapping[str, Any]) -> dict:
    r"""Adam/AdamW (torch state names): bias-corrected moments and the per-coordinate step size.

    With :math:`t` steps taken, :math:`\hat m = m / (1 - \beta_1^t)`,
    :math:`\hat v = v / (1 - \beta_2^t)` (``v`` the running maximum with AMSGrad) and the
    per-coordinate step size :math:`\varepsilon / (\sqrt{\hat v} + \epsilon)`; the step is
    :math:`-\varepsilon \hat m / (\sqrt{\hat v} + \epsilon)` (plus AdamW's decay).
    """
    t = float(np.asarray(state["step"]).reshape(-1)[0])
    if t < 1:
        return {}
    v = state["max_exp_avg_sq"] if hp.get("amsgrad") else state["exp_avg_sq"]
    m_hat = np.asarray(state["exp_avg"], dtype=float) / (1 - hp["beta1"] ** t)
    v_hat = np.asarray(v, dtype=float) / (1 - hp["beta2"] ** t)
    return {"m̂": m_hat, "√v̂": np.sqrt(v_hat),
            "per-coordinate step ε/(√v̂+ϵ)": hp["lr"] / (np.sqrt(v_hat) + hp["eps"])}


def _rmsprop_derived(state, hp) -> dict:
    r"""RMSprop: the per-coordinate step size :math:`\varepsilon / r` with
    :math:`r = \sqrt{v} + \epsilon` (centered: :math:`\sqrt{v - \bar g^2} + \epsilon`)."""
    v = np.asarray(state["square_avg"], dtype=float)
    if hp.get("centered"):
        ga = np.asarray(state["grad_avg"], dtype=float)
        v = v - ga * ga
    r = np.sqrt(v) + hp["eps"]
    return {"RMS r": r, "per-coordinate step ε/r": hp["lr"] / r}


def _adagrad_derived(state, hp) -> dict:
    r"""Adagrad: the per-coordinate step size :math:`\tilde\varepsilon_k / (\sqrt{s_k} + \epsilon)`."""
    t = float(np.asarray(state["step"]).reshape(-1)[0])
    clr = hp["lr"] / (1 + (t - 1) * hp["lr_decay"]) if t >= 1 else hp["lr"]
    std = np.sqrt(np.asarray(state["sum"], dtype=float)) + hp["eps"]
    return {"√s": std - hp["eps"], "per-coordinate step ε̃/(√s+ϵ)": clr / std}


#: Quantities derived from an optimizer's state for display, by optimizer name. Each takes the
#: one-row state after the step and the hyperparameters and returns named arrays; a state layout it
#: does not know (KeyError) gives nothing, and the raw state is still shown.
DERIVED: dict[str, Callable[[Mapping[str, np.ndarray], Mapping[str, Any]], dict]] = {
    "adam": _adam_derived,
    "adamw": _adam_derived,
    "rmsprop": _rmsprop_derived,
    "adagrad": _adagrad_derived,
}

#: The state key holding a quasi-Newton inverse-Hessian approximation, by optimizer name. The
#: approximation in the state *after* a step is the one that step used (BFGS updates B first).
INVERSE_HESSIAN_KEYS: dict[str, str] = {"bfgs": "B"}


@dataclass(frozen=True)
class StepExplanation:
    r"""What happened at step ``k`` of one start of a run.

    Step ``k`` goes from :math:`x_k` (after ``k`` updates; :math:`x_0` is the start) to
    :math:`x_{k+1}`.

    Attributes
    ----------
    k : int
    x : ndarray (d,)
        :math:`x_k`.
    value : float
        :math:`f(x_k)`.
    gradient : ndarray (d,)
        :math:`\nabla f(x_k)` as the run saw it (analytic or finite differences).
    next_x : ndarray (d,) or None
        :math:`x_{k+1}`; None when the run took no step from :math:`x_k` (it ended there).
    next_value : float or None
    state_before : Mapping[str, ndarray]
        The optimizer's state when it took the step (built by steps ``< k``; the ``init`` state
        for ``k = 0``), one row: e.g. BFGS's inverse-Hessian approximation used for this step.
    state_after : Mapping[str, ndarray]
        The state the step returned (what step ``k + 1`` starts from): e.g. momentum's buffer
        :math:`b_{k+1}` with :math:`x_{k+1} = x_k - \varepsilon b_{k+1}`.
    derived : Mapping[str, ndarray]
        Display quantities computed from ``state_after`` (see :data:`DERIVED`), e.g. Adam's
        per-coordinate step :math:`\varepsilon / (\sqrt{\hat v} + \epsilon)`.
    info : Mapping[str, ndarray]
        The optimizer's per-step extras for this step (e.g. a line search's chosen step and trials).
    last_step : int or None
        The last step the run recorded for this start (None while the replay has not reached the end).
    status, message : str
        How the run ended for this start (known once the run has been replayed to its end; else
        ``"running"``).
    optimizer : str
        The optimizer's name.
    """

    k: int
    x: np.ndarray
    value: float
    gradient: np.ndarray
    next_x: np.ndarray | None
    next_value: float | None
    state_before: Mapping[str, np.ndarray]
    state_after: Mapping[str, np.ndarray]
    derived: Mapping[str, np.ndarray]
    info: Mapping[str, np.ndarray]
    last_step: int | None
    status: str
    message: str
    optimizer: str

    @property
    def neg_gradient(self) -> np.ndarray:
        r""":math:`-\nabla f(x_k)`, the direction of steepest descent."""
        return -self.gradient

    @property
    def update(self) -> np.ndarray | None:
        r"""The step actually taken, :math:`x_{k+1} - x_k` (None if none was)."""
        return None if self.next_x is None else self.next_x - self.x

    @property
    def slope(self) -> float | None:
        r"""First-order change :math:`\nabla f(x_k) \cdot (x_{k+1} - x_k)` (< 0: the step goes downhill)."""
        u = self.update
        return None if u is None else float(self.gradient @ u)

    @property
    def change(self) -> float | None:
        r"""Actual change :math:`f(x_{k+1}) - f(x_k)`."""
        return None if self.next_value is None else self.next_value - self.value

    @property
    def cos_angle(self) -> float | None:
        r"""Cosine of the angle between the step and :math:`-\nabla f` (1: pure steepest descent)."""
        u = self.update
        if u is None:
            return None
        den = np.linalg.norm(u) * np.linalg.norm(self.gradient)
        return float(-(self.gradient @ u) / den) if den > 0 else None

    def vectors(self) -> dict[str, np.ndarray]:
        """Every arrow one can draw at :math:`x_k`, by name, each of shape ``(d,)``.

        ``"∇f"``, ``"−∇f"``, ``"update"`` (if a step was taken), then each state entry of shape
        ``(d,)`` after the step (``"state:<key>"``) and each derived one (``"derived:<name>"``).
        """
        d = len(self.x)
        out = {"∇f": self.gradient, "−∇f": self.neg_gradient}
        if self.next_x is not None:
            out["update"] = self.update
        for key, v in self.state_after.items():
            if np.shape(v) == (d,):
                out[f"state:{key}"] = v
        for key, v in self.derived.items():
            if np.shape(v) == (d,):
                out[f"derived:{key}"] = v
        return out

    def summary(self) -> list[tuple[str, str]]:
        """(label, value) rows of text for a "see why" panel: point, loss, gradient, step, state, info."""

        def fmt(v) -> str:
            a = np.asarray(v, dtype=float)
            if a.ndim == 0:
                return f"{float(a):.6g}"
            a = a[np.isfinite(a)] if a.ndim == 1 and a.size > len(self.x) else a  # NaN-padded trials
            return "(" + ", ".join(f"{c:.6g}" for c in a.reshape(-1)) + ")"

        rows = [("step", str(self.k)), ("x", fmt(self.x)), ("f(x)", fmt(self.value)),
                ("∇f(x)", fmt(self.gradient)), ("‖∇f(x)‖", fmt(np.linalg.norm(self.gradient)))]
        if self.next_x is not None:
            rows += [("step taken Δx", fmt(self.update)), ("‖Δx‖", fmt(np.linalg.norm(self.update)))]
            rows += [("∇f·Δx (first-order change)", fmt(self.slope))]
            if self.next_value is not None:
                rows += [("f(x + Δx) − f(x)", fmt(self.change))]
        rows += [(f"state {k}", fmt(v)) for k, v in self.state_after.items()]
        rows += [(k, fmt(v)) for k, v in self.derived.items()]
        rows += [(f"info {k}", fmt(v)) for k, v in self.info.items()]
        if self.status != "running":
            rows.append(("run", self.message or self.status))
        return rows

    def matrices(self) -> dict[str, np.ndarray]:
        """State entries of shape ``(d, d)`` after the step (e.g. BFGS's ``B``, the one this step used)."""
        d = len(self.x)
        return {k: v for k, v in self.state_after.items() if np.shape(v) == (d, d)}

    @property
    def inverse_hessian(self) -> np.ndarray | None:
        """The quasi-Newton inverse-Hessian approximation this step used (None for other optimizers).

        Pass it to :func:`quadratic_model` as ``inverse_hessian`` to draw the model BFGS believed.
        """
        key = INVERSE_HESSIAN_KEYS.get(self.optimizer)
        return None if key is None else self.state_after.get(key)


class _Columns:
    """Growable per-key arrays: row ``j`` of key ``name`` is record ``j`` (amortised O(1) append).

    A key whose shape changes from one record to the next (e.g. a varying number of trials) falls
    back to a list of rows; a key missing from a record reads as NaN there.
    """

    def __init__(self):
        self.n = 0
        self.cols: dict[str, np.ndarray] = {}
        self.lists: dict[str, list] = {}

    def append(self, row: Mapping[str, np.ndarray]) -> None:
        for key, v in row.items():
            v = np.array(v, dtype=float)
            if key in self.lists:
                self.lists[key] += [np.nan] * (self.n - len(self.lists[key])) + [v]
                continue
            col = self.cols.get(key)
            if col is None:
                col = self.cols[key] = np.full((max(16, 2 * (self.n + 1)),) + v.shape, np.nan)
            elif col.shape[1:] != v.shape:  # irregular: keep this key as a list from now on
                self.lists[key] = list(col[: self.n]) + [v]
                del self.cols[key]
                continue
            if self.n >= len(col):
                grown = np.full((2 * max(len(col), self.n + 1),) + col.shape[1:], np.nan)
                grown[: len(col)] = col
                col = self.cols[key] = grown
            col[self.n] = v
        self.n += 1

    def row(self, j: int) -> dict[str, np.ndarray]:
        out = {k: c[j].copy() for k, c in self.cols.items() if j < len(c)}
        out.update({k: np.array(rows[j]) for k, rows in self.lists.items() if j < len(rows)})
        return out


class _Spy:
    """Stands in for a run's optimizer, recording the state each update receives and what it returns."""

    def __init__(self, inner, owner: RunExplainer):
        self._inner = inner
        self._owner = owner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def init(self, x, g, problem, rng):
        return self._inner.init(x, g, problem, rng)

    def update(self, x, g, state, problem, rng):
        up = self._inner.update(x, g, state, problem, rng)
        self._owner._record_update(state, up)
        return up


class RunExplainer:
    """Replays one start of a run once, keeping every step, and explains any step in O(1).

    The replay is the core :class:`~gdstudio.core.runs.Run` itself (so it is the run the user saw):
    start ``i`` of a config replays as the single-start config from ``starts[i]`` with seed
    ``seed + i``, which the runner guarantees to be identical. The optimizer is wrapped to record
    the state each update received and returned; arrays are stored per key in growable columns
    (one row per step), so 100,000 steps cost a few megabytes. Steps are replayed lazily, only as far
    as asked: scrubbing forward costs the new steps only, backward costs nothing. The replay runs at
    the core runner's speed plus about 15 % (measured: 20,000 Rosenbrock GD steps in 1.0 s against
    0.88 s for the bare run), so the first question about step 100,000 takes a few seconds.

    Thread-safe (one lock); intended for the GUI thread.
    """

    def __init__(self, config: RunConfig, start: int = 0, objective: Objective | None = None):
        n = len(config.starts)
        if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 0 <= start < n:
            raise ValueError(f"start must be a whole number in [0, {n - 1}], got {start!r}")
        self.config = config
        self.start = int(start)
        single = config.replace(starts=(config.starts[self.start],), seed=config.seed + self.start)
        self._run = Run(single, objective)
        self._run.optimizer = _Spy(self._run.optimizer, self)
        self.optimizer_name = self._run.optimizer.name
        self.hp = dict(self._run.optimizer.hp)
        self._iter = iter(self._run)
        self._lock = threading.Lock()
        self._points = _Columns()   # x, loss, grad per recorded step
        self._before = _Columns()   # state received by update j (step j from x_j)
        self._after = _Columns()    # state returned by update j
        self._upd = _Columns()      # x returned by update j, info
        self._finished = False

    def _record_update(self, state, up) -> None:
        self._before.append({k: np.asarray(v)[0] for k, v in state.items()})
        self._after.append({k: np.asarray(v)[0] for k, v in up.state.items()})
        failed = up.failed is not None and bool(np.asarray(up.failed)[0])
        row = {"x": np.full(self._run.objective.dim, np.nan) if failed else np.asarray(up.x, dtype=float)[0]}
        row.update({f"info:{k}": np.asarray(v)[0] for k, v in up.info.items()})
        self._upd.append(row)

    def _advance(self, k: int) -> None:
        while not self._finished and self._points.n <= k:
            try:
                step = next(self._iter)
            except StopIteration:
                self._finished = True
                break
            if step.recorded[0]:
                self._points.append({"x": step.x[0], "loss": step.loss[0], "grad": step.grad[0]})
            if step.ended[0]:
                self._finished = True

    @property
    def recorded(self) -> int:
        """Steps replayed so far (rows 0..recorded−1)."""
        return self._points.n

    def replay_all(self) -> int:
        """Replay to the end of the run; return the last step."""
        with self._lock:
            self._advance(self.config.epochs + 1)
            return self._points.n - 1

    def explain(self, k: int) -> StepExplanation:
        """The :class:`StepExplanation` of step ``k`` (ValueError if the run never reached it)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"step must be a whole number ≥ 0, got {k!r}")
        k = int(k)
        with self._lock:
            self._advance(k + 1)  # one step further, to know x_{k+1}
            n = self._points.n
            if k >= n:
                msg = self._run.message[0]
                raise ValueError(f"step {k} is past the end of the run: it has steps 0 to {n - 1}"
                                 + (f" ({msg})" if msg else ""))
            p = self._points.row(k)
            before = self._before.row(k) if k < self._before.n else {}
            after = self._after.row(k) if k < self._after.n else {}
            upd = self._upd.row(k) if k < self._upd.n else {}
            nxt = self._points.row(k + 1) if k + 1 < n else None
            status = str(self._run.status[0]) if self._finished else "running"
            message = self._run.message[0] if self._finished else ""
        next_x = next_value = None
        if nxt is not None:
            next_x, next_value = nxt["x"], float(nxt["loss"])
        elif "x" in upd and np.all(np.isfinite(upd["x"])):  # the step that ended the run (e.g. off the map)
            next_x = upd["x"]
            with np.errstate(all="ignore"):
                v = float(self._run.problem.value(next_x[None])[0])
            next_value = v if math.isfinite(v) else None
        info = {key[5:]: v for key, v in upd.items() if key.startswith("info:")}
        fn = DERIVED.get(self.optimizer_name)
        derived = {}
        if fn is not None and after:
            try:
                with np.errstate(all="ignore"):
                    derived = {key: np.asarray(v, dtype=float) for key, v in fn(after, self.hp).items()}
            except (KeyError, TypeError, ValueError, IndexError):  # a state layout we do not know: raw only
                derived = {}
        return StepExplanation(
            k=k, x=p["x"], value=float(p["loss"]), gradient=p["grad"], next_x=next_x, next_value=next_value,
            state_before=_frozen(before), state_after=_frozen(after), derived=_frozen(derived),
            info=_frozen(info), last_step=n - 1 if self._finished else None, status=status,
            message=message, optimizer=self.optimizer_name)


_CACHE: OrderedDict[tuple, RunExplainer] = OrderedDict()
_CACHE_SIZE = 4
_CACHE_LOCK = threading.Lock()


def explainer(config: RunConfig, start: int = 0) -> RunExplainer:
    """A cached :class:`RunExplainer` for ``(config, start)`` (the last few configs are kept)."""
    key = (config, start)
    try:
        hash(key)
    except TypeError:  # a config holding an unhashable value: explain without caching
        return RunExplainer(config, start)
    with _CACHE_LOCK:
        ex = _CACHE.get(key)
        if ex is not None:
            _CACHE.move_to_end(key)
            return ex
    ex = RunExplainer(config, start)
    with _CACHE_LOCK:
        _CACHE[key] = ex
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return ex


def explain_step(config: RunConfig, k: int, start: int = 0, objective: Objective | None = None) -> StepExplanation:
    r"""What happened at step ``k`` of start ``start`` of the run ``config``.

    Replays the run with the core's own :class:`~gdstudio.core.runs.Run` (deterministic for a
    seed) and reports :math:`x_k`, :math:`\nabla f(x_k)`, the update actually taken
    :math:`x_{k+1} - x_k`, the optimizer's state before and after the step, and its per-step info.
    Replays are cached per config (:func:`explainer`), so scrubbing through a run costs one replay in
    total, not one per call. Pass ``objective`` for an objective the config cannot rebuild by name
    (not cached then).

    Examples
    --------
    >>> from gdstudio.core.runs import RunConfig
    >>> cfg = RunConfig.create("sphere", "gd", starts=[(1.0, 2.0)], epochs=3, hyperparams={"lr": 0.1})
    >>> e = explain_step(cfg, 0)
    >>> e.gradient, e.update
    (array([2., 4.]), array([-0.2, -0.4]))
    """
    ex = RunExplainer(config, start, objective) if objective is not None else explainer(config, start)
    return ex.explain(k)


# ------------------------------------------------------------------------------------------------
# 4-5. Local models: the tangent plane and the quadratic model
# ------------------------------------------------------------------------------------------------
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


# ------------------------------------------------------------------------------------------------
# 6. Along a line
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineProfile:
    r"""``f`` along the ray :math:`x + t d`: :math:`\varphi(t) = f(x + t d)`.

    ``values[i] = φ(ts[i])``; ``slope = φ'(0) = ∇f(x)·d`` (negative along a descent direction);
    ``tangent[i] = φ(0) + ts[i]·slope``. :meth:`armijo` gives the sufficient-decrease line a
    backtracking line search compares against.
    """

    ts: np.ndarray
    values: np.ndarray
    value: float
    slope: float
    tangent: np.ndarray
    point: np.ndarray
    direction: np.ndarray

    def armijo(self, c: float = 1e-4) -> np.ndarray:
        r"""The Armijo line :math:`\varphi(0) + c\, t\, \varphi'(0)`; a step ``t`` is accepted when
        :math:`\varphi(t)` lies on or below it."""
        return self.value + c * self.ts * self.slope


def line_profile(objective: Objective, x, direction, ts) -> LineProfile:
    r""":math:`\varphi(t) = f(x + t\,d)` for an array of ``t``, in one vectorised evaluation.

    For the line-search chart pass :math:`d = -\nabla f(x)` (then ``t`` is the learning rate) or the
    search direction the optimizer used (e.g. BFGS's :math:`-H_k \nabla f`).
    """
    p = _point(x, objective.dim)
    dvec = np.array(direction, dtype=float).reshape(-1)
    if dvec.shape != p.shape or not np.all(np.isfinite(dvec)):
        raise ValueError(f"direction must be a finite vector of {objective.dim} coordinates, got {direction!r}")
    t = np.asarray(ts, dtype=float).reshape(-1)
    if not np.all(np.isfinite(t)):
        raise ValueError("ts must be finite numbers")
    problem = Problem(objective)
    with np.errstate(all="ignore"):
        vals = np.asarray(problem.value(p + t[:, None] * dvec), dtype=float)
        f0 = float(problem.value(p[None])[0])
        slope = float(np.asarray(problem.gradient(p[None]), dtype=float)[0] @ dvec)
    return LineProfile(t, np.where(np.isfinite(vals), vals, np.nan), f0, slope, f0 + t * slope, p, dvec)


# ------------------------------------------------------------------------------------------------
# 7. Finite-difference error against h
# ------------------------------------------------------------------------------------------------
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


# ------------------------------------------------------------------------------------------------
# 8. The linear approximation and its error
# ------------------------------------------------------------------------------------------------
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


# ------------------------------------------------------------------------------------------------
# 9. Helpers for the "see why" views
# ------------------------------------------------------------------------------------------------
def critical_points(objective: Objective, resolution: int = 24, domain=None) -> tuple[CriticalPoint, ...]:
    """:func:`find_critical_points` seeded with, and merged with, ``objective.critical_points()``.

    The search is seeded with the listed points too, so each listed point inside the domain is found
    and classified by the test; a listed point the search cannot reach (where ``f`` is not
    differentiable, such as Ackley's cone tip) is added as listed. A found point within the merge
    radius (``1e-4`` of the domain's diagonal) of a listed one takes the listed label when it has one,
    and the listed kind when the test was inconclusive there (Ackley's tip: no Hessian, yet a minimum).
    Same order as :func:`find_critical_points`.
    """
    dom = _domain(objective, domain)
    listed = tuple(objective.critical_points())
    seeds = [c.x for c in listed if len(c.x) == objective.dim and np.all(np.isfinite(c.x))]
    found = list(find_critical_points(objective, resolution, dom, extra_seeds=seeds or None))
    radius = 1e-4 * float(np.linalg.norm(dom[:, 1] - dom[:, 0]))
    pts = np.array([c.x for c in found], dtype=float).reshape(-1, objective.dim)
    for c in listed:
        p = np.asarray(c.x, dtype=float)
        if p.shape != (objective.dim,) or not np.all((p >= dom[:, 0]) & (p <= dom[:, 1])):
            continue
        near = np.flatnonzero(np.linalg.norm(pts - p, axis=-1) <= radius) if len(pts) else np.array([], int)
        if near.size:
            i = int(near[0])
            if found[i].kind == "degenerate" and c.kind != "degenerate":  # the test cannot decide; the formula can
                found[i] = c
            elif c.label and found[i].kind == c.kind:
                found[i] = CriticalPoint(found[i].x, found[i].kind, found[i].value, c.label)
        else:
            found.append(c)
            pts = np.vstack([pts, p[None]])
    found.sort(key=lambda c: (CRITICAL_KINDS.index(c.kind) if c.kind in CRITICAL_KINDS else len(CRITICAL_KINDS),
                              c.value, c.x))
    return tuple(found)


#: Optimizers whose steps come from a line search along a direction (their ``info`` has ``t``).
LINE_SEARCH_OPTIMIZERS = ("line-search", "bfgs")


@dataclass(frozen=True)
class StepLineSearch:
    r"""The line-search chart of one step: :math:`\varphi(t) = f(x_k + t\,p_k)` with the trials.

    Attributes
    ----------
    profile : LineProfile
        :math:`\varphi` on ``profile.ts`` (from 0 to a little past the largest trial).
    direction : ndarray (d,)
        :math:`p_k`: :math:`-\nabla f(x_k)` for steepest-descent line search, :math:`-B_k\nabla f(x_k)` for
        BFGS; for other optimizers the update itself (so ``t = 1`` is the step taken).
    direction_label : str
    tried_t, tried_f : ndarray
        The trial steps and :math:`\varphi` there (empty for optimizers without a line search).
    chosen_t : float or None
        The step the optimizer took along ``direction``.
    chosen_f : float or None
    searched : bool
        Whether the optimizer did search (its ``info`` has trials).
    """

    profile: LineProfile
    direction: np.ndarray
    direction_label: str
    tried_t: np.ndarray
    tried_f: np.ndarray
    chosen_t: float | None
    chosen_f: float | None
    searched: bool

    @property
    def zoom(self) -> float:
        """A ``t`` range ``[0, zoom]`` that shows the chosen step well: 4·t when the search shrank t more
        than fourfold, else the whole profile."""
        top = float(self.profile.ts[-1]) if self.profile.ts.size else 1.0
        t = self.chosen_t
        return 4 * t if t and 0 < 4 * t < top else top


def step_line_search(objective: Objective, step: StepExplanation, n: int = 121) -> StepLineSearch | None:
    r"""The line-search chart of an explained step (None when no direction is known).

    For a line search :math:`x_{k+1} = x_k + t\,p_k` the direction is recovered exactly from the step and
    the chosen ``t`` in ``step.info``: :math:`p_k = (x_{k+1} - x_k)/t` (which is :math:`-\nabla f` for
    ``line-search`` and :math:`-B_k \nabla f` for BFGS). With no step taken (a failed search) it is
    :math:`-B_k\nabla f` (BFGS) or :math:`-\nabla f`. Other optimizers get :math:`\varphi(t) = f(x_k + t\,
    \Delta x)` with ``t = 1`` the step taken. ``profile.ts`` runs from 0 to 1.25 times the largest
    trial (or 2 for other optimizers), ``n`` points, plus ``n`` points on :math:`[0, 4t]` when the chosen
    ``t`` is far below the largest trial (so the chart can zoom on it: :attr:`StepLineSearch.zoom`).
    """
    n = _resolution(n)
    info = step.info
    tried_t = np.asarray(info.get("tried_t", np.empty(0)), dtype=float).reshape(-1)
    tried_f = np.asarray(info.get("tried_f", np.empty(0)), dtype=float).reshape(-1)
    if tried_f.shape != tried_t.shape:
        tried_t, tried_f = np.empty(0), np.empty(0)
    m = np.isfinite(tried_t)  # NaN-padded
    tried_t, tried_f = tried_t[m], tried_f[m]
    t = info.get("t")
    t = float(np.asarray(t).reshape(-1)[0]) if t is not None and np.size(t) else None
    searched = t is not None and step.optimizer in LINE_SEARCH_OPTIMIZERS
    upd = step.update
    if searched:
        if upd is not None and t and t > 0 and np.all(np.isfinite(upd)):
            p = upd / t
        elif step.inverse_hessian is not None and np.all(np.isfinite(step.inverse_hessian)):
            p = -np.asarray(step.inverse_hessian) @ step.gradient
        else:
            p = step.neg_gradient
        label = "−B∇f (quasi-Newton direction)" if step.optimizer == "bfgs" else "−∇f (steepest descent)"
        top = max(float(np.max(tried_t)) if tried_t.size else 0.0, t or 0.0) or 1.0
        ts = np.linspace(0.0, 1.25 * top, n)
        if t and 0 < 4 * t < top:  # backtracking shrank t by decades: sample its neighbourhood densely too
            ts = np.union1d(ts, np.linspace(0.0, 4 * t, n))
    else:
        if upd is None or not np.all(np.isfinite(upd)) or not np.any(upd):
            return None
        p, label, t = upd, "Δx (the step taken)", 1.0
        ts = np.linspace(0.0, 2.0, n)
        tried_t, tried_f = np.empty(0), np.empty(0)
    if not np.all(np.isfinite(p)) or not np.any(p):
        return None
    prof = line_profile(objective, step.x, p, np.union1d(ts, tried_t) if tried_t.size else ts)
    chosen_f = None
    if t is not None:
        chosen_f = step.next_value if step.next_value is not None else None
    return StepLineSearch(prof, np.asarray(p, dtype=float), label, tried_t, tried_f, t, chosen_f, searched)


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


__all__ = [
    "DERIVED",
    "EIGEN_TOL",
    "INVERSE_HESSIAN_KEYS",
    "LINE_SEARCH_OPTIMIZERS",
    "VERDICTS",
    "FDErrorCurve",
    "HessianInfo",
    "LineProfile",
    "LinearApproximation",
    "PrincipalAxes",
    "QuadraticModel",
    "RunExplainer",
    "StepExplanation",
    "StepLineSearch",
    "TangentPlane",
    "classify",
    "critical_points",
    "det_trace_test",
    "explain_step",
    "explainer",
    "fd_error_curve",
    "find_critical_points",
    "gradient_direction",
    "hessian_info",
    "line_profile",
    "linear_approximation",
    "principal_axes",
    "quadratic_model",
    "step_line_search",
    "tangent_plane",
]
