"""Where a run's gradient comes from: calculus, finite differences or automatic differentiation.

``autodiff`` is reverse-mode automatic differentiation over the objective's formula
(:mod:`gdstudio.core.autodiff`): exact up to rounding, like ``analytic``, but derived by the chain rule
from the recorded operations instead of written by hand.

Schemes, for a step ``h`` along each coordinate axis ``e_i``:

.. math::

    \\text{central:}\\quad \\partial_i f(x) \\approx \\frac{f(x + h e_i) - f(x - h e_i)}{2h}
    \\qquad (\\text{error } O(h^2))

    \\text{forward:}\\quad \\partial_i f(x) \\approx \\frac{f(x + h e_i) - f(x)}{h}
    \\qquad (\\text{error } O(h))

Truncation error falls as ``h`` shrinks while rounding error grows like ``ε_mach / h``; the defaults
sit near the best trade-off for functions of unit scale: ``h ≈ ε_mach^{1/3} ≈ 6e-6`` for central and
``h ≈ ε_mach^{1/2} ≈ 1.5e-8`` for forward differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from gdstudio.core.objectives import Objective

#: Gradient sources a run can use.
GRADIENT_METHODS = ("analytic", "central", "forward", "autodiff")

#: Default finite-difference step per scheme.
DEFAULT_FD_STEP = {"central": 6e-6, "forward": 1.5e-8}


def check_method(method: str) -> str:
    if method not in GRADIENT_METHODS:
        raise ValueError(f"unknown gradient source {method!r} (valid: {', '.join(GRADIENT_METHODS)})")
    return method


def finite_difference(f: Callable[[np.ndarray], np.ndarray], p, h: float, scheme: str = "central") -> np.ndarray:
    """Finite-difference gradient of ``f`` at points ``p`` of shape ``(..., d)``.

    Vectorised over points; loops over the ``d`` coordinates only (each needs its own evaluations).
    """
    if scheme not in DEFAULT_FD_STEP:
        raise ValueError(f"unknown finite-difference scheme {scheme!r} (valid: central, forward)")
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"finite-difference step h must be a positive number, got {h}")
    p = np.asarray(p, dtype=float)
    out = np.empty(p.shape)
    f0 = f(p) if scheme == "forward" else None
    for i in range(p.shape[-1]):
        e = np.zeros(p.shape[-1])
        e[i] = h
        if scheme == "central":
            out[..., i] = (f(p + e) - f(p - e)) / (2 * h)
        else:
            out[..., i] = (f(p + e) - f0) / h
    return out


def finite_difference_hessian(grad: Callable[[np.ndarray], np.ndarray], p, h: float = 1e-5) -> np.ndarray:
    """Hessian by central differences of the gradient, symmetrised: shape ``(..., d, d)``."""
    p = np.asarray(p, dtype=float)
    d = p.shape[-1]
    out = np.empty(p.shape + (d,))
    for i in range(d):
        e = np.zeros(d)
        e[i] = h
        out[..., i, :] = (grad(p + e) - grad(p - e)) / (2 * h)
    return 0.5 * (out + np.swapaxes(out, -1, -2))


@dataclass(frozen=True)
class Problem:
    """An objective seen through one gradient source: what optimizers call.

    ``value``, ``gradient`` and ``hessian`` all take points of shape ``(N, d)``. The Hessian is the
    objective's analytic one when it has it, otherwise central differences of the chosen gradient.
    """

    objective: Objective
    method: str = "analytic"
    h: float | None = None

    def __post_init__(self):
        check_method(self.method)
        if self.method == "autodiff":
            from gdstudio.core.autodiff import objective_graph

            objective_graph(self.objective)  # ValueError now when the objective has no formula
        elif self.method != "analytic":
            h = DEFAULT_FD_STEP[self.method] if self.h is None else float(self.h)
            if not (np.isfinite(h) and h > 0):
                raise ValueError(f"finite-difference step h must be a positive number, got {self.h}")
            object.__setattr__(self, "h", h)

    @property
    def dim(self) -> int:
        return self.objective.dim

    def value(self, x) -> np.ndarray:
        return self.objective.value(x)

    def gradient(self, x) -> np.ndarray:
        if self.method == "analytic":
            return self.objective.gradient(x)
        if self.method == "autodiff":
            from gdstudio.core.autodiff import autodiff_gradient

            return autodiff_gradient(self.objective, x)
        return finite_difference(self.objective.value, x, self.h, self.method)

    def hessian(self, x) -> np.ndarray:
        try:
            return self.objective.hessian(x)
        except NotImplementedError:
            return finite_difference_hessian(self.gradient, x)


@dataclass(frozen=True)
class GradientCheck:
    """Analytic against finite-difference gradients at one point.

    ``relative_error = ‖g_fd − g‖ / max(‖g‖, ‖g_fd‖, tiny)`` (0 when both vanish).
    """

    point: np.ndarray
    analytic: np.ndarray
    central: np.ndarray
    forward: np.ndarray
    h_central: float
    h_forward: float
    error_central: float
    error_forward: float
    autodiff: np.ndarray | None = None  # reverse-mode AD (None when the objective has no formula)
    error_autodiff: float | None = None


def relative_error(approx: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """``‖approx − exact‖ / max(‖approx‖, ‖exact‖)`` along the last axis; 0 where both are 0."""
    num = np.linalg.norm(np.asarray(approx) - np.asarray(exact), axis=-1)
    den = np.maximum(np.linalg.norm(approx, axis=-1), np.linalg.norm(exact, axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def gradient_check(objective: Objective, point, h_central: float | None = None,
                   h_forward: float | None = None) -> GradientCheck:
    """Compare the analytic gradient at ``point`` with central and forward differences and autodiff."""
    p = np.asarray(point, dtype=float)
    hc = DEFAULT_FD_STEP["central"] if h_central is None else h_central
    hf = DEFAULT_FD_STEP["forward"] if h_forward is None else h_forward
    g = objective.gradient(p)
    gc = finite_difference(objective.value, p, hc, "central")
    gf = finite_difference(objective.value, p, hf, "forward")
    from gdstudio.core.autodiff import autodiff_gradient, has_graph

    ga = autodiff_gradient(objective, p) if has_graph(objective) else None
    return GradientCheck(p, g, gc, gf, hc, hf, float(relative_error(gc, g)), float(relative_error(gf, g)),
                         ga, None if ga is None else float(relative_error(ga, g)))
