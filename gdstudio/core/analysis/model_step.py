r"""See why for a model: one training step of a classifier explained, numpy only.

A training step ``k`` goes from the parameters :math:`\theta_k` to :math:`\theta_{k+1}` using the gradient of
the loss of the step's minibatch :math:`B_k` (:meth:`~gdstudio.core.models.ModelObjective.batch_indices`):
:math:`L_B(\theta) = \frac{1}{|B|}\sum_{i\in B}\ell(\theta; x_i, y_i) + \lambda\lVert W\rVert^2`. Every number
here is computed on one set of samples, named in the result: ``data="batch"`` (the default) uses :math:`B_k`, the
loss the optimizer actually saw (with full batches it is the whole training set); ``data="train"`` uses the
whole training set. Nothing is approximated that is not said to be.

:func:`explain_model_step` — the step itself:

* the loss :math:`L(\theta_k)` and gradient :math:`\nabla L(\theta_k)` (analytic, the model's own formulas);
* the update :math:`\Delta\theta = \theta_{k+1} - \theta_k` and its norm;
* the *effective step* :math:`\lVert\Delta\theta\rVert / \lVert\nabla L\rVert` (ε for plain gradient descent);
* *why this direction*: :math:`\cos\angle(\Delta\theta, -\nabla L) = -\nabla L\cdot\Delta\theta /
  (\lVert\nabla L\rVert\,\lVert\Delta\theta\rVert)`, 1 for plain gradient descent, less for momentum (the
  velocity remembers earlier gradients) and Adam (per-coordinate scaling);
* the predicted change :math:`\nabla L\cdot\Delta\theta` against the actual :math:`L(\theta_{k+1}) - L(\theta_k)`
  (on the same samples), and the same numbers per parameter block (``W``, ``b``, ...).

:func:`model_line_search` — the loss along the update's direction :math:`d = \Delta\theta/\lVert\Delta\theta\rVert`:
:math:`\varphi(t) = L(\theta_k + t d)`, so :math:`t = \lVert\Delta\theta\rVert` is the point the optimizer took;
the exact minimiser :math:`t^\ast` of :math:`\varphi` on the line, and the linear approximation
:math:`L(\theta_k) + t\,\nabla L\cdot d` (its error is :math:`\tfrac12 t^2 d^\top\nabla^2 L\,d + O(t^3)`). A taken
``t`` past :math:`t^\ast` overshoots; far below it, ε is too small (the articles' learning-rate trade-off).

:func:`model_gradient_check` — analytic gradient against central differences on a few random coordinates.

Every batch of parameter vectors goes through the model's loss in one vectorised call
(:meth:`~gdstudio.core.models.ModelObjective.loss_grad` takes θ of shape ``(T, d)``), in chunks that bound
memory: there is no Python loop per ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gdstudio.core.models import ModelObjective

#: Which samples the losses are computed on.
DATA = ("batch", "train")
#: At most this many floats of intermediate scores per chunk of parameter vectors.
CHUNK_FLOATS = 4_000_000
#: Exploration of the line for its minimiser: t = ±s·2^j for j in this range (s = ‖Δθ‖).
EXPLORE_POWERS = range(-14, 25)
#: Refinement rounds and points per round of the minimiser's bracket (each round shrinks it 20-fold).
REFINE_ROUNDS = 7
REFINE_POINTS = 41


def samples(model: ModelObjective, k: int, data: str = "batch") -> tuple[np.ndarray, np.ndarray, str]:
    """``X, y, description`` of the samples step ``k``'s numbers are computed on (see the module docstring)."""
    if data not in DATA:
        raise ValueError(f"data must be one of {', '.join(DATA)}, got {data!r}")
    d = model.dataset
    n = model.n_train
    idx = model.batch_indices(k) if data == "batch" else None
    if idx is None:
        what = "the whole training set" if data == "train" or model.batch_size is None else "the step's minibatch"
        return d.X_train, d.y_train, f"{what} ({n:,} samples)"
    return d.X_train[idx], d.y_train[idx], f"the minibatch of step {k} ({len(idx):,} of {n:,} training samples)"


