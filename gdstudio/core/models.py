r"""Classifiers as objectives: a model's loss on a dataset is a function of one flat parameter vector θ.

θ is cut into named blocks (:attr:`ModelObjective.layout`), e.g. for a linear model on digits
``W (64, 10)`` then ``b (10,)``, each stored row-major. Value and gradient take θ of shape ``(d,)`` or a
batch ``(N, d)`` (every row evaluated on the same samples, vectorised: no loop over rows), so gdstudio's
optimizers, sweeps and races run on a model as on any objective.

Models (``X`` the ``(n, D)`` features of the current batch, ``y`` the labels, ``s = XW + b`` the
``(n, C)`` class scores):

``svm``       the CS231n multiclass hinge loss
              :math:`L = \frac1n\sum_i \sum_{j \ne y_i} \max(0,\ s_{ij} - s_{i y_i} + 1) + \lambda \sum W^2`,
              gradient :math:`\partial L/\partial s_{ij} = \frac1n[\,s_{ij} - s_{iy_i} + 1 > 0\,]` for
              :math:`j \ne y_i` and :math:`-\frac1n\#\{j \ne y_i : \text{margin} > 0\}` for :math:`j = y_i`
              (the subgradient 0 at a kink, as torch's ``relu``)
``softmax``   mean cross-entropy :math:`L = -\frac1n\sum_i \log p_{i y_i} + \lambda\sum W^2`,
              :math:`p = \operatorname{softmax}(s)`, :math:`\partial L/\partial s = (p - Y)/n`
``mlp``       one hidden layer: :math:`h = \phi(X W_1 + b_1)` (``activation`` relu or tanh, width ``hidden``),
              :math:`s = h W_2 + b_2`, softmax cross-entropy, :math:`\lambda(\sum W_1^2 + \sum W_2^2)`;
              backpropagation :math:`\partial L/\partial W_2 = h^\top \partial s`,
              :math:`\partial h = \partial s\, W_2^\top`, :math:`\partial z = \partial h \cdot \phi'(z)`
              (relu' = 1 where z > 0, else 0), :math:`\partial L/\partial W_1 = X^\top \partial z`

In each, :math:`\partial L/\partial W = X^\top \partial s + 2\lambda W` and :math:`\partial L/\partial b =
\sum_i \partial s_i`; biases are not regularised.

Initial parameters (:meth:`ModelObjective.initial_theta`): linear models start at zero (``init="zeros"``)
or with weights ``0.01 · N(0, 1)`` (``init="normal"``); the MLP uses He initialisation
:math:`W_1 \sim N(0, 2/D)`, :math:`W_2 \sim N(0, 2/H)`, zero biases. Draws come from
``numpy.random.default_rng(seed)``.

Minibatches: with ``batch_size = B`` the training samples are reshuffled at the start of every epoch by
``numpy.random.default_rng((seed, epoch)).permutation(n)`` and cut into ``ceil(n / B)`` batches (the last
may be shorter; an epoch is one pass). A run asks for the batch of step ``k`` by calling :meth:`on_step`
before it evaluates the loss and gradient at :math:`\theta_k` (the gradient that drives update ``k + 1``).
``batch_size=None`` is the full training set every step.
"""

from __future__ import annotations

import contextlib
import math
from types import MappingProxyType

import numpy as np

from gdstudio.core.data import Dataset
from gdstudio.core.objectives.base import Objective
from gdstudio.core.specs import HyperParam

MODELS = ("svm", "softmax", "mlp")
ACTIVATIONS = ("relu", "tanh")
INITS = ("zeros", "normal")

#: Above this many parameters a dense d×d method (Newton, BFGS) is refused.
MAX_DENSE_DIM = 500

#: Elements (grid points × samples × classes) evaluated at once by :meth:`ModelObjective.plane_loss` for a
#: linear model (small chunks stay in cache), and (grid points × samples × hidden units) for the MLP.
CHUNK_ELEMENTS = 250_000
CHUNK_ELEMENTS_MLP = 2_000_000


