"""What the "see why" views draw about one step, computed once per selection (no Qt here).

:func:`build_picture` asks :mod:`gdstudio.core.analysis` for everything about an explained step and
returns a :class:`StepPicture`; the overlays (:mod:`gdstudio.gui.views.overlays`) and the inspector
(:mod:`gdstudio.gui.views.inspector`) draw it as it is, and :mod:`gdstudio.gui.see_why` wires the
selection to them. Keeping the picture here lets the views depend on it without depending on the
wiring (the dependency runs one way: see_why → views → step_picture).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdstudio.core import analysis
from gdstudio.core.gradients import GradientCheck, gradient_check
from gdstudio.core.objectives import Objective

#: Arrow colours by vector key (StepExplanation.vectors() names); others cycle through EXTRA_COLORS.
ARROW_COLORS = {"∇f": "#ff5252", "−∇f": "#00e5ff", "update": "#ffffff"}
EXTRA_COLORS = ("#ffd740", "#e040fb", "#69f0ae", "#ffab40")
#: Fraction of the smaller side of the domain used for local pictures (tangent plane, model, axes).
LOCAL_FRACTION = 0.14
#: Gradient-like arrows are scaled so the longest is this fraction of the smaller side of the domain.
ARROW_FRACTION = 0.16


@dataclass(frozen=True)
class Arrow:
    """An arrow at ``tail``: the vector ``vector`` drawn as ``drawn`` (scaled to fit), with its legend text."""

    key: str
    label: str
    short: str
    tail: np.ndarray
    vector: np.ndarray
    drawn: np.ndarray
    color: str


@dataclass(frozen=True)
class StepPicture:
    """Everything the views draw about one selected step (all from :mod:`gdstudio.core.analysis`)."""

    run_id: int
    start: int
    run_label: str
    explanation: analysis.StepExplanation
    extent: float
    arrows: tuple[Arrow, ...]
    tangent: analysis.TangentPlane
    quadratic: analysis.QuadraticModel | None
    quadratic_levels: tuple[float, ...]
    axes: analysis.PrincipalAxes
    eigen_tol: float
    gradcheck: GradientCheck
    fd: analysis.FDErrorCurve
    angle: float
    linear: analysis.LinearApproximation
    linear_profile: analysis.LinearApproximation
    line_search: analysis.StepLineSearch | None


def _fmt_scale(s: float) -> str:
    return "true size" if s == 1 else f"drawn ×{s:.3g}"


def make_arrows(e: analysis.StepExplanation, side: float) -> tuple[Arrow, ...]:
    """The arrows of a step: ∇f and −∇f scaled together to fit the view, the update at its true size,
    each optimizer vector scaled on its own (the scale is in its label)."""
    vectors = e.vectors()
    out = []
    g = vectors["∇f"]
    gn = float(np.linalg.norm(g))
    gscale = ARROW_FRACTION * side / gn if gn > 0 and math.isfinite(gn) else 1.0
    for key, label in (("∇f", "∇f (uphill)"), ("−∇f", "−∇f (steepest descent)")):
        out.append(Arrow(key, f"{label}, {_fmt_scale(gscale)}", key, e.x, vectors[key], vectors[key] * gscale,
                         ARROW_COLORS[key]))
    if "update" in vectors and np.all(np.isfinite(vectors["update"])):
        out.append(Arrow("update", "update Δx, true size", "update Δx", e.x, vectors["update"], vectors["update"],
                         ARROW_COLORS["update"]))
    i = 0
    for key, label in e.arrows.items():  # the optimizer says which of its vectors to draw (Optimizer.shown)
        v = vectors.get(key)
        if v is None or not np.all(np.isfinite(v)):
            continue
        n = float(np.linalg.norm(v))
        s = 0.75 * ARROW_FRACTION * side / n if n > 0 else 1.0
        out.append(Arrow(key, f"{label}, {_fmt_scale(s)}", label.split(" (")[0], e.x, v, v * s, EXTRA_COLORS[i % len(EXTRA_COLORS)]))
        i += 1
    return tuple(out)


def model_levels(q: analysis.QuadraticModel) -> tuple[float, ...]:
    """Contour levels of the model to draw: the one through x, then three towards the model's low side."""
    z = q.z[np.isfinite(q.z)]
    if not z.size:
        return (q.value,)
    lo, hi = float(z.min()), float(z.max())
    if lo < q.value:
        return tuple([q.value] + [q.value - (q.value - lo) * t for t in (0.35, 0.65, 0.9)])
    return tuple([q.value] + [q.value + (hi - q.value) * t for t in (0.35, 0.7)])


def build_picture(objective: Objective, e: analysis.StepExplanation, domain, *, run_id: int = 0, start: int = 0,
                  run_label: str = "", angle: float = 0.0) -> StepPicture:
    """Ask the core everything about step ``e`` (about 10 ms for the built-ins)."""
    (x0, x1), (y0, y1) = domain
    side = min(x1 - x0, y1 - y0)
    extent = LOCAL_FRACTION * side
    upd = e.update
    if upd is not None and np.all(np.isfinite(upd)):
        extent = min(max(extent, 1.25 * float(np.max(np.abs(upd)))), 0.5 * side)
    tangent = analysis.tangent_plane(objective, e.x, extent)
    inv = e.inverse_hessian
    quad = analysis.quadratic_model(objective, e.x, extent, inverse_hessian=inv)
    axes = analysis.principal_axes(objective, e.x, 0.8 * extent)
    rho = float(np.nanmax(np.abs(axes.info.eigenvalues))) if np.isfinite(axes.info.eigenvalues).any() else 0.0
    gc = gradient_check(objective, e.x)
    fd = analysis.fd_error_curve(objective, e.x)
    u = analysis.gradient_direction(e.gradient, angle)
    lin = analysis.linear_approximation(objective, e.x, u, np.logspace(-5, 0, 51) * extent)
    prof = analysis.linear_approximation(objective, e.x, u, np.linspace(-extent, extent, 81))
    return StepPicture(run_id, start, run_label, e, extent, make_arrows(e, side), tangent, quad, model_levels(quad),
                       axes, max(analysis.EIGEN_TOL, 1e-9 * rho), gc, fd, float(angle), lin, prof,
                       analysis.step_line_search(objective, e))
