"""Newton-CG: Newton's direction from conjugate gradients on Hessian-vector products (no d × d matrix)."""

from __future__ import annotations

import numpy as np

from gdstudio.core.optimizers.base import HyperParam, Optimizer, Update, lr_param
from gdstudio.core.optimizers.line_search import backtracking, trials


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


def hessian_vector(problem, x: np.ndarray, v: np.ndarray, h: float) -> np.ndarray:
    r"""Hessian-vector products :math:`H(x)\,v` per row by a central difference of gradients.

    .. math:: H v \approx \frac{\nabla f(x + \eta v) - \nabla f(x - \eta v)}{2\eta}, \qquad
              \eta = h\,\frac{1 + \lVert x\rVert}{\lVert v\rVert}

    (the step along v is ``h`` relative to the size of x; error :math:`O(\eta^2)`, exact up to rounding
    for a quadratic). Two gradient evaluations per row, made in one call of ``problem``; a row with
    ``v = 0`` gets 0.
    """
    n = len(x)
    vn = np.linalg.norm(v, axis=1)
    eta = h * (1.0 + np.linalg.norm(x, axis=1)) / np.where(vn > 0, vn, 1.0)
    step = eta[:, None] * v
    g = np.asarray(problem.gradient(np.concatenate([x + step, x - step])), dtype=float)
    hv = (g[:n] - g[n:]) / (2.0 * eta[:, None])
    return np.where((vn > 0)[:, None], hv, 0.0)