def model_losses(model: ModelObjective, thetas, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:math:`L(\\theta_i)` on samples ``(X, y)`` for every row of ``thetas`` (T, d), vectorised over the rows
    (chunks of at most :data:`CHUNK_FLOATS` intermediate floats). NaN where a loss is not finite."""
    thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
    width = max(model.dataset.n_classes, getattr(model, "hidden", 0) or 0)
    chunk = max(1, CHUNK_FLOATS // max(1, len(y) * width))
    out = np.empty(len(thetas))
    with np.errstate(all="ignore"):
        for a in range(0, len(thetas), chunk):
            out[a:a + chunk] = model.loss_grad(thetas[a:a + chunk], X, y, need_grad=False)[0]
    return np.where(np.isfinite(out), out, np.nan)


@dataclass(frozen=True)
class ModelStep:
    r"""One training step explained (see the module docstring for the formulas).

    ``theta``/``next_theta`` are :math:`\theta_k`, :math:`\theta_{k+1}` (``next_theta`` None at the last
    recorded step); ``loss``, ``gradient`` and ``next_loss`` are on ``data_text``'s samples; ``blocks`` maps
    each parameter block to ``(‖∇L‖, ‖Δθ‖, cos∠(Δθ, −∇L))`` restricted to that block.
    """

    k: int
    theta: np.ndarray
    next_theta: np.ndarray | None
    loss: float
    gradient: np.ndarray
    next_loss: float | None
    data: str
    data_text: str
    blocks: dict[str, tuple[float, float | None, float | None]]

    @property
    def grad_norm(self) -> float:
        return float(np.linalg.norm(self.gradient))

    @property
    def update(self) -> np.ndarray | None:
        r""":math:`\Delta\theta = \theta_{k+1} - \theta_k`."""
        return None if self.next_theta is None else self.next_theta - self.theta

    @property
    def update_norm(self) -> float | None:
        u = self.update
        return None if u is None else float(np.linalg.norm(u))

    @property
    def effective_lr(self) -> float | None:
        r""":math:`\lVert\Delta\theta\rVert / \lVert\nabla L\rVert` (ε for plain gradient descent)."""
        s, g = self.update_norm, self.grad_norm
        return None if s is None or g == 0 else s / g

    @property
    def cos_angle(self) -> float | None:
        r""":math:`\cos\angle(\Delta\theta, -\nabla L) = -\nabla L\cdot\Delta\theta / (\lVert\nabla L\rVert
        \lVert\Delta\theta\rVert)`; None when either is zero."""
        return _cos(self.update, self.gradient)

    @property
    def slope(self) -> float | None:
        r"""The predicted change :math:`\nabla L\cdot\Delta\theta` (first order)."""
        u = self.update
        return None if u is None else float(self.gradient @ u)

    @property
    def change(self) -> float | None:
        r"""The actual change :math:`L(\theta_{k+1}) - L(\theta_k)` on the same samples."""
        return None if self.next_loss is None else self.next_loss - self.loss


def _cos(u, g) -> float | None:
    if u is None:
        return None
    nu, ng = np.linalg.norm(u), np.linalg.norm(g)
    if nu == 0 or ng == 0 or not (np.isfinite(nu) and np.isfinite(ng)):
        return None
    return float(np.clip(-(g @ u) / (nu * ng), -1.0, 1.0))


def explain_model_step(model: ModelObjective, thetas, k: int, data: str = "batch") -> ModelStep:
    """Explain step ``k`` of a training whose parameters are ``thetas`` (rows θ_0, θ_1, ...; at least k + 1)."""
    thetas = np.asarray(thetas, dtype=float)
    if thetas.ndim != 2 or thetas.shape[1] != model.dim:
        raise ValueError(f"thetas must have shape (K, {model.dim}), got {thetas.shape}")
    k = int(k)
    if not 0 <= k < len(thetas):
        raise ValueError(f"step {k} is not recorded (0 to {len(thetas) - 1})")
    return explain_model_update(model, k, thetas[k], thetas[k + 1] if k + 1 < len(thetas) else None, data)


def explain_model_update(model: ModelObjective, k: int, theta, next_theta=None, data: str = "batch") -> ModelStep:
    """Explain step ``k`` from its parameters θ_k and θ_k+1 (``next_theta`` None: no update was taken yet).
    ``k`` picks the minibatch (:meth:`~gdstudio.core.models.ModelObjective.batch_indices`)."""
    theta = np.array(theta, dtype=float).reshape(-1)
    if theta.shape != (model.dim,):
        raise ValueError(f"θ must have {model.dim} coordinates, got {theta.shape}")
    nxt = None if next_theta is None else np.array(next_theta, dtype=float).reshape(-1)
    if nxt is not None and nxt.shape != theta.shape:
        raise ValueError(f"θ_k+1 must have {model.dim} coordinates, got {nxt.shape}")
    X, y, text = samples(model, k, data)
    with np.errstate(all="ignore"):
        loss, grad = model.loss_grad(theta, X, y)
    next_loss = None if nxt is None else float(model_losses(model, nxt[None], X, y)[0])
    upd = None if nxt is None else nxt - theta
    blocks = {}
    gb = model.blocks(grad)
    ub = model.blocks(upd) if upd is not None else {}
    for name in gb:
        g = gb[name].reshape(-1)
        u = ub[name].reshape(-1) if upd is not None else None
        blocks[name] = (float(np.linalg.norm(g)), None if u is None else float(np.linalg.norm(u)), _cos(u, g))
    return ModelStep(int(k), theta, nxt, float(loss), np.asarray(grad, dtype=float), next_loss, data, text, blocks)


def line_minimum(phi, step: float) -> tuple[float, float, bool]:
    r"""The minimiser of :math:`\varphi(t)` on the line, ``(t*, φ(t*), bounded)``.

    ``phi`` maps an array of ``t`` to an array of values (one vectorised call each). The line is explored at
    ``t = 0`` and :math:`t = \pm s\,2^j`, :math:`j \in` :data:`EXPLORE_POWERS` (``s = step``, 15 decades each
    way); the bracket :math:`[t_{i-1}, t_{i+1}]` around the best sample is then refined :data:`REFINE_ROUNDS`
    times on :data:`REFINE_POINTS` points (each round shrinks it 20-fold: about 1e-9 of the bracket at the end).
    For a unimodal φ (convex models: softmax, SVM) this is the exact minimiser to that precision; for the MLP it
    is the best local minimum among those the samples see. ``bounded`` is False when φ still decreases at the
    end of the explored range (no minimum within :math:`s\,2^{24}`): ``t*`` is then that end.
    """
    s = float(step)
    if not (np.isfinite(s) and s > 0):
        raise ValueError(f"step must be a positive number, got {step!r}")
    pos = s * np.exp2(np.array(EXPLORE_POWERS, dtype=float))
    ts = np.concatenate([-pos[::-1], [0.0], pos])
    vals = np.asarray(phi(ts), dtype=float)
    vals = np.where(np.isfinite(vals), vals, np.inf)
    i = int(np.argmin(vals))
    bounded = 0 < i < len(ts) - 1
    if not bounded:
        return float(ts[i]), float(vals[i]), False
    lo, hi = ts[i - 1], ts[i + 1]
    best_t, best_v = ts[i], vals[i]
    for _ in range(REFINE_ROUNDS):
        grid = np.linspace(lo, hi, REFINE_POINTS)
        v = np.asarray(phi(grid), dtype=float)
        v = np.where(np.isfinite(v), v, np.inf)
        j = int(np.argmin(v))
        if v[j] <= best_v:
            best_t, best_v = grid[j], v[j]
        lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, REFINE_POINTS - 1)]
    return float(best_t), float(best_v), True


@dataclass(frozen=True)
class ModelLineSearch:
    r""":math:`\varphi(t) = L(\theta_k + t\,d)`, :math:`d = \Delta\theta/\lVert\Delta\theta\rVert` (see the module
    docstring). ``values[i] = φ(ts[i])``, ``linear[i] = φ(0) + ts[i]·slope`` with ``slope = ∇L·d``;
    ``taken_t = ‖Δθ‖`` and ``taken_value`` the point the optimizer took; ``best_t``, ``best_value`` the
    minimiser on the line (``bounded`` False: φ still decreases at the end of the explored range)."""

    ts: np.ndarray
    values: np.ndarray
    linear: np.ndarray
    value: float
    slope: float
    direction: np.ndarray
    taken_t: float
    taken_value: float
    best_t: float
    best_value: float
    bounded: bool
    data_text: str
    #: φ near the step taken, t in [−s/2, 2s] (s = ‖Δθ‖): where the linear approximation holds or fails.
    zoom_ts: np.ndarray = field(default_factory=lambda: np.empty(0))
    zoom_values: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def zoom_linear(self) -> np.ndarray:
        return self.value + self.zoom_ts * self.slope

    @property
    def ratio(self) -> float:
        """``taken_t / best_t``: above 1 the step overshot the line's minimum, far below 1 ε is too small."""
        return self.taken_t / self.best_t if self.best_t != 0 else float("inf")

    def verdict(self) -> str:
        """One sentence a learner reads: did the step stop short of the line's minimum or overshoot it?"""
        if self.slope >= 0:
            return "the step goes uphill on these samples: the loss rises along it from the start"
        if not self.bounded:
            return "the loss keeps falling along this line as far as it was explored: a longer step would help"
        r = self.ratio
        if r > 1.05:
            return f"overshoot: the step went {r:.3g}× as far as the line's minimum"
        if r < 0.95:
            return f"short: the step covered {100 * r:.3g} % of the way to the line's minimum (a larger ε would go further)"
        return "about right: the step stopped near the line's minimum"


def model_line_search(model: ModelObjective, step: ModelStep, n: int = 161) -> ModelLineSearch | None:
    r"""The line search chart of an explained step (None when no update was taken or it is zero).

    ``ts`` runs over ``n`` points from :math:`\min(0, t^\ast) - T/4` to :math:`\max(s, t^\ast) + T/2` with
    :math:`s = \lVert\Delta\theta\rVert`, :math:`T = \max(s, |t^\ast|)`, so the start, the point taken and the
    minimiser are all in view; the taken point and the minimiser are included exactly. ``zoom_ts`` (81 points on
    :math:`[-s/2, 2s]`) shows the neighbourhood of the step taken, where a too-small step is otherwise a dot at 0.
    """
    upd = step.update
    if upd is None or not np.all(np.isfinite(upd)):
        return None
    s = float(np.linalg.norm(upd))
    if s == 0:
        return None
    d = upd / s
    X, y, text = samples(model, step.k, step.data)
    theta = step.theta

    def phi(ts):
        ts = np.asarray(ts, dtype=float)
        return model_losses(model, theta + ts[:, None] * d, X, y)

    best_t, best_v, bounded = line_minimum(phi, s)
    T = max(s, abs(best_t))
    ts = np.union1d(np.linspace(min(0.0, best_t) - T / 4, max(s, best_t) + T / 2, int(n)), [0.0, s, best_t])
    zoom = np.union1d(np.linspace(-s / 2, 2 * s, 81), [0.0, s])
    both = phi(np.concatenate([ts, zoom]))  # one vectorised evaluation for both charts
    vals, zvals = both[:len(ts)], both[len(ts):]
    slope = float(step.gradient @ d)
    taken = float(vals[np.searchsorted(ts, s)])
    return ModelLineSearch(ts, vals, step.loss + ts * slope, step.loss, slope, d, s, taken, best_t, best_v,
                           bounded, text, zoom, zvals)


@dataclass(frozen=True)
class ModelGradientCheck:
    r"""Analytic :math:`\partial L/\partial\theta_i` against the central difference
    :math:`(L(\theta + h_i e_i) - L(\theta - h_i e_i)) / 2h_i` on coordinates ``coords`` (names in ``labels``,
    e.g. ``W[12, 3]``); ``errors`` are :math:`|a - c| / \max(|a|, |c|)` (0 when both are 0)."""

    coords: np.ndarray
    labels: tuple[str, ...]
    analytic: np.ndarray
    central: np.ndarray
    h: np.ndarray
    errors: np.ndarray
    data_text: str
    #: The same check at every step size of ``curve_h`` (H,): ``curve_errors`` (H, n) per coordinate — large h
    #: truncation (slope 2 on log-log), small h rounding (slope −1); empty when not asked for.
    curve_h: np.ndarray = field(default_factory=lambda: np.empty(0))
    curve_errors: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))

    @property
    def max_error(self) -> float:
        """The largest relative error (NaN if any is: a point or gradient that is not finite)."""
        return float(np.max(self.errors)) if self.errors.size else 0.0