@contextlib.contextmanager
def blas_single_thread():
    """Run the enclosed numpy work with one BLAS thread.

    The matrices here are small (1,797 × 64 for digits): OpenBLAS's threads cost more than they save, and on a
    busy machine they were measured 10–40× slower than one thread. Uses threadpoolctl (a scikit-learn
    dependency) when it is importable; otherwise does nothing.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield

def _reg(default: float, doc: str) -> HyperParam:
    return HyperParam("reg", default, 0.0, math.inf, doc=doc, log=True, symbol="λ")


#: Each model's parameters (``--param KEY=VALUE``; the window's form), as the core's setting specs.
MODEL_PARAMS = {
    "svm": (_reg(1e-3, "L2 strength λ on the weights (not the biases)"),),
    "softmax": (_reg(1e-3, "L2 strength λ on the weights (not the biases)"),),
    "mlp": (_reg(1e-4, "L2 strength λ on W₁ and W₂ (not the biases)"),
            HyperParam("hidden", 32, 1, 4096, kind="int", doc="width of the hidden layer"),
            HyperParam("activation", "relu", kind="choice", choices=ACTIVATIONS,
                       doc="the hidden layer's non-linearity")),
}

TITLES = {"svm": "Linear SVM (multiclass hinge)", "softmax": "Softmax regression", "mlp": "MLP (one hidden layer)"}


def xw(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``X @ W`` for samples X (n, D) and a stack of weights W (..., D, C) → (..., n, C), one BLAS call."""
    lead, (D, C) = W.shape[:-2], W.shape[-2:]
    if not lead:
        return X @ W
    m = int(np.prod(lead))
    flat = np.moveaxis(W.reshape(m, D, C), 0, 1).reshape(D, m * C)
    return np.moveaxis((X @ flat).reshape(len(X), m, C), 1, 0).reshape(lead + (len(X), C))


def xtd(X: np.ndarray, ds: np.ndarray) -> np.ndarray:
    """``X.T @ ds`` for samples X (n, D) and a stack ds (..., n, C) → (..., D, C), one BLAS call."""
    lead, (n, C) = ds.shape[:-2], ds.shape[-2:]
    if not lead:
        return X.T @ ds
    m = int(np.prod(lead))
    flat = np.moveaxis(ds.reshape(m, n, C), 0, 1).reshape(n, m * C)
    return np.moveaxis((X.T @ flat).reshape(X.shape[1], m, C), 1, 0).reshape(lead + (X.shape[1], C))


def _log_softmax(s: np.ndarray) -> np.ndarray:
    m = s.max(axis=-1, keepdims=True)
    z = s - m
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def head_loss(kind: str, s: np.ndarray, y: np.ndarray, need_grad: bool = True):
    """Data loss of scores ``s`` (..., n, C) for labels ``y`` (n,): per-row mean loss (...) and ∂L/∂s."""
    n = s.shape[-2]
    rows = np.arange(n)
    if kind == "svm":
        sy = s[..., rows, y][..., None]
        margins = s - sy + 1.0
        margins[..., rows, y] = 0.0
        loss = np.maximum(margins, 0.0).sum(axis=(-2, -1)) / n
        if not need_grad:
            return loss, None
        ind = (margins > 0).astype(float)
        ind[..., rows, y] = -ind.sum(axis=-1)
        return loss, ind / n
    logp = _log_softmax(s)
    loss = -logp[..., rows, y].sum(axis=-1) / n
    if not need_grad:
        return loss, None
    ds = np.exp(logp)
    ds[..., rows, y] -= 1.0
    return loss, ds / n


