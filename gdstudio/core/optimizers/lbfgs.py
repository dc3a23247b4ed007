"""L-BFGS: limited-memory BFGS, as torch.optim.LBFGS does it (memory O(history × d), no d × d matrix)."""

from __future__ import annotations

import math
import struct

import numpy as np

from gdstudio.core.optimizers.base import DENSE_LIMIT_BYTES, HyperParam, Optimizer, Update, lr_param

#: A pair (s, y) enters the memory only when yᵀs exceeds this (torch.optim.LBFGS's constant).
CURVATURE_MIN = 1e-10
#: Pairs the memory holds at first; it doubles as needed up to ``history_size`` (short runs stay small).
FIRST_CAPACITY = 8
LINE_SEARCHES = ("none", "strong_wolfe")


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


_SPLIT = 134217729.0  # 2^27 + 1: Veltkamp's splitting constant for float64


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knuth's TwoSum: ``s = fl(a + b)`` and its rounding error ``e``, so that ``a + b = s + e`` exactly."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def fma(a, b, c) -> np.ndarray:
    r"""``a·b + c`` rounded once (a fused multiply-add), element-wise, in numpy's float64.

    torch's ``x.add_(y, alpha=a)`` (which L-BFGS uses for its updates) runs as a fused multiply-add on the CPU:
    one rounding instead of two. numpy has no FMA, so it is emulated exactly: Dekker's product
    :math:`ab = u_h + u_l` (Veltkamp split), TwoSum :math:`c + u_l = t_h + t_l` and :math:`u_h + t_h = s_h + s_l`,
    then :math:`\mathrm{RN}(s_h + \mathrm{RO}(s_l + t_l))` with RO rounding to odd (Boldo & Melquiond 2008,
    Emulation of FMA and correctly rounded sums: proved algorithms using rounding to odd). Exact (equal to
    the correctly rounded a·b + c) away from overflow and underflow of the partial products; checked
    against exact rational arithmetic on 900,000 hard cases (cancellations, ties) in the tests.
    """
    a, b, c = np.asarray(a, dtype=float), np.asarray(b, dtype=float), np.asarray(c, dtype=float)
    if a.size <= 2 and b.size <= _SMALL and c.size <= _SMALL:  # one start in 2-D: Python floats are cheaper
        shape = np.broadcast_shapes(a.shape, b.shape, c.shape)
        av, bv, cv = (np.broadcast_to(v, shape).ravel().tolist() for v in (a, b, c))
        return np.array([_fma_float(x, y, z) for x, y, z in zip(av, bv, cv)]).reshape(shape)
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    th, tl = _two_sum(c, e)
    sh, sl = _two_sum(p, th)
    v, ve = _two_sum(sl, tl)
    v = np.asarray(v)  # (a 0-d result of scalars too, for the bit test)
    odd_fix = (ve != 0) & ((v.view(np.int64) & 1) == 0)  # round to odd: an inexact v must end in a 1 bit
    if odd_fix.any():
        v = np.where(odd_fix, np.nextafter(v, np.where(ve > 0, np.inf, -np.inf)), v)
    r = sh + v
    if not np.isfinite(np.add.reduce(r, axis=None)):  # overflow in the splitting (a NaN in e reaches r)
        r = np.where(np.isfinite(r), r, p + c)
    return r


#: Up to this many elements :func:`fma` works on Python floats (the same IEEE operations, fewer numpy calls).
_SMALL = 8


def _fma_float(a: float, b: float, c: float) -> float:
    """:func:`fma` on Python floats: the same algorithm, the same operations in the same order."""
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    th = c + e
    bb = th - c
    tl = (c - (th - bb)) + (e - bb)
    sh = p + th
    bb = sh - p
    sl = (p - (sh - bb)) + (th - bb)
    v = sl + tl
    bb = v - sl
    ve = (sl - (v - bb)) + (tl - bb)
    if ve != 0 and not (struct.unpack("<q", struct.pack("<d", v))[0] & 1):
        v = math.nextafter(v, math.inf if ve > 0 else -math.inf)
    r = sh + v
    return r if math.isfinite(r) else p + c


def _fd_values(problem) -> int:
    """Evaluations of f one gradient costs besides f itself (finite differences: central 2d, forward d + 1)."""
    d = problem.dim
    return {"central": 2 * d, "forward": d + 1}.get(getattr(problem, "method", "analytic"), 0)


