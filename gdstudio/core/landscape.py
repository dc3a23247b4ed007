r"""Loss landscapes: slices of a model's loss along two directions, and the training path projected on them.

A slice is :math:`L(a, b) = L(\theta_c + a\,\delta + b\,\eta)` on a grid :math:`a, b \in [-\text{span}, \text{span}]`
(``dims = 1``: the 1-D slice :math:`L(\theta_c + a\,\delta)`, CS231n's left picture), centred on
:math:`\theta_c` (the final parameters by default). Directions:

``random``   Gaussian :math:`\delta, \eta \sim N(0, I)` from the seed, each scaled to the length of
             :math:`\theta_c` (to unit length when :math:`\theta_c = 0`), so ``span = 1`` reaches as far as θ_c is
             from the origin.
``filter``   filter-normalised (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets"): a Gaussian
             direction whose every filter is rescaled to the norm of the matching filter of :math:`\theta_c`.
             A filter is one output unit's incoming weights: column ``j`` of a weight block stored
             ``(inputs, outputs)`` (the row of torch's ``(out, in)`` weight). Bias blocks get a zero direction
             (Li et al.'s ``ignore='biasbn'``); a filter that is zero in θ_c gives a zero direction filter.
``pca``      the plane of the trajectory: the two leading principal directions of :math:`\theta_k - \theta_{final}`
             (right singular vectors of that matrix), unit length, with their explained variance
             :math:`\sigma_i^2 / \sum_j \sigma_j^2`.

The path :math:`\theta_k` is projected by least squares onto the plane through :math:`\theta_c`:
:math:`(a_k, b_k) = \arg\min \lVert \theta_k - \theta_c - a\delta - b\eta \rVert` (solved with the 2×2 Gram matrix,
so non-orthogonal directions are fine). So nobody is fooled by a projection, :attr:`Projection.miss` gives for each
step :math:`\lVert \Delta\theta - P\Delta\theta \rVert / \lVert \Delta\theta\rVert` — the fraction of the step's
length the plane does not show (0: the step lies in the plane; 1: the step is perpendicular to it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdstudio.core.models import ModelObjective, blas_single_thread

DIRECTIONS = ("random", "filter", "pca")


@dataclass(frozen=True)
class Plane:
    """Two directions (2, d) through a centre (d,), with how they were made."""

    centre: np.ndarray
    directions: np.ndarray
    kind: str
    explained: tuple[float, ...] = ()

    def caption(self) -> str:
        if self.kind == "pca":
            total = 100 * sum(self.explained[:2])
            return (f"PCA plane of the path ({total:.1f} % of its variance: "
                    + ", ".join(f"{100 * e:.1f} %" for e in self.explained[:2]) + ")")
        return {"random": "random Gaussian directions", "filter": "filter-normalised directions"}[self.kind]


def _gaussian(d: int, seed: int, count: int) -> np.ndarray:
    return np.random.default_rng((seed, 7919)).standard_normal((count, d))


def random_directions(centre: np.ndarray, seed: int = 0, count: int = 2) -> np.ndarray:
    """Gaussian directions scaled to ‖θ_c‖ (unit length if θ_c = 0)."""
    g = _gaussian(len(centre), seed, count)
    scale = np.linalg.norm(centre) or 1.0
    return g / np.linalg.norm(g, axis=1, keepdims=True) * scale


def filter_directions(model: ModelObjective, centre: np.ndarray, seed: int = 0, count: int = 2) -> np.ndarray:
    """Filter-normalised Gaussian directions (see the module docstring)."""
    g = _gaussian(model.dim, seed, count)
    out = np.zeros_like(g)
    cb = model.blocks(centre)
    ob = model.blocks(out)
    gb = model.blocks(g)
    for name, shape in model.layout:
        if len(shape) < 2:
            continue  # biases: zero direction (Li et al., ignore biasbn)
        w = cb[name]  # (D, C): filter j = column j
        d = gb[name]  # (count, D, C)
        wn = np.linalg.norm(w, axis=0)
        dn = np.linalg.norm(d, axis=1, keepdims=True)
        ob[name][...] = d / np.where(dn > 0, dn, 1.0) * wn
    return out


def pca_directions(thetas: np.ndarray) -> tuple[np.ndarray, tuple[float, ...]]:
    """The two leading principal directions of θ_k − θ_final (unit rows) and every component's explained variance.

    Signs are fixed so that the largest entry of each direction is positive (deterministic).
    """
    thetas = np.asarray(thetas, dtype=float)
    m = thetas - thetas[-1]
    if len(thetas) < 2 or not np.any(m):
        raise ValueError("the PCA plane needs a path that moved (train for at least one step)")
    _, s, vt = np.linalg.svd(m, full_matrices=False)
    var = s ** 2
    explained = tuple(float(v) for v in var / var.sum())
    dirs = np.zeros((2, thetas.shape[1]))
    k = min(2, len(vt))
    dirs[:k] = vt[:k]
    for i in range(k):
        j = np.argmax(np.abs(dirs[i]))
        if dirs[i, j] < 0:
            dirs[i] = -dirs[i]
    if len(explained) < 2:
        explained = explained + (0.0,)
    return dirs, explained


def make_plane(model: ModelObjective, centre: np.ndarray, kind: str = "filter", seed: int = 0,
               thetas: np.ndarray | None = None) -> Plane:
    if kind not in DIRECTIONS:
        raise ValueError(f"unknown directions {kind!r} (valid: {', '.join(DIRECTIONS)})")
    centre = np.asarray(centre, dtype=float)
    if kind == "random":
        return Plane(centre, random_directions(centre, seed), kind)
    if kind == "filter":
        dirs = filter_directions(model, centre, seed)
        if not np.any(dirs):
            raise ValueError("filter-normalised directions are zero here: every weight of θ is zero (zero initial "
                             "weights, not trained yet?); use random directions or train first")
        return Plane(centre, dirs, kind)
    if thetas is None:
        raise ValueError("the PCA plane needs the training path")
    dirs, explained = pca_directions(thetas)
    return Plane(centre, dirs, kind, explained)


@dataclass(frozen=True)
class Slice:
    """Losses on a grid: ``loss[i, j] = L(θ_c + a[i] δ + b[j] η)`` (``b = [0]`` for a 1-D slice)."""

    a: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    plane: Plane


def grid_slice(model: ModelObjective, plane: Plane, grid: int = 51, span: float = 1.0, dims: int = 2,
               part: str = "train") -> Slice:
    """Evaluate the slice (vectorised; linear models exactly via their scores, see ``plane_loss``)."""
    if grid < 2:
        raise ValueError(f"the grid needs at least 2 points per axis, got {grid}")
    if not (np.isfinite(span) and span > 0):
        raise ValueError(f"span must be a number > 0, got {span}")
    if dims not in (1, 2):
        raise ValueError(f"dims must be 1 or 2, got {dims}")
    a = np.linspace(-span, span, grid)
    b = np.linspace(-span, span, grid) if dims == 2 else np.zeros(1)
    aa, bb = np.meshgrid(a, b, indexing="ij")
    coeffs = np.stack([aa.ravel(), bb.ravel()], axis=1)
    with np.errstate(all="ignore"), blas_single_thread():
        loss = model.plane_loss(plane.centre, plane.directions, coeffs, part).reshape(aa.shape)
    return Slice(a, b, loss, plane)


@dataclass(frozen=True)
class Projection:
    """The path in plane coordinates: ``ab`` (K+1, 2); ``miss`` (K,) the fraction of each step off the plane;
    ``distance`` (K+1,) how far each θ_k lies from the plane."""

    ab: np.ndarray
    miss: np.ndarray
    distance: np.ndarray

    @property
    def mean_miss(self) -> float:
        return float(np.nanmean(self.miss)) if len(self.miss) else 0.0


def project(plane: Plane, thetas: np.ndarray) -> Projection:
    """Least-squares coordinates of θ_k in the plane and what each step loses (see the module docstring)."""
    thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
    D = plane.directions
    gram = D @ D.T
    pinv = np.linalg.pinv(gram)
    rel = thetas - plane.centre
    ab = (rel @ D.T) @ pinv.T
    resid = rel - ab @ D
    distance = np.linalg.norm(resid, axis=1)
    steps = np.diff(thetas, axis=0)
    if len(steps):
        step_ab = (steps @ D.T) @ pinv.T
        off = np.linalg.norm(steps - step_ab @ D, axis=1)
        n = np.linalg.norm(steps, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            miss = np.where(n > 0, off / np.where(n > 0, n, 1.0), 0.0)
    else:
        miss = np.zeros(0)
    return Projection(ab, miss, distance)


def _num(v: float) -> str:
    v = float(v)
    return "" if v != v else repr(v)


def slice_csv(sl: Slice) -> str:
    """``a, b, loss`` rows, ``a`` varying slowest (a 1-D slice has ``b = 0`` on every row)."""
    lines = ["a,b,loss"]
    for i, a in enumerate(sl.a):
        for j, b in enumerate(sl.b):
            lines.append(f"{_num(a)},{_num(b)},{_num(sl.loss[i, j])}")
    return "\n".join(lines) + "\n"


def path_csv(proj: Projection, curve) -> str:
    """The projected path: ``step, epoch, a, b, loss, distance, miss`` (``loss`` the step's batch loss;
    ``distance`` how far θ_k is from the plane; ``miss`` the fraction of step k's length off the plane)."""
    lines = ["step,epoch,a,b,loss,distance,miss"]
    steps, epochs, losses = curve.rows["step"], curve.rows["epoch"], curve.rows["batch_loss"]
    for k in range(len(proj.ab)):
        miss = "" if k == 0 else _num(proj.miss[k - 1])
        lines.append(f"{steps[k]},{_num(epochs[k])},{_num(proj.ab[k, 0])},{_num(proj.ab[k, 1])},"
                     f"{_num(losses[k])},{_num(proj.distance[k])},{miss}")
    return "\n".join(lines) + "\n"


def landscape_csvs(sl: Slice, proj: Projection, curve) -> tuple[str, str]:
    return slice_csv(sl), path_csv(proj, curve)