class ModelObjective(Objective):
    """A classifier's training loss as an objective of its flat parameter vector θ (see the module docstring).

    Parameters
    ----------
    dataset : Dataset
    model : ``"svm"``, ``"softmax"`` or ``"mlp"``
    params : model parameters (``reg``; for the MLP also ``hidden`` and ``activation``)
    batch_size : samples per step, or ``None`` for the full training set
    seed : seeds the initial parameters and the per-epoch shuffles
    init : ``"zeros"`` or ``"normal"`` (linear models; the MLP is always He-initialised)
    """

    log_levels = True

    def __init__(self, dataset: Dataset, model: str = "softmax", params=None, batch_size: int | None = None,
                 seed: int = 0, init: str = "zeros"):
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r} (valid: {', '.join(MODELS)})")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r} (valid: {', '.join(INITS)})")
        spec = {p.name: p for p in MODEL_PARAMS[model]}
        params = dict(params or {})
        unknown = sorted(set(params) - set(spec))
        if unknown:
            raise ValueError(f"model {model!r} has no parameter {unknown[0]!r} (valid: {', '.join(spec)})")
        values = {key: p.parse(params[key]) if key in params else p.default for key, p in spec.items()}
        self.params = MappingProxyType(values)
        self.dataset = dataset
        self.model = model
        self.seed = int(seed)
        self.init = init
        self.reg = values["reg"]
        n = len(dataset.y_train)
        if n == 0:
            raise ValueError("the training set is empty")
        if batch_size is not None:
            batch_size = int(batch_size)
            if batch_size < 1:
                raise ValueError(f"batch size must be ≥ 1, got {batch_size}")
            if batch_size >= n:
                batch_size = None
        self.batch_size = batch_size
        D, C = dataset.n_features, dataset.n_classes
        if model == "mlp":
            H = int(values["hidden"])
            self.hidden = H
            self.activation = values["activation"]
            self.layout = (("W1", (D, H)), ("b1", (H,)), ("W2", (H, C)), ("b2", (C,)))
        else:
            self.layout = (("W", (D, C)), ("b", (C,)))
        offsets, o = {}, 0
        for name, shape in self.layout:
            size = int(np.prod(shape))
            offsets[name] = (o, o + size)
            o += size
        self.offsets = offsets
        self.dim = o
        self.name = model
        self.title = f"{TITLES[model]} on {dataset.name}"
        self.formula = {"svm": "mean Σ_{j≠y} max(0, s_j − s_y + 1) + λ ΣW²",
                        "softmax": "mean −log softmax(s)_y + λ ΣW²",
                        "mlp": "mean −log softmax(φ(XW₁ + b₁)W₂ + b₂)_y + λ(ΣW₁² + ΣW₂²), "
                               f"φ = {getattr(self, 'activation', '')}",
                        }[model]
        self.domain = ((-1.0, 1.0), (-1.0, 1.0))
        self._k = None
        self._Xb, self._yb = dataset.X_train, dataset.y_train

    # --- layout -----------------------------------------------------------------------------------
    @property
    def n_train(self) -> int:
        return len(self.dataset.y_train)

    @property
    def batches_per_epoch(self) -> int:
        return 1 if self.batch_size is None else math.ceil(self.n_train / self.batch_size)

    def layout_text(self) -> str:
        return ", ".join(f"{name} {shape}" for name, shape in self.layout)

    def blocks(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Views of θ (shape (..., d)) as its named blocks, each (..., *shape)."""
        theta = np.asarray(theta, dtype=float)
        lead = theta.shape[:-1]
        return {name: theta[..., a:b].reshape(lead + shape) for (name, shape), (a, b)
                in zip(self.layout, self.offsets.values())}

    def weight_mask(self) -> np.ndarray:
        """1 for the regularised weights, 0 for the biases (shape (d,))."""
        m = np.zeros(self.dim)
        for name, (a, b) in self.offsets.items():
            if name.startswith("W"):
                m[a:b] = 1.0
        return m

    def initial_theta(self) -> np.ndarray:
        theta = np.zeros(self.dim)
        rng = np.random.default_rng(self.seed)
        bl = self.blocks(theta)
        if self.model == "mlp":
            D, H = self.layout[0][1]
            bl["W1"][...] = rng.standard_normal((D, H)) * math.sqrt(2.0 / D)
            bl["W2"][...] = rng.standard_normal(self.layout[2][1]) * math.sqrt(2.0 / H)
        elif self.init == "normal":
            bl["W"][...] = 0.01 * rng.standard_normal(self.layout[0][1])
        return theta

    # --- batches ----------------------------------------------------------------------------------
    def batch_indices(self, k: int) -> np.ndarray | None:
        """Training-sample indices of the batch of step ``k`` (``None`` = all, in order)."""
        if self.batch_size is None:
            return None
        epoch, j = divmod(int(k), self.batches_per_epoch)
        perm = np.random.default_rng((self.seed, epoch)).permutation(self.n_train)
        return perm[j * self.batch_size:(j + 1) * self.batch_size]

    def on_step(self, k: int) -> None:
        """Select the batch of step ``k`` for the following value/gradient calls (called by the run loop)."""
        if self.batch_size is None or k == self._k:
            return
        idx = self.batch_indices(k)
        self._k = k
        self._Xb, self._yb = self.dataset.X_train[idx], self.dataset.y_train[idx]

    def copy(self) -> "ModelObjective":
        """A model with the same data (shared, read-only) and its own batch position (one per run)."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other._k = None
        other._Xb, other._yb = self.dataset.X_train, self.dataset.y_train
        return other

    # --- the mathematics --------------------------------------------------------------------------
    def scores(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Class scores (..., n, C) of samples X (n, D) for parameters θ (..., d)."""
        bl = self.blocks(theta)
        if self.model == "mlp":
            h = self._act(xw(X, bl["W1"]) + bl["b1"][..., None, :])
            return h @ bl["W2"] + bl["b2"][..., None, :]
        return xw(X, bl["W"]) + bl["b"][..., None, :]

    def _act(self, z):
        return np.maximum(z, 0.0) if self.activation == "relu" else np.tanh(z)

    def _reg_value(self, theta: np.ndarray) -> np.ndarray:
        w = theta * self.weight_mask()
        return self.reg * np.einsum("...i,...i->...", w, w)

    def loss_grad(self, theta, X, y, need_grad: bool = True):
        """Loss (...) and gradient (..., d) at θ (..., d) on samples (X, y)."""
        theta = np.asarray(theta, dtype=float)
        if theta.ndim == 0 or theta.shape[-1] != self.dim:
            raise ValueError(f"parameters must have shape (..., {self.dim}), got {theta.shape}")
        bl = self.blocks(theta)
        if self.model == "mlp":
            z = xw(X, bl["W1"]) + bl["b1"][..., None, :]
            h = self._act(z)
            s = h @ bl["W2"] + bl["b2"][..., None, :]
            data, ds = head_loss("softmax", s, y, need_grad)
        else:
            s = xw(X, bl["W"]) + bl["b"][..., None, :]
            data, ds = head_loss(self.model, s, y, need_grad)
        loss = data + self._reg_value(theta)
        if not need_grad:
            return loss, None
        g = np.empty(theta.shape)
        gb = self.blocks(g)
        if self.model == "mlp":
            gb["W2"][...] = np.swapaxes(h, -1, -2) @ ds + 2 * self.reg * bl["W2"]
            gb["b2"][...] = ds.sum(axis=-2)
            dh = ds @ np.swapaxes(bl["W2"], -1, -2)
            dz = dh * (z > 0) if self.activation == "relu" else dh * (1.0 - h * h)
            gb["W1"][...] = xtd(X, dz) + 2 * self.reg * bl["W1"]
            gb["b1"][...] = dz.sum(axis=-2)
        else:
            gb["W"][...] = xtd(X, ds) + 2 * self.reg * bl["W"]
            gb["b"][...] = ds.sum(axis=-2)
        return loss, g

    def value(self, p) -> np.ndarray:
        return self.loss_grad(p, self._Xb, self._yb, need_grad=False)[0]

    def gradient(self, p) -> np.ndarray:
        return self.loss_grad(p, self._Xb, self._yb)[1]

    def value_and_gradient(self, p) -> tuple[np.ndarray, np.ndarray]:
        """Both from one forward pass (the loss is computed the same way with or without the gradient)."""
        return self.loss_grad(p, self._Xb, self._yb)

    def hessian(self, p) -> np.ndarray:
        if self.dim > MAX_DENSE_DIM:
            raise ValueError(dense_refusal(self.dim))
        raise NotImplementedError  # small models: central differences of the gradient (Problem.hessian)

    def full_loss(self, theta, part: str = "train") -> np.ndarray:
        """Loss on the whole training (``"train"``) or validation (``"val"``) part, no batching."""
        X, y = self._part(part)
        if len(y) == 0:
            return np.full(np.shape(theta)[:-1], np.nan)
        return self.loss_grad(theta, X, y, need_grad=False)[0]

    def accuracy(self, theta, part: str = "train") -> np.ndarray:
        """Fraction of samples whose highest score is their label."""
        X, y = self._part(part)
        if len(y) == 0:
            return np.full(np.shape(theta)[:-1], np.nan)
        return (self.scores(theta, X).argmax(axis=-1) == y).mean(axis=-1)

    def _part(self, part: str):
        d = self.dataset
        if part == "train":
            return d.X_train, d.y_train
        if part == "val":
            return d.X_val, d.y_val
        raise ValueError(f"unknown part {part!r} (train or val)")

    def plane_loss(self, centre: np.ndarray, directions: np.ndarray, coeffs: np.ndarray,
                   part: str = "train") -> np.ndarray:
        r"""Full loss at :math:`\theta_c + \sum_k c_{gk} \delta_k` for coefficient rows ``coeffs`` (G, K).

        Linear models exactly and cheaply: scores are linear in θ, so :math:`S_c = X W_c + b_c` and
        :math:`S_k = X W_{\delta_k} + b_{\delta_k}` are computed once and each grid point costs only
        :math:`S = S_c + \sum_k c_k S_k` and the elementwise loss; the penalty
        :math:`\lambda\lVert W_c + \sum_k c_k W_k\rVert^2` is expanded exactly from the Gram matrix of the blocks.
        The MLP is evaluated point by point in chunks. Memory stays under :data:`CHUNK_ELEMENTS` floats.
        """
        X, y = self._part(part)
        centre = np.asarray(centre, dtype=float)
        directions = np.atleast_2d(np.asarray(directions, dtype=float))
        coeffs = np.atleast_2d(np.asarray(coeffs, dtype=float))
        G = len(coeffs)
        out = np.empty(G)
        if self.model == "mlp":
            chunk = max(1, CHUNK_ELEMENTS_MLP // (len(y) * max(self.hidden, self.dataset.n_classes)))
            for a in range(0, G, chunk):
                pts = centre + coeffs[a:a + chunk] @ directions
                out[a:a + chunk] = self.loss_grad(pts, X, y, need_grad=False)[0]
            return out
        # Class-major layout (C, n): reductions over the C classes become elementwise work on contiguous rows.
        n = len(y)
        rows = np.arange(n)
        s0 = self.scores(centre, X).T  # (C, n)
        sk = np.swapaxes(self.scores(directions, X), -1, -2)  # (K, C, n): X W_δ + b_δ
        s0y, sky = s0[y, rows], sk[:, y, rows]  # the label's score is linear in the coefficients too
        mask = self.weight_mask()
        basis = np.vstack([centre, directions]) * mask
        gram = basis @ basis.T  # (1+K, 1+K)
        K, C = len(directions), s0.shape[0]
        chunk = max(1, CHUNK_ELEMENTS // (n * C))
        sk_flat = sk.reshape(K, C * n)
        for a in range(0, G, chunk):
            c = coeffs[a:a + chunk]
            s = (s0.ravel() + c @ sk_flat).reshape(len(c), C, n)
            sy = s0y + c @ sky  # (g, n)
            if self.model == "svm":  # Σ_j max(0, s_j − s_y + 1) counts j = y as exactly 1
                s -= sy[:, None, :]
                s += 1.0
                np.maximum(s, 0.0, out=s)
                data = (s.sum(axis=1) - 1.0).sum(axis=1) / n
            else:  # log Σ_j exp(s_j) − s_y, shifted by the largest score for stability
                m = s.max(axis=1)
                s -= m[:, None, :]
                np.exp(s, out=s)
                data = (np.log(s.sum(axis=1)) + m - sy).sum(axis=1) / n
            cc = np.hstack([np.ones((len(c), 1)), c])
            out[a:a + chunk] = data + self.reg * np.einsum("gi,ij,gj->g", cc, gram, cc)
        return out

    def spec(self) -> str:
        return self.model

    def describe(self) -> str:
        return f"{self.title}: L = {self.formula}; θ = {self.layout_text()} (d = {self.dim})"

    def __repr__(self) -> str:
        return f"<ModelObjective {self.model} on {self.dataset.name}, d={self.dim}>"


def dense_refusal(dim: int) -> str:
    return (f"this model has d = {dim} parameters: Newton and BFGS build dense d×d matrices and are offered only "
            f"up to d = {MAX_DENSE_DIM}; use L-BFGS (lbfgs: quasi-Newton in O(history × d) memory), Newton-CG "
            f"(newton-cg: Hessian-vector products, O(d)) or a first-order optimizer (gd, momentum, adam...)")
