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

For a model (a classifier's loss over its flat parameter vector θ), :mod:`.model_step` explains a training
step: :func:`~.model_step.explain_model_step` (loss, gradient, update, effective step, cos∠(Δθ, −∇L)),
:func:`~.model_step.model_line_search` (the loss along the update, its minimiser, the linear approximation) and
:func:`~.model_step.model_gradient_check` (analytic against central differences on random coordinates).

Points follow the objectives' convention: shape ``(d,)`` for one point, ``(..., d)`` for many. Grids
for drawing follow :meth:`~gdstudio.core.objectives.Objective.grid`: ``z[i, j]`` is the value at
``(xs[i], ys[j])`` (x along the first axis).

The package is split by topic; every name is importable from ``gdstudio.core.analysis``:

================================== ===============================================================
:mod:`.critical`                   the second-derivative test and critical points
:mod:`.steps`                      step explanation (:func:`explain_step`, :class:`RunExplainer`)
:mod:`.local_models`               tangent plane, quadratic model, principal axes
:mod:`.lines`                      line profiles and a step's line-search chart
:mod:`.model_step`                 a training step of a model explained (imported on its own)
:mod:`gdstudio.core.approximation` finite-difference error and linear-approximation curves
================================== ===============================================================
"""

from __future__ import annotations

from gdstudio.core.analysis.critical import (
    EIGEN_TOL,
    VERDICTS,
    HessianInfo,
    classify,
    critical_points,
    det_trace_test,
    find_critical_points,
    hessian_info,
)
from gdstudio.core.analysis.lines import LineProfile, StepLineSearch, line_profile, step_line_search
from gdstudio.core.analysis.local_models import (
    PrincipalAxes,
    QuadraticModel,
    TangentPlane,
    principal_axes,
    quadratic_model,
    tangent_plane,
)
from gdstudio.core.analysis.steps import _Columns, RunExplainer, StepExplanation, explain_step, explainer  # noqa: F401
from gdstudio.core.approximation import (
    FDErrorCurve,
    LinearApproximation,
    fd_error_curve,
    gradient_direction,
    linear_approximation,
)

__all__ = [
    "EIGEN_TOL",
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
