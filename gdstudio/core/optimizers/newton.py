"""Newton's method: jump to the stationary point of the local quadratic model."""

from __future__ import annotations

import numpy as np

from gdstudio.core.optimizers.base import Curvature, Optimizer, Update, lr_param

#: A Hessian whose condition number |λ|max / |λ|min exceeds this is treated as singular.
COND_MAX = 1e12


def singular_rows(h: np.ndarray, cond_max: float = COND_MAX) -> np.ndarray:
    """Rows of a stack of symmetric matrices ``(N, d, d)`` that are non-finite or (nearly) singular.

    The condition number is taken from the eigenvalues of the symmetric part: ``cond = max|λ| / min|λ|``
    (for d = 2 in closed form, :math:`λ = m \\pm \\sqrt{((a - c)/2)^2 + b^2}` with ``m = (a + c)/2``;
    otherwise one vectorised ``eigvalsh`` over the stack). A row is singular when ``cond > cond_max``
    or ``max|λ| = 0``.
    """
    finite = np.all(np.isfinite(h), axis=(-2, -1))
    if h.shape[-1] == 2:
        with np.errstate(all="ignore"):
            a, c, b = h[:, 0, 0], h[:, 1, 1], 0.5 * (h[:, 0, 1] + h[:, 1, 0])
            mid, rad = 0.5 * (a + c), np.hypot(0.5 * (a - c), b)
            lam = np.abs(np.stack([mid - rad, mid + rad], axis=-1))
    else:
        safe = np.where(finite[:, None, None], h, np.eye(h.shape[-1]))
        lam = np.abs(np.linalg.eigvalsh(0.5 * (safe + np.swapaxes(safe, -1, -2))))
    big, small = lam.max(axis=-1), lam.min(axis=-1)
    return ~finite | ~(small * cond_max >= big) | (big == 0)


def solve(h: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve ``h[i] s[i] = g[i]`` for every row: Cramer's rule for d = 2, batched LAPACK otherwise."""
    if h.shape[-1] == 2:
        a, b, c, d = h[:, 0, 0], h[:, 0, 1], h[:, 1, 0], h[:, 1, 1]
        det = a * d - b * c
        return np.stack([(d * g[:, 0] - b * g[:, 1]) / det, (a * g[:, 1] - c * g[:, 0]) / det], axis=-1)
    return np.linalg.solve(h, g[:, :, None])[:, :, 0]


class Newton(Optimizer):
    r"""Newton's method: step to where the local quadratic model has zero gradient.

    .. math::

        x_{k+1} = x_k - \varepsilon\, H(x_k)^{-1} \nabla f(x_k), \qquad H = \nabla^2 f

    With ε = 1 (the default, "pure" Newton) a quadratic is minimised in one step, and near a
    minimum with positive definite H convergence is quadratic (the number of correct digits
    doubles each step). The lesson is in what it does elsewhere: Newton's step goes to the
    stationary point of the model, which is a *saddle* or a *maximum* when H is indefinite or
    negative definite there — pure Newton is attracted to any critical point, not only minima.

    The step solves :math:`H s = \nabla f` for all rows at once (:func:`solve`: Cramer's rule for
    d = 2, batched ``np.linalg.solve`` on the ``(N, d, d)`` stack from ``problem.hessian`` otherwise). A row whose Hessian is non-finite or singular
    (condition number above 1e12, see :func:`singular_rows`) cannot step: ``Update.failed`` marks it
    with the message "singular Hessian (det ≈ 0)".

    State: none. Reference: Nocedal & Wright (2006), Numerical Optimization, §3.3.

    >>> import numpy as np
    >>> from gdstudio.core.gradients import Problem
    >>> from gdstudio.core.objectives import get_objective
    >>> pb = Problem(get_objective("booth"))
    >>> x = np.array([[-4.0, 7.0]])
    >>> Newton().update(x, pb.gradient(x), {}, pb, None).x    # a quadratic: one step to the minimum
    array([[1., 3.]])
    """

    name = "newton"
    title = "Newton's method"
    rule = "x ← x − ε·H⁻¹∇f(x)"
    reference = "Nocedal & Wright (2006), Numerical Optimization, §3.3"
    hyperparams = (lr_param(1.0, doc="step fraction ε: 1 is the full Newton step"),)

    dense_matrices = 1  # the Hessian of each start

    def curvature(self, state, x, problem):
        """The Hessian ``H`` at ``x`` itself (the model Newton minimises)."""
        h = np.asarray(problem.hessian(np.asarray(x, dtype=float)[None]), dtype=float)[0]
        return Curvature(h, False, "H (the Hessian)")

    def update(self, x, g, state, problem, rng):
        h = np.asarray(problem.hessian(x), dtype=float)
        bad = singular_rows(h)
        if bad.any():
            h = np.where(bad[:, None, None], np.eye(x.shape[1]), h)
        s = solve(h, g)
        x_new = x - self.hp["lr"] * s
        if bad.any():
            return Update(np.where(bad[:, None], x, x_new), state, failed=bad,
                          message="singular Hessian (det ≈ 0)")
        return Update(x_new, state)
