"""BFGS: a quasi-Newton method that learns the inverse Hessian from gradient differences."""

from __future__ import annotations

import numpy as np

from gdstudio.core.optimizers.base import Curvature, HyperParam, Optimizer, Update, lr_param
from gdstudio.core.optimizers.line_search import backtracking, trials

#: The curvature condition yᵀs > 0 is tested as yᵀs > CURVATURE_TOL·‖y‖‖s‖ (guards against rounding).
CURVATURE_TOL = 1e-12


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


class BFGS(Optimizer):
    r"""BFGS: Newton-like steps with an inverse-Hessian approximation built from gradients alone.

    Direction and step (Armijo backtracking from :math:`t = \varepsilon`, constants ``c``, ``ρ``):

    .. math::

        p_k = -B_k \nabla f(x_k), \qquad x_{k+1} = x_k + t_k p_k

    With :math:`s_k = x_{k+1} - x_k` and :math:`y_k = \nabla f(x_{k+1}) - \nabla f(x_k)`, the inverse
    approximation :math:`B \approx H^{-1}` is updated (at the start of the next step) by

    .. math::

        B_{k+1} = \left(I - \rho_k s_k y_k^\top\right) B_k \left(I - \rho_k y_k s_k^\top\right)
                  + \rho_k s_k s_k^\top, \qquad \rho_k = \frac{1}{y_k^\top s_k}

    the smallest change of :math:`B_k` that satisfies the secant equation :math:`B_{k+1} y_k = s_k`
    and keeps B symmetric positive definite — provided :math:`y_k^\top s_k > 0`. When that
    curvature condition fails (tested as :math:`y^\top s \le 10^{-12}\lVert y\rVert\lVert s\rVert`) the
    update is skipped and B is kept. :math:`B_0 = I`, rescaled before the first update to
    :math:`(y_0^\top s_0 / y_0^\top y_0)\, I` (Nocedal & Wright, eq. 6.20). Should :math:`p_k` ever fail
    to be a descent direction (rounding), B is reset to I.

    ``info`` per step: ``t`` (N,) the accepted step length; ``tried_t``, ``tried_f`` (N, m) the
    backtracking trials.

    State: ``B`` (N, d, d) the inverse-Hessian approximation; ``s`` (N, d) the last step; ``g`` (N, d)
    the last gradient; ``f`` (N,) the loss at x; ``step`` (N,) steps taken.

    Reference: Nocedal & Wright (2006), Numerical Optimization, §6.1 (Algorithm 6.1).
    """

    name = "bfgs"
    title = "BFGS (quasi-Newton)"
    rule = "x ← x − t·B∇f(x),  B ≈ H⁻¹ updated from Δx, Δ∇f"
    reference = "Broyden, Fletcher, Goldfarb, Shanno (1970); Nocedal & Wright (2006), §6.1"
    hyperparams = (
        lr_param(1.0, doc="first trial step ε of the backtracking line search (1: the full quasi-Newton step)"),
        HyperParam("c", 1e-4, 0.0, 1.0, low_open=True, high_open=True, log=True, symbol="c",
                   doc="Armijo constant c: accept t when f drops by at least c·t·|∇fᵀp|"),
        HyperParam("rho", 0.5, 0.0, 1.0, low_open=True, high_open=True, symbol="ρ",
                   doc="backtracking factor ρ: each rejected trial step is multiplied by ρ"),
    )

    dense_matrices = 1  # B, the inverse-Hessian estimate of each start
    searches_line = True
    search_direction = "−B∇f (quasi-Newton direction)"

    def curvature(self, state, x, problem):
        """BFGS's inverse-Hessian approximation ``B``: the one in the state after a step is the one that
        step used (``update`` updates ``B`` first, then searches along −B∇f)."""
        b = state.get("B")
        return None if b is None else Curvature(np.asarray(b, dtype=float), True, "B ≈ H⁻¹ (BFGS)")

    def init(self, x, g, problem, rng):
        n, d = x.shape
        return {"B": np.broadcast_to(np.eye(d), (n, d, d)).copy(), "s": np.zeros_like(x), "g": g.copy(),
                "f": np.asarray(problem.value(x), dtype=float).copy(), "step": np.zeros(n)}

    def update(self, x, g, state, problem, rng):
        hp = self.hp
        d = x.shape[1]
        eye = np.eye(d)
        B, s, step = state["B"], state["s"], state["step"]
        y = g - state["g"]
        sy = _dot(s, y)
        ok = (step > 0) & (sy > CURVATURE_TOL * np.linalg.norm(s, axis=1) * np.linalg.norm(y, axis=1))
        ok &= np.isfinite(sy)
        if ok.any():
            first = ok & (step == 1)
            if first.any():
                scale = sy / np.where(first, _dot(y, y), 1.0)
                B = np.where(first[:, None, None], scale[:, None, None] * eye, B)
            # Expanded form of (I − ρsyᵀ)B(I − ρysᵀ) + ρssᵀ for symmetric B, written with divisions by
            # yᵀs (not ρ²) so that tiny steps near convergence do not overflow.
            sy_safe = np.where(ok, sy, 1.0)[:, None, None]
            By = np.einsum("nij,nj->ni", B, y)
            yBy = _dot(y, By)[:, None, None]
            ss = s[:, :, None] * s[:, None, :]
            sBy = s[:, :, None] * By[:, None, :]
            with np.errstate(all="ignore"):
                B_new = B - (sBy + np.swapaxes(sBy, 1, 2)) / sy_safe + (1 + yBy / sy_safe) * (ss / sy_safe)
            ok &= np.all(np.isfinite(B_new), axis=(1, 2))
            B = np.where(ok[:, None, None], B_new, B)
        p = -np.einsum("nij,nj->ni", B, g)
        slope = _dot(g, p)
        reset = ~(slope < 0) & np.any(g != 0, axis=1)
        if reset.any():
            B = np.where(reset[:, None, None], eye, B)
            p = np.where(reset[:, None], -g, p)
            slope = _dot(g, p)
        ls = backtracking(problem, x, state["f"], p, slope, hp["lr"], hp["c"], hp["rho"])
        x_new = x + ls.t[:, None] * p
        state = {"B": B, "s": x_new - x, "g": g.copy(), "f": ls.f, "step": step + 1}  # own copy of g
        return Update(x_new, state, info={"t": ls.t, "tried_t": ls.tried_t, "tried_f": ls.tried_f},
                      evals={"nfev": trials(ls)})