def coordinate_label(model: ModelObjective, i: int) -> str:
    """``"W[12, 3]"``: the block and index of flat coordinate ``i``."""
    for (name, shape), (a, b) in zip(model.layout, model.offsets.values()):
        if a <= i < b:
            idx = np.unravel_index(i - a, shape)
            return f"{name}[{', '.join(str(int(v)) for v in idx)}]"
    raise ValueError(f"coordinate {i} is outside θ (d = {model.dim})")


def _central(model, theta, coords, hs, X, y) -> np.ndarray:
    """Central differences of coordinates ``coords`` with steps ``hs`` (same length), one vectorised call."""
    m = len(coords)
    pts = np.repeat(theta[None], 2 * m, axis=0)
    rows = np.arange(m)
    pts[rows, coords] += hs
    pts[m + rows, coords] -= hs
    vals = model_losses(model, pts, X, y)
    return (vals[:m] - vals[m:]) / (2 * hs)


def _relative(a, c) -> np.ndarray:
    """|a − c| / max(|a|, |c|); 0 where both are 0, NaN where either is not finite (a diverged point)."""
    scale = np.maximum(np.abs(a), np.abs(c))
    with np.errstate(all="ignore"):
        err = np.where(scale > 0, np.abs(a - c) / np.where(scale > 0, scale, 1.0), 0.0)
    return np.where(np.isfinite(a) & np.isfinite(c), err, np.nan)


