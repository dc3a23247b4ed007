r"""Along a line: :func:`line_profile` (φ(t) = f(x + t d)) and the line-search chart of a step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdstudio.core.analysis._common import _point, _resolution
from gdstudio.core.analysis.steps import StepExplanation
from gdstudio.core.gradients import Problem
from gdstudio.core.objectives import Objective


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
    searched = t is not None and step.searches_line
    upd = step.update
    if searched:
        if upd is not None and t and t > 0 and np.all(np.isfinite(upd)):
            p = upd / t
        elif step.inverse_hessian is not None and np.all(np.isfinite(step.inverse_hessian)):
            p = -np.asarray(step.inverse_hessian) @ step.gradient
        else:
            p = step.neg_gradient
        label = step.search_direction
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
