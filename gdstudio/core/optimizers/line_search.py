"""Steepest descent with a line search, and the vectorised line searches themselves.

A line search chooses the step length ``t`` along a descent direction ``p`` by looking at the
one-dimensional function

.. math:: \\varphi(t) = f(x + t\\,p), \\qquad t \\ge 0, \\qquad \\varphi'(0) = \\nabla f(x)^\\top p < 0.

All rows are searched at once: each search below loops over its *iterations* (a fixed maximum),
never over rows, and evaluates only the rows still searching. Each returns the chosen ``t`` (N,),
``φ(t)`` (N,) and the tried steps and their values as (N, m) arrays padded with NaN, which the window
plots as ``f(x − t∇f)`` against ``t`` (:class:`LineSearch` puts them in ``Update.info``).
BFGS (:mod:`gdstudio.core.optimizers.bfgs`) reuses :func:`backtracking`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from gdstudio.core.optimizers.base import HyperParam, Optimizer, Update, lr_param

#: Most step halvings (or ρ-shrinks) a backtracking search tries before it takes the smallest step.
BACKTRACK_MAX = 40
#: Most doublings of the trial step while bracketing the minimum of φ for the exact search.
BRACKET_MAX = 40
#: Golden-section iterations of the exact search: the bracket shrinks by 0.618^50 ≈ 3.5e-11.
GOLDEN_ITERS = 50
#: Powers of ten tried by the grid search: t = lr·10^k for k = 0, −1, ..., −6.
GRID_POWERS = tuple(range(0, -7, -1))

_INVPHI = (math.sqrt(5.0) - 1.0) / 2.0  # 1/φ ≈ 0.618


class Search(NamedTuple):
    """A line search's outcome per row: the step ``t``, ``f`` there, and every trial (NaN-padded)."""

    t: np.ndarray
    f: np.ndarray
    tried_t: np.ndarray
    tried_f: np.ndarray


def _phi(problem, x: np.ndarray, p: np.ndarray, t: np.ndarray) -> np.ndarray:
    """φ(t) = f(x + t p) for rows of ``x``, ``p`` and ``t`` (shape (n,))."""
    with np.errstate(all="ignore"):
        return np.asarray(problem.value(x + t[:, None] * p), dtype=float)


#: Trials evaluated together in each round of a backtracking search (they sum to BACKTRACK_MAX). Most
#: searches end at the first trial, so the first round is 1; later rounds batch several trials into one
#: call of f, and only trials up to the accepted one are reported.
_BACKTRACK_ROUNDS = (1, 3, 6, 10, 20)
assert sum(_BACKTRACK_ROUNDS) == BACKTRACK_MAX


def backtracking(problem, x, f0, p, slope, t0: float, c: float, rho: float) -> Search:
    r"""Armijo backtracking: the first of ``t0, ρ·t0, ρ²·t0, ...`` with sufficient decrease.

    .. math:: f(x + t p) \le f(x) + c\, t\, \nabla f(x)^\top p

    ``slope`` is :math:`\nabla f(x)^\top p` per row (negative for a descent direction). A row that has
    not found such a ``t`` after ``BACKTRACK_MAX`` trials takes the last (smallest) one tried. A NaN
    value counts as no decrease, so a search steps back from overflow. Trials are evaluated a few at a
    time (``_BACKTRACK_ROUNDS``) to save Python overhead; the result is that of the one-by-one search.
    The trial arrays have as many columns as the longest search needed (rounded up to a round).
    """
    n, d = x.shape
    m = sum(_BACKTRACK_ROUNDS)
    ts = np.empty(m)  # t0, t0·ρ, (t0·ρ)·ρ, ...: the same numbers for every row
    ts[0] = t0
    for j in range(1, m):
        ts[j] = ts[j - 1] * rho
    t = np.full(n, ts[-1])
    f = np.full(n, np.nan)
    blocks_t, blocks_f = [], []
    active = np.arange(n)
    j0 = 0
    for size in _BACKTRACK_ROUNDS:
        if active.size == 0:
            break
        bt, bf = np.full((n, size), np.nan), np.full((n, size), np.nan)
        blocks_t.append(bt)
        blocks_f.append(bf)
        tj = ts[j0:j0 + size]
        xa, pa = x[active], p[active]
        pts = xa[:, None, :] + tj[None, :, None] * pa[:, None, :]
        with np.errstate(all="ignore"):
            fj = np.asarray(problem.value(pts.reshape(-1, d)), dtype=float).reshape(len(active), size)
        ok = fj <= f0[active, None] + c * tj[None, :] * slope[active, None]
        found = ok.any(axis=1)
        first = np.where(found, np.argmax(ok, axis=1), size - 1)
        shown = np.arange(size)[None, :] <= first[:, None]
        bt[active] = np.where(shown, tj[None, :], np.nan)
        bf[active] = np.where(shown, fj, np.nan)
        t[active] = tj[first]
        f[active] = fj[np.arange(len(active)), first]
        active = active[~found]
        j0 += size
    # Only the rounds that ran are returned: the trial arrays are (N, m) with m ≤ BACKTRACK_MAX.
    return Search(t, f, np.hstack(blocks_t), np.hstack(blocks_f))