def _value_and_gradient(problem, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vg = getattr(problem, "value_and_gradient", None)
    if vg is not None:
        f, g = vg(x)
    else:
        f, g = problem.value(x), problem.gradient(x)
    return np.asarray(f, dtype=float).reshape(len(x)), np.asarray(g, dtype=float).reshape(x.shape)


class LBFGS(Optimizer):
    r"""L-BFGS: BFGS that keeps only the last ``history_size`` pairs (s, y) instead of a d × d matrix.

    This is torch.optim.LBFGS, rule for rule. One step of gdstudio is one ``optimizer.step(closure)``
    of torch, which runs up to ``max_iter`` inner iterations and evaluates f and ∇f once per inner
    iteration (``line_search_fn="none"``) or several times (``"strong_wolfe"``).

    An inner iteration at :math:`x` with gradient :math:`g` (and loss :math:`f`):

    1. Memory. On the very first iteration of a run :math:`d = -g`, the memory is empty and
       :math:`\gamma = 1`. Afterwards, with :math:`y = g - g_{\text{prev}}` and :math:`s = t\,d` (the last
       step), the pair enters the memory when :math:`y^\top s > 10^{-10}` (dropping the oldest pair
       when ``history_size`` are held), with :math:`\rho = 1/(y^\top s)` and the scale
       :math:`\gamma = y^\top s / y^\top y`. The direction :math:`d = -H g` comes from the
       two-loop recursion over the pairs :math:`(s_i, y_i, \rho_i)`, newest first:

       .. math::

           q \leftarrow -g;\quad \alpha_i = \rho_i\, s_i^\top q,\ \ q \leftarrow q - \alpha_i y_i
           \ \ (i = m - 1, \dots, 0);\quad r \leftarrow \gamma\, q;\quad
           \beta_i = \rho_i\, y_i^\top r,\ \ r \leftarrow r + (\alpha_i - \beta_i)\, s_i
           \ \ (i = 0, \dots, m - 1);\quad d = r

    2. Step length: :math:`t = \min(1, 1/\lVert g\rVert_1)\,\varepsilon` on the first iteration of a
       run, :math:`t = \varepsilon` afterwards. If :math:`g^\top d > -\tau_{\text{change}}` the step
       ends here (no descent left).

    3. Move: ``"none"``: :math:`x \leftarrow x + t\,d` and, unless this is the ``max_iter``-th
       iteration, evaluate f and ∇f there. ``"strong_wolfe"``: :math:`t` is chosen by the strong-Wolfe
       line search of torch (:func:`strong_wolfe`, constants :math:`c_1 = 10^{-4}`, :math:`c_2 = 0.9`,
       at most ``max_eval`` minus the evaluations already made) and :math:`x \leftarrow x + t\,d`.

    4. The step ends after ``max_iter`` iterations, once ``max_eval`` evaluations (the first one at
       the step's start included) are made, when :math:`\max_i |g_i| \le \tau_{\text{grad}}`, when
       :math:`\max_i |t\,d_i| \le \tau_{\text{change}}`, or when :math:`|f - f_{\text{prev}}| <
       \tau_{\text{change}}`.

    A step that starts with :math:`\max_i |g_i| \le \tau_{\text{grad}}` changes nothing.

    Vectorised over starts: the inner iterations (at most ``max_iter``) and the pairs of the
    two-loop recursion are Python loops; every operation inside is one array operation over the
    starts still iterating (each start stops on its own tests, as in torch). The memory is a ring
    buffer per start (state ``S``, ``Y``, ``rho`` with ``head`` and ``count``), grown by doubling up
    to ``history_size`` pairs; a run whose pairs would take more than 512 MB is refused before it starts,
    with the ``history_size`` that would fit (:meth:`check_size`).

    Rounding: torch computes :math:`x + t\,d` and the two-loop's updates of q and r with ``add_(…, alpha=…)``,
    a fused multiply-add on the CPU (one rounding); :func:`fma` does the same in numpy, so trajectories on
    2-D functions agree with torch's to the last bits (dot products of long vectors are summed in BLAS's
    order by torch, so models agree to about 1e-13).

    Evaluations (``nfev`` / ``njev``): torch's closure calls. The one at the start of a step is the
    run's own evaluation at the new point; each inner evaluation adds one f and one ∇f per start
    (finite-difference gradients add their f values). The loss at the step's start is recomputed
    (not handed over by the run) and not counted again.

    ``info`` per step: ``iterations`` the inner iterations run, ``t`` the last step length.

    State: ``S``, ``Y`` (N, c, d) the pairs, ``rho`` (N, c), ``head``, ``count`` (N,) the ring buffer;
    ``gamma`` (N,) γ; ``d`` (N, d) the last direction and ``t`` (N,) its step; ``g_prev`` (N, d),
    ``f_prev`` (N,); ``n_iter`` (N,) inner iterations so far.

    Reference: torch.optim.LBFGS (torch 2.13), after Nocedal (1980), Updating quasi-Newton matrices
    with limited storage, and Nocedal & Wright (2006), Numerical Optimization, Algorithm 7.4.
    """

    name = "lbfgs"
    title = "L-BFGS (limited-memory quasi-Newton)"
    rule = "x ← x + t·d,  d = −H∇f by the two-loop recursion over the last m pairs (Δx, Δ∇f)"
    reference = "torch.optim.LBFGS; Nocedal (1980); Nocedal & Wright (2006), Algorithm 7.4"
    hyperparams = (
        lr_param(1.0, doc="step length ε of each inner iteration (the first iteration of a run: "
                          "min(1, 1/‖∇f‖₁)·ε); with strong_wolfe the first trial step"),
        HyperParam("max_iter", 20, 1, 10_000, kind="int",
                   doc="most inner iterations per step (torch's max_iter)"),
        HyperParam("max_eval", 0, 0, 100_000, kind="int",
                   doc="most evaluations of f and ∇f per step; 0: max_iter·5/4 (torch's None)"),
        HyperParam("tolerance_grad", 1e-7, 0.0, math.inf, log=True, symbol="τ_grad",
                   doc="a step ends when max |∇f_i| ≤ τ_grad (and does nothing when it starts so)"),
        HyperParam("tolerance_change", 1e-9, 0.0, math.inf, log=True, symbol="τ_change",
                   doc="a step ends when the loss or the point changes by less than τ_change"),
        HyperParam("history_size", 100, 1, 10_000, kind="int",
                   doc="pairs (Δx, Δ∇f) kept: the memory is O(history_size × d)"),
        HyperParam("line_search_fn", "none", kind="choice", choices=LINE_SEARCHES,
                   doc="none: fixed step ε; strong_wolfe: a line search with cubic interpolation"),
    )

    def check_size(self, n: int, d: int) -> None:
        """Refuse (ValueError) when the pairs of ``n`` starts, ``2 × history_size × d`` numbers each, would take
        more than :data:`~gdstudio.core.optimizers.base.DENSE_LIMIT_BYTES`."""
        m = self.hp["history_size"]
        need = 2 * m * n * d * 8
        if need > DENSE_LIMIT_BYTES:
            fit = max(1, DENSE_LIMIT_BYTES // (2 * n * d * 8))
            raise ValueError(
                f"lbfgs keeps {m} pairs of {d:,} numbers per start: {need / 2**20:,.0f} MB for {n:,} "
                f"start{'s' if n != 1 else ''}, more than its {DENSE_LIMIT_BYTES // 2**20} MB limit; "
                f"set history_size to {fit} or less")

    @property
    def max_eval(self) -> int:
        """torch's ``max_eval``: the hyperparameter, or ``max_iter * 5 // 4`` when it is 0 (None)."""
        return self.hp["max_eval"] or self.hp["max_iter"] * 5 // 4

    def init(self, x, g, problem, rng):
        n, d = x.shape
        c = min(FIRST_CAPACITY, self.hp["history_size"])
        return {"S": np.zeros((n, c, d)), "Y": np.zeros((n, c, d)), "rho": np.zeros((n, c)),
                "head": np.zeros(n, dtype=np.int64), "count": np.zeros(n, dtype=np.int64),
                "gamma": np.ones(n), "d": np.zeros((n, d)), "t": np.zeros(n),
                "g_prev": np.zeros((n, d)), "f_prev": np.zeros(n), "n_iter": np.zeros(n, dtype=np.int64)}

    # --- memory ---------------------------------------------------------------------------------
    def _push(self, st: dict, rows: np.ndarray, s: np.ndarray, y: np.ndarray, ys: np.ndarray) -> None:
        """Add the pairs (s, y) to the memory of ``rows`` (in place in ``st``), oldest dropped when full."""
        m = self.hp["history_size"]
        cap = st["S"].shape[1]
        count, head = st["count"][rows], st["head"][rows]
        if cap < m and np.any(count == cap):  # grow (no row has wrapped: that happens only at cap == m)
            new = min(2 * cap, m)
            for key in ("S", "Y", "rho"):
                old = st[key]
                grown = np.zeros((old.shape[0], new) + old.shape[2:])
                grown[:, :cap] = old
                st[key] = grown
            cap = new
        full = count == cap
        pos = np.where(full, head, (head + count) % cap)
        st["S"][rows, pos] = s
        st["Y"][rows, pos] = y
        st["rho"][rows, pos] = 1.0 / ys
        st["head"][rows] = np.where(full, (head + 1) % cap, head)
        st["count"][rows] = np.where(full, count, count + 1)

    @staticmethod
    def _two_loop(st: dict, rows: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The direction d = −H g of ``rows`` (gradients ``g``) by the two-loop recursion, newest pair first.

        Rows hold different numbers of pairs; pair ``i`` (0 = oldest) of a row sits at ``(head + i) % c``.
        When every row has pair ``i`` at the same place (the usual case) it is read as a view, not gathered.
        """
        S, Y, rho = st["S"], st["Y"], st["rho"]
        if len(rows) != len(S) or np.any(rows != np.arange(len(S))):
            S, Y, rho = S[rows], Y[rows], rho[rows]
        cap = S.shape[1]
        count, head = st["count"][rows], st["head"][rows]
        k = int(count.max()) if len(rows) else 0
        every = int(count.min()) if len(rows) else 0
        same_head = len(rows) and bool(np.all(head == head[0]))
        ar = np.arange(len(rows))

        def pair(i):
            """(selected rows or None for all, s_i, y_i, ρ_i) of pair i."""
            if i < every:
                if same_head:
                    j = (int(head[0]) + i) % cap
                    return None, S[:, j], Y[:, j], rho[:, j]
                phys = (head + i) % cap
                return None, S[ar, phys], Y[ar, phys], rho[ar, phys]
            sel = np.flatnonzero(count > i)
            phys = (head[sel] + i) % cap
            return sel, S[sel, phys], Y[sel, phys], rho[sel, phys]

        q = -g
        al = np.zeros((len(rows), k))
        for i in range(k - 1, -1, -1):
            sel, s_i, y_i, rho_i = pair(i)
            if sel is None:
                a = _dot(s_i, q) * rho_i
                al[:, i] = a
                q = fma((-a)[:, None], y_i, q)
            else:
                a = _dot(s_i, q[sel]) * rho_i
                al[sel, i] = a
                q[sel] = fma((-a)[:, None], y_i, q[sel])
        r = q * st["gamma"][rows][:, None]
        for i in range(k):
            sel, s_i, y_i, rho_i = pair(i)
            if sel is None:
                be = _dot(y_i, r) * rho_i
                r = fma((al[:, i] - be)[:, None], s_i, r)
            else:
                be = _dot(y_i, r[sel]) * rho_i
                r[sel] = fma((al[sel, i] - be)[:, None], s_i, r[sel])
        return r

    # --- one step = torch's optimizer.step(closure) ---------------------------------------------
    def update(self, x, g, state, problem, rng):
        hp = self.hp
        lr, max_iter, max_eval = hp["lr"], hp["max_iter"], self.max_eval
        tol_grad, tol_change = hp["tolerance_grad"], hp["tolerance_change"]
        wolfe = hp["line_search_fn"] == "strong_wolfe"
        n = len(x)
        st = {k: v.copy() for k, v in state.items()}
        x = np.array(x, dtype=float)
        g = np.array(g, dtype=float)
        f = np.asarray(problem.value(x), dtype=float).reshape(n).copy()  # torch's first closure (counted by the run)
        fd = _fd_values(problem)
        evals = np.zeros(n, dtype=np.int64)      # inner evaluations of f and ∇f (each also costs fd f values)
        current = np.ones(n, dtype=np.int64)     # torch's current_evals: the first closure call included
        iterations = np.zeros(n, dtype=np.int64)
        active = np.flatnonzero(~(np.max(np.abs(g), axis=1) <= tol_grad))  # optimal already: no change
        for it in range(1, max_iter + 1):
            if active.size == 0:
                break
            iterations[active] += 1
            st["n_iter"][active] += 1
            first = st["n_iter"][active] == 1
            ga = g[active]
            # 1. direction
            fr = active[first]
            if fr.size:
                st["d"][fr] = -g[fr]
                st["count"][fr] = 0
                st["head"][fr] = 0
                st["gamma"][fr] = 1.0
            rest = active[~first]
            if rest.size:
                y = g[rest] - st["g_prev"][rest]
                s = st["d"][rest] * st["t"][rest][:, None]
                ys = _dot(y, s)
                acc = ys > CURVATURE_MIN
                if acc.any():
                    ra = rest[acc]
                    self._push(st, ra, s[acc], y[acc], ys[acc])
                    st["gamma"][ra] = ys[acc] / _dot(y[acc], y[acc])
                st["d"][rest] = self._two_loop(st, rest, g[rest])
            st["g_prev"][active] = ga
            st["f_prev"][active] = f[active]
            # 2. step length and the descent test
            t = np.full(len(active), float(lr))
            if fr.size:
                t[first] = np.minimum(1.0, 1.0 / np.sum(np.abs(ga[first]), axis=1)) * lr
            st["t"][active] = t
            da = st["d"][active]
            gtd = _dot(ga, da)
            go = ~(gtd > -tol_change)
            active, t, da, gtd = active[go], t[go], da[go], gtd[go]
            if active.size == 0:
                break
            # 3. move
            if wolfe:
                f_new, g_new, t, n_ls = strong_wolfe(problem, x[active], t, da, f[active], g[active], gtd,
                                                     max_ls=max_eval - current[active], tolerance_change=tol_change)
                st["t"][active] = t
                x[active] = fma(t[:, None], da, x[active])
                f[active], g[active] = f_new, g_new
                evals[active] += n_ls
                current[active] += n_ls
                evaluated = True
            else:
                x[active] = fma(t[:, None], da, x[active])
                evaluated = it != max_iter
                if evaluated:
                    f_new, g_new = _value_and_gradient(problem, x[active])
                    f[active], g[active] = f_new, g_new
                    evals[active] += 1
                    current[active] += 1
            # 4. stopping tests
            if it == max_iter:
                break
            stop = current[active] >= max_eval
            if evaluated:
                stop |= np.max(np.abs(g[active]), axis=1) <= tol_grad
            stop |= np.max(np.abs(da * t[:, None]), axis=1) <= tol_change
            stop |= np.abs(f[active] - st["f_prev"][active]) < tol_change
            active = active[~stop]
        return Update(x, st, info={"iterations": iterations.astype(float), "t": st["t"].copy()},
                      evals={"nfev": evals * (1 + fd), "njev": evals.copy()})


def _pick_max(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Python's ``max(a, b)`` element-wise: ``b`` only when ``b > a`` (so a NaN ``a`` is kept, as torch's code does)."""
    return np.where(b > a, b, a)


def _pick_min(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Python's ``min(a, b)`` element-wise: ``b`` only when ``b < a``."""
    return np.where(b < a, b, a)


def cubic_interpolate(x1, f1, g1, x2, f2, g2, lo=None, hi=None) -> np.ndarray:
    r"""The minimiser of the cubic through :math:`(x_1, f_1, f'_1)` and :math:`(x_2, f_2, f'_2)`, clipped to
    ``[lo, hi]`` (default: the interval between :math:`x_1` and :math:`x_2`), element-wise.

    .. math::

        d_1 = g_1 + g_2 - 3\frac{f_1 - f_2}{x_1 - x_2}, \qquad d_2 = \sqrt{d_1^2 - g_1 g_2}, \qquad
        x^\ast = x_2 - (x_2 - x_1)\frac{g_2 + d_2 - d_1}{g_2 - g_1 + 2 d_2} \quad (x_1 \le x_2;
        \text{ the roles swap otherwise})

    When :math:`d_1^2 - g_1 g_2 < 0` (no real minimiser) the midpoint of ``[lo, hi]``. torch.optim.LBFGS's
    ``_cubic_interpolate`` (after Mark Schmidt's minFunc ``polyinterp``), operation for operation.
    """
    x1, f1, g1, x2, f2, g2 = (np.asarray(v, dtype=float) for v in (x1, f1, g1, x2, f2, g2))
    ordered = x1 <= x2
    if lo is None:
        lo, hi = np.where(ordered, x1, x2), np.where(ordered, x2, x1)
    with np.errstate(all="ignore"):  # both branches are computed; each row keeps its own
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        d2_square = d1 ** 2 - g1 * g2
        real = d2_square >= 0
        d2 = np.sqrt(np.where(real, d2_square, 0.0))
        min_pos = np.where(ordered, x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)),
                           x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2)))
        return np.where(real, _pick_min(_pick_max(min_pos, lo), hi), (lo + hi) / 2.0)


