r"""Critical points and the second-derivative test.

:func:`classify` and :func:`det_trace_test` give the test's verdict from a Hessian; :func:`hessian_info`
the curvature at one point; :func:`find_critical_points` all critical points in a view domain
(vectorised damped Newton on ∇f = 0); :func:`critical_points` the same merged with an objective's
listed (closed-form) ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdstudio.core.analysis._common import _point, _resolution
from gdstudio.core.gradients import Problem
from gdstudio.core.objectives import CRITICAL_KINDS, CriticalPoint, Objective

#: Verdicts of the second-derivative test (``"inconclusive"`` is a degenerate critical point).
VERDICTS = ("minimum", "maximum", "saddle", "inconclusive")

#: Default tolerance on eigenvalues: ``|λ| ≤ tol`` counts as zero.
EIGEN_TOL = 1e-8


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