def exact(problem, x, f0, p, t0: float, bracket_max: int = BRACKET_MAX,
          golden_iters: int = GOLDEN_ITERS) -> Search:
    r"""Minimise φ(t) = f(x + t p) over t ≥ 0 numerically: bracketing, then golden-section search.

    Bracketing: if :math:`\varphi(t_0) \ge \varphi(0)` the bracket is :math:`[0, t_0]`; otherwise the
    trial step doubles, :math:`t_{j+1} = 2t_j`, while φ keeps falling (at most ``bracket_max``
    times), and the bracket is :math:`[t_{j-1}, t_{j+1}]` around the lowest value seen.
    Golden section: ``golden_iters`` times, keep the part of :math:`[a, b]` around the lower of
    :math:`c = b - (b - a)/\phi` and :math:`d = a + (b - a)/\phi` (:math:`\phi` the golden ratio);
    the answer is the lower of the final ``c``, ``d``. For a φ with one minimum in the bracket this
    finds it to about ``(b − a)·0.618^golden_iters``; otherwise it finds a local minimum of φ.
    """
    n = len(x)
    m = 1 + bracket_max + 2 + golden_iters
    tried_t = np.full((n, m), np.nan)
    tried_f = np.full((n, m), np.nan)
    t1 = np.full(n, float(t0))
    f1 = _phi(problem, x, p, t1)
    tried_t[:, 0], tried_f[:, 0] = t1, f1
    lo = np.zeros(n)
    hi = t1.copy()
    # Rows where φ(t0) < φ(0): double while φ keeps falling. prev/cur are the last two trials.
    grow = np.flatnonzero(f1 < f0)
    prev_t, cur_t, cur_f = np.zeros(n), t1.copy(), f1.copy()
    col = 1
    for _ in range(bracket_max):
        if grow.size == 0:
            break
        nt = 2.0 * cur_t[grow]
        nf = _phi(problem, x[grow], p[grow], nt)
        tried_t[grow, col], tried_f[grow, col] = nt, nf
        col += 1
        falling = nf < cur_f[grow]
        stop = grow[~falling]
        lo[stop], hi[stop] = prev_t[stop], nt[~falling]
        go = grow[falling]
        prev_t[go], cur_t[go], cur_f[go] = cur_t[go], nt[falling], nf[falling]
        grow = go
    lo[grow], hi[grow] = prev_t[grow], cur_t[grow]  # still falling after bracket_max doublings
    col = 1 + bracket_max
    c = hi - _INVPHI * (hi - lo)
    d = lo + _INVPHI * (hi - lo)
    fc, fd = _phi(problem, x, p, c), _phi(problem, x, p, d)
    tried_t[:, col], tried_f[:, col], tried_t[:, col + 1], tried_f[:, col + 1] = c, fc, d, fd
    col += 2
    for _ in range(golden_iters):
        left = ~(fd < fc)  # minimum in [lo, d] (NaN at d counts as high)
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
        new_c, new_d = hi - _INVPHI * (hi - lo), lo + _INVPHI * (hi - lo)
        tn = np.where(left, new_c, new_d)
        fn = _phi(problem, x, p, tn)
        tried_t[:, col], tried_f[:, col] = tn, fn
        col += 1
        c, fc, d, fd = (np.where(left, tn, d), np.where(left, fn, fd),
                        np.where(left, c, tn), np.where(left, fc, fn))
    pick_c = ~(fd < fc)
    return Search(np.where(pick_c, c, d), np.where(pick_c, fc, fd), tried_t, tried_f)