def strong_wolfe(problem, x, t, d, f, g, gtd, max_ls, tolerance_change=1e-9, c1=1e-4, c2=0.9):
    r"""torch.optim.LBFGS's strong-Wolfe line search along ``d`` from ``x`` for every row at once.

    It looks for a step :math:`t` with sufficient decrease and a small slope (the strong Wolfe conditions)

    .. math::

        f(x + t d) \le f(x) + c_1 t\, \nabla f(x)^\top d, \qquad
        |\nabla f(x + t d)^\top d| \le -c_2\, \nabla f(x)^\top d

    *Bracketing*, from the first trial ``t``: stop with an interval :math:`[t_{\text{prev}}, t]` when
    the first condition fails (or, after two trials, f stopped falling) or the slope turned
    non-negative; stop with ``t`` when both conditions hold; otherwise extrapolate by cubic
    interpolation within :math:`[t + 0.01(t - t_{\text{prev}}),\ 10t]`. *Zoom*: shrink the interval
    by cubic interpolation between its ends (a trial closer than 10 % of the interval to an end twice
    in a row is moved to 10 % from it) until both conditions hold, the interval times
    :math:`\max_i |d_i|` falls below ``tolerance_change``, or ``max_ls`` evaluations are made. The
    answer is the interval's end with the lower f (with its f and gradient).

    Each row searches on its own; each round evaluates every row still searching in one call of
    ``problem`` (a Python loop over rounds, at most ``max(max_ls)`` of them, never over rows).
    Returns ``(f, g, t, evaluations)`` per row. Reference: torch.optim.lbfgs ``_strong_wolfe`` (ported
    there from Torch7's ``lswolfe.lua``); Nocedal & Wright (2006), Algorithms 3.5 and 3.6.
    """
    n, dim = x.shape
    t = np.array(t, dtype=float)
    f = np.asarray(f, dtype=float)
    gtd = np.asarray(gtd, dtype=float)
    max_ls = np.broadcast_to(np.asarray(max_ls, dtype=np.int64), (n,))
    d_norm = np.max(np.abs(d), axis=1)
    f_new, g_new = _value_and_gradient(problem, fma(t[:, None], d, x))
    gtd_new = _dot(g_new, d)
    evals = np.ones(n, dtype=np.int64)
    ls_iter = np.zeros(n, dtype=np.int64)
    t_prev, f_prev, g_prev, gtd_prev = np.zeros(n), f.copy(), np.array(g, dtype=float), gtd.copy()
    # the bracket: ends 0 and 1 (a row that is done has one point, kept at end 0)
    bt, bf, bgtd = np.zeros((n, 2)), np.zeros((n, 2)), np.zeros((n, 2))
    bg = np.zeros((n, 2, dim))
    low = np.zeros(n, dtype=np.int64)
    insuf = np.zeros(n, dtype=bool)
    done = np.zeros(n, dtype=bool)
    phase = np.zeros(n, dtype=np.int8)  # 0 bracketing, 1 zoom, 2 finished
    rows_all = np.arange(n)

    def enter_zoom(r):
        low[r] = np.where(bf[r, 0] <= bf[r, 1], 0, 1)
        phase[r] = 1

    while True:
        # --- bracketing rows: test the last trial, maybe extrapolate ----------------------------------
        br = np.flatnonzero(phase == 0)
        trial = np.zeros(n, dtype=bool)
        if br.size:
            out = br[ls_iter[br] >= max_ls[br]]  # no evaluations left: bracket [0, t]
            if out.size:
                bt[out, 0], bt[out, 1] = 0.0, t[out]
                bf[out, 0], bf[out, 1] = f[out], f_new[out]
                bg[out, 0], bg[out, 1] = g[out], g_new[out]
                enter_zoom(out)
            br = br[ls_iter[br] < max_ls[br]]
            armijo_fails = (f_new[br] > f[br] + c1 * t[br] * gtd[br]) | ((ls_iter[br] > 1) & (f_new[br] >= f_prev[br]))
            wolfe = ~armijo_fails & (np.abs(gtd_new[br]) <= -c2 * gtd[br])
            rising = ~armijo_fails & ~wolfe & (gtd_new[br] >= 0)
            two = br[armijo_fails | rising]
            if two.size:
                bt[two, 0], bt[two, 1] = t_prev[two], t[two]
                bf[two, 0], bf[two, 1] = f_prev[two], f_new[two]
                bg[two, 0], bg[two, 1] = g_prev[two], g_new[two]
                bgtd[two, 0], bgtd[two, 1] = gtd_prev[two], gtd_new[two]
                enter_zoom(two)
            one = br[wolfe]
            if one.size:
                bt[one, 0], bf[one, 0], bg[one, 0], bgtd[one, 0] = t[one], f_new[one], g_new[one], gtd_new[one]
                done[one] = True
                low[one] = 0
                phase[one] = 2
            ext = br[~armijo_fails & ~wolfe & ~rising]
            if ext.size:
                te = t[ext]
                new_t = cubic_interpolate(t_prev[ext], f_prev[ext], gtd_prev[ext], te, f_new[ext], gtd_new[ext],
                                          te + 0.01 * (te - t_prev[ext]), te * 10)
                t_prev[ext], f_prev[ext], g_prev[ext], gtd_prev[ext] = te, f_new[ext], g_new[ext], gtd_new[ext]
                t[ext] = new_t
                trial[ext] = True
        # --- zoom rows: next trial inside the bracket --------------------------------------------------
        zr = np.flatnonzero(phase == 1)
        if zr.size:
            stop = done[zr] | (ls_iter[zr] >= max_ls[zr])
            stop |= np.abs(bt[zr, 1] - bt[zr, 0]) * d_norm[zr] < tolerance_change
            phase[zr[stop]] = 2
            zr = zr[~stop]
        if zr.size:
            a, b = bt[zr, 0], bt[zr, 1]
            tz = cubic_interpolate(a, bf[zr, 0], bgtd[zr, 0], b, bf[zr, 1], bgtd[zr, 1])
            hi, lo = _pick_max(a, b), _pick_min(a, b)
            eps = 0.1 * (hi - lo)
            near = _pick_min(hi - tz, tz - lo) < eps
            move = near & (insuf[zr] | (tz >= hi) | (tz <= lo))
            tz = np.where(move, np.where(np.abs(tz - hi) < np.abs(tz - lo), hi - eps, lo + eps), tz)
            insuf[zr] = near & ~move
            t[zr] = tz
            trial[zr] = True
        ev = np.flatnonzero(trial)
        if ev.size == 0:
            break
        fe, ge = _value_and_gradient(problem, fma(t[ev, None], d[ev], x[ev]))
        f_new[ev], g_new[ev] = fe, ge
        gtd_new[ev] = _dot(ge, d[ev])
        evals[ev] += 1
        ls_iter[ev] += 1
        # --- zoom rows: update the bracket with the trial ---------------------------------------------
        zr = ev[phase[ev] == 1]
        if zr.size:
            lo_pos, hi_pos = low[zr], 1 - low[zr]
            high_side = (f_new[zr] > f[zr] + c1 * t[zr] * gtd[zr]) | (f_new[zr] >= bf[zr, lo_pos])
            h = zr[high_side]
            if h.size:
                hp = 1 - low[h]
                bt[h, hp], bf[h, hp], bg[h, hp], bgtd[h, hp] = t[h], f_new[h], g_new[h], gtd_new[h]
                low[h] = np.where(bf[h, 0] <= bf[h, 1], 0, 1)
            lw = zr[~high_side]
            if lw.size:
                lp, hp = low[lw], 1 - low[lw]
                ok = np.abs(gtd_new[lw]) <= -c2 * gtd[lw]
                done[lw[ok]] = True
                swap = ~ok & (gtd_new[lw] * (bt[lw, hp] - bt[lw, lp]) >= 0)
                s_ = lw[swap]
                if s_.size:
                    sl, sh = lp[swap], hp[swap]
                    bt[s_, sh], bf[s_, sh], bg[s_, sh], bgtd[s_, sh] = (bt[s_, sl], bf[s_, sl], bg[s_, sl],
                                                                        bgtd[s_, sl])
                bt[lw, lp], bf[lw, lp], bg[lw, lp], bgtd[lw, lp] = t[lw], f_new[lw], g_new[lw], gtd_new[lw]
            del lo_pos, hi_pos
    return bf[rows_all, low], bg[rows_all, low], bt[rows_all, low], evals