class NewtonCG(Optimizer):
    r"""Newton-CG (truncated Newton): Newton's step found by conjugate gradients, without forming H.

    The Newton direction solves :math:`H p = -\nabla f`. Conjugate gradients solve it with products
    :math:`H v` only, each a central difference of two gradients (:func:`hessian_vector`), so the
    memory is O(d) per start and a model of any size can use it. From :math:`z_0 = 0`,
    :math:`r_0 = \nabla f`, :math:`d_0 = -r_0`, for :math:`j = 0, 1, \dots` (at most ``max_cg``):

    .. math::

        \alpha_j = \frac{r_j^\top r_j}{d_j^\top H d_j}, \quad z_{j+1} = z_j + \alpha_j d_j, \quad
        r_{j+1} = r_j + \alpha_j H d_j, \quad
        \beta_j = r_{j+1}^\top r_{j+1} / (r_j^\top r_j), \quad d_{j+1} = -r_{j+1} + \beta_j d_j

    stopping when :math:`\lVert r_{j+1}\rVert \le \min(0.5, \sqrt{\lVert\nabla f\rVert})\,\lVert\nabla f\rVert`
    (the forcing term of Nocedal & Wright, eq. 7.3: superlinear convergence near a minimum), or — where
    the model is not convex along :math:`d_j` (:math:`d_j^\top H d_j \le 0`) — returning :math:`z_j`
    (or :math:`-\nabla f` if that happens at :math:`j = 0`), so the direction is always one of descent.
    The step :math:`x_{k+1} = x_k + t\,p` takes :math:`t` by Armijo backtracking from ε
    (constants ``c``, ``ρ``, as BFGS does). With ``max_cg`` ≥ d on a quadratic it is Newton's step.

    Vectorised over starts: every start runs its own CG (each row stops on its own tests); the
    iterations are a Python loop of at most ``max_cg`` rounds, each one batched gradient call for the
    rows still iterating.

    Evaluations: each :math:`H v` counts two gradients (``njev``), each backtracking trial one f
    (``nfev``); ``info`` per step: ``cg`` the CG iterations, ``t`` the step length, ``tried_t``,
    ``tried_f`` the trials.

    State: ``f`` (N,) the loss at x (known from the previous line search).

    Reference: Nocedal & Wright (2006), Numerical Optimization, §7.1 (Algorithm 7.1, line search
    Newton-CG); Dembo & Steihaug (1983), Truncated-Newton algorithms for large-scale unconstrained
    optimization; scipy.optimize.minimize(method="Newton-CG").
    """

    name = "newton-cg"
    title = "Newton-CG (Hessian-free)"
    rule = "x ← x + t·p,  H p ≈ −∇f by conjugate gradients on H·v ≈ (∇f(x+ηv) − ∇f(x−ηv))/2η"
    reference = "Nocedal & Wright (2006), §7.1, Algorithm 7.1; Dembo & Steihaug (1983)"
    hyperparams = (
        lr_param(1.0, doc="first trial step ε of the backtracking line search (1: the full Newton step)"),
        HyperParam("max_cg", 10, 1, 10_000, kind="int",
                   doc="most conjugate-gradient iterations per step (each one H·v: two gradients)"),
        HyperParam("h", 6e-6, 0.0, 1.0, low_open=True, high_open=True, log=True, symbol="h",
                   doc="relative step of the central difference H·v ≈ (∇f(x+ηv) − ∇f(x−ηv))/2η, "
                       "η = h(1 + ‖x‖)/‖v‖"),
        HyperParam("c", 1e-4, 0.0, 1.0, low_open=True, high_open=True, log=True, symbol="c",
                   doc="Armijo constant c: accept t when f drops by at least c·t·|∇fᵀp|"),
        HyperParam("rho", 0.5, 0.0, 1.0, low_open=True, high_open=True, symbol="ρ",
                   doc="backtracking factor ρ: each rejected trial step is multiplied by ρ"),
    )

    searches_line = True
    search_direction = "−H⁻¹∇f, approximately (truncated conjugate gradients)"

    def init(self, x, g, problem, rng):
        return {"f": np.asarray(problem.value(x), dtype=float).copy()}

    def direction(self, problem, x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The CG direction p per row, the CG iterations each row ran, and its Hessian-vector products."""
        n = len(x)
        h = self.hp["h"]
        gn = np.linalg.norm(g, axis=1)
        tol = np.minimum(0.5, np.sqrt(gn)) * gn
        z = np.zeros_like(g)
        r = g.copy()
        d = -g
        rr = _dot(r, r)
        p = -g.copy()
        iters = np.zeros(n, dtype=np.int64)
        active = np.flatnonzero(gn > 0)
        for j in range(self.hp["max_cg"]):
            if active.size == 0:
                break
            hd = hessian_vector(problem, x[active], d[active], h)
            iters[active] += 1
            dhd = _dot(d[active], hd)
            flat = ~(dhd > 0)  # not convex along d (or NaN): stop with what we have
            if flat.any():
                fa = active[flat]
                p[fa] = -g[fa] if j == 0 else z[fa]
            go = ~flat
            a_rows, hd, dhd = active[go], hd[go], dhd[go]
            alpha = rr[a_rows] / dhd
            z[a_rows] += alpha[:, None] * d[a_rows]
            r_new = r[a_rows] + alpha[:, None] * hd
            rr_new = _dot(r_new, r_new)
            done = np.sqrt(rr_new) <= tol[a_rows]
            p[a_rows] = z[a_rows]
            beta = rr_new / rr[a_rows]
            d[a_rows] = -r_new + beta[:, None] * d[a_rows]
            r[a_rows], rr[a_rows] = r_new, rr_new
            active = a_rows[~done]
        return p, iters, iters * 2

    def update(self, x, g, state, problem, rng):
        hp = self.hp
        p, iters, grads = self.direction(problem, x, g)
        slope = _dot(g, p)
        bad = ~(slope < 0) & np.any(g != 0, axis=1)  # rounding in H·v: fall back on steepest descent
        if bad.any():
            p = np.where(bad[:, None], -g, p)
            slope = _dot(g, p)
        ls = backtracking(problem, x, state["f"], p, slope, hp["lr"], hp["c"], hp["rho"])
        x_new = x + ls.t[:, None] * p
        fd = {"central": 2 * x.shape[1], "forward": x.shape[1] + 1}.get(getattr(problem, "method", ""), 0)
        return Update(x_new, {"f": ls.f}, info={"cg": iters.astype(float), "t": ls.t, "tried_t": ls.tried_t,
                                                 "tried_f": ls.tried_f},
                      evals={"nfev": trials(ls) + grads * fd, "njev": grads})