def grid(problem, x, p, t0: float, powers=GRID_POWERS) -> Search:
    """Try ``t = t0·10^k`` for each ``k`` in ``powers`` and keep the lowest ``φ(t)`` (NaN never wins)."""
    n, d = x.shape
    ts = float(t0) * 10.0 ** np.asarray(powers, dtype=float)  # (m,)
    m = len(ts)
    pts = x[:, None, :] + ts[None, :, None] * p[:, None, :]
    with np.errstate(all="ignore"):
        fs = np.asarray(problem.value(pts.reshape(n * m, d)), dtype=float).reshape(n, m)
    best = np.argmin(np.where(np.isnan(fs), np.inf, fs), axis=1)
    rows = np.arange(n)
    tried_t = np.broadcast_to(ts, (n, m)).copy()
    return Search(ts[best], fs[rows, best], tried_t, fs)


METHODS = ("backtracking", "exact", "grid")


def trials(s: Search) -> np.ndarray:
    """Evaluations of f each row's search needed (its trials; backtracking counts up to the accepted one)."""
    return np.count_nonzero(~np.isnan(s.tried_t), axis=1)


class LineSearch(Optimizer):
    r"""Steepest descent whose step length is chosen afresh at every iteration by a line search.

    .. math::

        x_{k+1} = x_k - t_k \nabla f(x_k), \qquad
        t_k \approx \operatorname*{arg\,min}_{t \ge 0} \varphi_k(t), \quad
        \varphi_k(t) = f\big(x_k - t\,\nabla f(x_k)\big)

    ``method`` picks how :math:`t_k` is found:

    ``backtracking``
        Armijo's rule: the first of :math:`t = \varepsilon, \rho\varepsilon, \rho^2\varepsilon, \dots`
        with :math:`f(x_k - t\nabla f) \le f(x_k) - c\,t\,\lVert\nabla f(x_k)\rVert^2` (sufficient
        decrease; at most 40 trials, then the smallest).
    ``exact``
        Minimise :math:`\varphi_k` numerically (bracketing by doubling from ε, then 50 golden-section
        iterations): "exact" line search. On a quadratic successive steps are orthogonal, which
        produces the familiar zig-zag in narrow valleys.
    ``grid``
        Try :math:`t = \varepsilon \cdot 10^{k}` for :math:`k = 0, -1, \dots, -6` and keep the one with
        the lowest loss — the simple "try several ε and keep the best" strategy.

    ``info`` per step: ``t`` (N,) the chosen step, ``tried_t`` and ``tried_f`` (N, m) the trial steps and
    :math:`\varphi_k` there (NaN-padded), for plotting :math:`\varphi_k` with the trials.

    State: ``f`` (N,) the loss at ``x`` (known from the previous search; saves an evaluation).

    Reference: Armijo (1966), Minimization of functions having Lipschitz continuous first partial
    derivatives; Nocedal & Wright (2006), Numerical Optimization, ch. 3.
    """

    name = "line-search"
    title = "Line search (steepest descent)"
    rule = "x ← x − t∇f(x),  t chosen along −∇f (backtracking / exact / grid)"
    reference = "Armijo (1966); Nocedal & Wright (2006), Numerical Optimization, ch. 3"
    hyperparams = (
        HyperParam("method", "backtracking", kind="choice", choices=METHODS,
                   doc="how to choose the step: backtracking (Armijo), exact (minimise along −∇f), "
                       "grid (try ε·10^k, k = 0…−6, keep the best)"),
        lr_param(1.0, doc="first (largest) trial step ε: backtracking starts here, exact starts "
                          "bracketing here, grid tries ε·10^k"),
        HyperParam("c", 1e-4, 0.0, 1.0, low_open=True, high_open=True, log=True, symbol="c",
                   doc="Armijo constant c: accept t when f drops by at least c·t·‖∇f‖² (backtracking)"),
        HyperParam("rho", 0.5, 0.0, 1.0, low_open=True, high_open=True, symbol="ρ",
                   doc="backtracking factor ρ: each rejected trial step is multiplied by ρ"),
    )

    searches_line = True

    def init(self, x, g, problem, rng):
        return {"f": np.asarray(problem.value(x), dtype=float).copy()}

    def update(self, x, g, state, problem, rng):
        hp = self.hp
        p = -g
        f0 = state["f"]
        if hp["method"] == "backtracking":
            s = backtracking(problem, x, f0, p, -np.einsum("ij,ij->i", g, g), hp["lr"], hp["c"], hp["rho"])
        elif hp["method"] == "exact":
            s = exact(problem, x, f0, p, hp["lr"])
        else:
            s = grid(problem, x, p, hp["lr"])
        x_new = x + s.t[:, None] * p
        return Update(x_new, {"f": s.f}, info={"t": s.t, "tried_t": s.tried_t, "tried_f": s.tried_f},
                      evals={"nfev": trials(s)})