def model_gradient_check(model: ModelObjective, step: ModelStep, n: int = 8, seed: int = 0,
                         h: float | None = None, curve=None) -> ModelGradientCheck:
    r"""Check the analytic gradient of step ``step`` against central differences on ``n`` random coordinates.

    Coordinates are drawn (with ``seed``) among those whose analytic derivative is not exactly 0 when there are
    enough (a digits pixel that is 0 in every image of the batch has derivative exactly 0: comparing 0 with 0
    tells nothing). The step is :math:`h_i = \epsilon^{1/3}\max(1, |\theta_i|)` by default (the error of a central
    difference is :math:`O(h^2)` truncation plus :math:`O(\epsilon/h)` rounding: about :math:`10^{-10}` relative
    at best). All :math:`2n` shifted parameter vectors go through the loss in one vectorised call. The SVM's hinge
    has kinks: a coordinate whose ±h straddles one shows a large error there, and that is the finite difference's
    fault, not the gradient's.

    ``curve`` (an array of step sizes h): also the relative error of every coordinate at each h, all
    :math:`2nH` shifted vectors in one vectorised call (the function mode's error-against-h chart).
    """
    X, y, text = samples(model, step.k, step.data)
    g = step.gradient
    rng = np.random.default_rng(seed)
    nonzero = np.flatnonzero(g != 0)
    pool = nonzero if len(nonzero) >= n else np.arange(model.dim)
    coords = np.sort(rng.choice(pool, size=min(n, len(pool)), replace=False))
    theta = step.theta
    hs = (np.finfo(float).eps ** (1 / 3) * np.maximum(1.0, np.abs(theta[coords]))) if h is None \
        else np.full(len(coords), float(h))
    analytic = g[coords]
    central = _central(model, theta, coords, hs, X, y)
    errors = _relative(analytic, central)
    labels = tuple(coordinate_label(model, int(i)) for i in coords)
    curve_h, curve_errors = np.empty(0), np.empty((0, len(coords)))
    if curve is not None and len(coords):
        curve_h = np.asarray(curve, dtype=float).reshape(-1)
        if not (np.all(np.isfinite(curve_h)) and np.all(curve_h > 0)):
            raise ValueError("the step sizes of the error curve must be positive numbers")
        H, m = len(curve_h), len(coords)
        c = _central(model, theta, np.tile(coords, H), np.repeat(curve_h, m), X, y).reshape(H, m)
        curve_errors = _relative(analytic[None, :], c)
    return ModelGradientCheck(coords, labels, analytic, central, hs, errors, text, curve_h, curve_errors)


__all__ = ["DATA", "ModelGradientCheck", "ModelLineSearch", "ModelStep", "coordinate_label", "explain_model_step",
           "explain_model_update", "line_minimum", "model_gradient_check", "model_line_search", "model_losses", "samples"]
