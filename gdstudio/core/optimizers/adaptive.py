"""Adaptive per-coordinate step sizes: Adagrad, RMSprop, Adam, AdamW — torch.optim's update rules.

Each class follows the single-tensor implementation in ``torch/optim/<name>.py`` operation by operation
(including the order of floating-point operations, e.g. ``addcdiv`` computes ``x + (v·a)/b``), so its
trajectories equal torch's in float64 to rounding (``tests/core/test_optimizers_torch.py`` checks them
against ``tests/core/data/torch_reference.json``). Names and defaults are torch's; torch's
``betas=(β₁, β₂)`` is split into ``beta1`` and ``beta2``.

Every state holds a per-row step counter ``step`` of shape (N,), so starts that end early keep their own
bias corrections when the others go on.
"""

from __future__ import annotations

import math

import numpy as np

from gdstudio.core.optimizers.base import (
    EPS,
    WEIGHT_DECAY,
    HyperParam,
    Optimizer,
    Shown,
    Update,
    apply_weight_decay,
    common_step,
    lr_param,
    next_step,
)
from gdstudio.core.optimizers.momentum import VELOCITY


def lerp(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """``start + weight·(end − start)`` computed as torch's ``lerp`` does (two formulas for accuracy)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _bias_corrections(beta1: float, beta2: float, step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``1 − β₁^k`` and ``(1 − β₂^k)^0.5`` per row, computed in Python floats exactly as torch does.

    torch evaluates these on Python floats (the C library's ``pow``); numpy's vectorised power may
    round differently in the last bit, so the few distinct step counts are mapped through Python.
    """
    if step.size == 1 or (step.size and step[0] == step[-1] and np.all(step == step[0])):  # the usual case: one count
        k = float(step[0])
        return np.full(step.shape, 1 - beta1**k), np.full(step.shape, (1 - beta2**k) ** 0.5)
    uniq, inv = np.unique(step, return_inverse=True)
    inv = inv.reshape(step.shape)
    bc1 = np.array([1 - beta1 ** float(k) for k in uniq])
    bc2 = np.array([(1 - beta2 ** float(k)) ** 0.5 for k in uniq])
    return bc1[inv], bc2[inv]


BETA1 = HyperParam("beta1", 0.9, 0.0, 1.0, high_open=True, symbol="β₁",
                   doc="decay rate β₁ of the running mean of gradients (torch: betas[0])")
BETA2 = HyperParam("beta2", 0.999, 0.0, 1.0, high_open=True, symbol="β₂",
                   doc="decay rate β₂ of the running mean of squared gradients (torch: betas[1])")
AMSGRAD = HyperParam("amsgrad", False, kind="bool",
                     doc="use the running maximum of the second moment (AMSGrad), so steps never grow back")


class Adagrad(Optimizer):
    r"""Adagrad: each coordinate's step is divided by the root of its summed squared gradients.

    With :math:`g_k = \nabla f(x_k) + \lambda x_k`, step number :math:`k = 1, 2, \dots` and
    :math:`s_0` = ``initial_accumulator_value``:

    .. math::

        \tilde\varepsilon_k = \frac{\varepsilon}{1 + (k - 1)\,\eta}, \qquad
        s_k = s_{k-1} + g_k \odot g_k, \qquad
        x_{k+1} = x_k - \tilde\varepsilon_k \, \frac{g_k}{\sqrt{s_k} + \epsilon}

    (η = ``lr_decay``). Steps shrink as gradients accumulate: a steep coordinate is tamed quickly,
    a shallow one keeps a relatively large step — and every step keeps shrinking, so Adagrad slows
    down on long runs.

    State: ``step`` (N,); ``sum`` (N, d) the accumulated squared gradients ``s``.

    Reference: Duchi, Hazan & Singer (2011), Adaptive subgradient methods for online learning and
    stochastic optimization; torch.optim.Adagrad.
    """

    name = "adagrad"
    elementwise = True
    title = "Adagrad"
    rule = "s ← s + g²;  x ← x − ε·g/(√s + ϵ)"
    reference = "Duchi, Hazan & Singer (2011); torch.optim.Adagrad"
    hyperparams = (
        lr_param(1e-2),
        HyperParam("lr_decay", 0.0, 0.0, np.inf, symbol="η",
                   doc="learning-rate decay η: step k uses ε / (1 + (k − 1)η)"),
        WEIGHT_DECAY,
        HyperParam("initial_accumulator_value", 0.0, 0.0, np.inf, symbol="s₀",
                   doc="starting value s₀ of the sum of squared gradients"),
        HyperParam("eps", 1e-10, 0.0, np.inf, low_open=True, log=True, symbol="ϵ",
                   doc="term added to the denominator for numerical stability"),
    )

    shown = (Shown("sqrt_sum", "√s"), Shown("step_size", "per-coordinate step ε̃/(√s+ϵ) (Adagrad)", arrow=True))

    def init(self, x, g, problem, rng):
        return {"step": np.zeros(len(x)), "sum": np.full_like(x, self.hp["initial_accumulator_value"])}

    def derived(self, state):
        r"""The per-coordinate step size :math:`\tilde\varepsilon_k / (\sqrt{s_k} + \epsilon)` and :math:`\sqrt{s_k}`."""
        hp = self.hp
        t = float(np.asarray(state["step"]).reshape(-1)[0])
        clr = hp["lr"] / (1 + (t - 1) * hp["lr_decay"]) if t >= 1 else hp["lr"]
        std = np.sqrt(np.asarray(state["sum"], dtype=float)) + hp["eps"]
        return {"sqrt_sum": std - hp["eps"], "step_size": clr / std}

    def update(self, x, g, state, problem, rng):
        hp = self.hp
        step = state["step"] + 1
        x, g = apply_weight_decay(x, g, hp["weight_decay"])
        clr = hp["lr"] / (1 + (step - 1) * hp["lr_decay"])
        s = state["sum"] + (1 * g) * g
        std = np.sqrt(s) + hp["eps"]
        x = x + ((-clr)[:, None] * g) / std
        return Update(x, {"step": step, "sum": s})


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    With :math:`g_k = \nabla f(x_k) + \lambda x_k`, smoothing constant α, and :math:`v_0 = 0`:

    .. math::

        v_k = \alpha v_{k-1} + (1 - \alpha)\, g_k \odot g_k, \qquad
        \bar g_k = \alpha \bar g_{k-1} + (1 - \alpha)\, g_k \;\; (\text{centered only}),

        r_k = \sqrt{v_k} + \epsilon \quad\text{or, centered,}\quad
        r_k = \sqrt{v_k - \bar g_k \odot \bar g_k} + \epsilon,

        x_{k+1} = x_k - \varepsilon\, g_k / r_k
        \quad\text{or, with momentum μ,}\quad
        b_k = \mu b_{k-1} + g_k / r_k, \;\; x_{k+1} = x_k - \varepsilon\, b_k

    Unlike Adagrad the average forgets old gradients (time scale 1/(1 − α) steps), so the step
    does not shrink for ever. Centered RMSprop divides by an estimate of the gradient's standard
    deviation instead of its root mean square.

    State: ``step`` (N,); ``square_avg`` (N, d) ``v``; ``grad_avg`` (N, d) ``ḡ`` (zero unless
    centered); ``buf`` (N, d) the momentum buffer (zero unless momentum > 0).

    Reference: Tieleman & Hinton (2012), Lecture 6.5 of Neural Networks for Machine Learning;
    Graves (2013) for the centered form; torch.optim.RMSprop.
    """

    name = "rmsprop"
    elementwise = True
    title = "RMSprop"
    rule = "v ← αv + (1−α)g²;  x ← x − ε·g/(√v + ϵ)"
    reference = "Tieleman & Hinton (2012); torch.optim.RMSprop"
    hyperparams = (
        lr_param(1e-2),
        HyperParam("alpha", 0.99, 0.0, 1.0, high_open=True, symbol="α",
                   doc="smoothing constant α of the running mean of squared gradients"),
        EPS,
        WEIGHT_DECAY,
        HyperParam("momentum", 0.0, 0.0, 1.0, high_open=True, symbol="μ",
                   doc="momentum factor μ applied to the scaled step (0: none)"),
        HyperParam("centered", False, kind="bool",
                   doc="divide by the estimated standard deviation of the gradient instead of its RMS"),
    )

    shown = (VELOCITY, Shown("rms", "RMS r"), Shown("step_size", "per-coordinate step ε/r (RMSprop)", arrow=True))

    def init(self, x, g, problem, rng):
        z = np.zeros_like(x)
        return {"step": np.zeros(len(x)), "square_avg": z, "grad_avg": z, "buf": z}

    def derived(self, state):
        r"""The per-coordinate step size :math:`\varepsilon / r` with :math:`r = \sqrt{v} + \epsilon`
        (centered: :math:`\sqrt{v - \bar g^2} + \epsilon`)."""
        hp = self.hp
        v = np.asarray(state["square_avg"], dtype=float)
        if hp["centered"]:
            ga = np.asarray(state["grad_avg"], dtype=float)
            v = v - ga * ga
        r = np.sqrt(v) + hp["eps"]
        return {"rms": r, "step_size": hp["lr"] / r}

    def update(self, x, g, state, problem, rng):
        hp = self.hp
        alpha, eps, mom = hp["alpha"], hp["eps"], hp["momentum"]
        x, g = apply_weight_decay(x, g, hp["weight_decay"])
        sq = state["square_avg"] * alpha + ((1 - alpha) * g) * g
        ga = state["grad_avg"]
        if hp["centered"]:
            ga = lerp(ga, g, 1 - alpha)
            avg = np.sqrt(sq + (-1 * ga) * ga)
        else:
            avg = np.sqrt(sq)
        avg = avg + eps
        buf = state["buf"]
        if mom > 0:
            buf = buf * mom + (1 * g) / avg
            x = x + (-hp["lr"]) * buf
        else:
            x = x + ((-hp["lr"]) * g) / avg
        return Update(x, {"step": state["step"] + 1, "square_avg": sq, "grad_avg": ga, "buf": buf})


def _adam_step(x, g, state, lr, beta1, beta2, eps, amsgrad):
    """The Adam step shared by Adam and AdamW (after their different weight decays).

    Written with in-place arithmetic on fresh temporaries (never on ``x``, ``g`` or the state, which
    stay untouched): the same operations in the same order as torch's, so the same bits, with fewer
    allocations. ``lerp`` with weight 1 − β₁ < 0.5 is ``m + (1 − β₁)(g − m)``.
    """
    if (not amsgrad and type(x) is np.ndarray and type(g) is np.ndarray and x.ndim == 2 and x.shape[0] == 1
            and x.shape[1] <= 4 and abs(1 - beta1) < 0.5
            and x.dtype == g.dtype == state["exp_avg"].dtype == state["exp_avg_sq"].dtype == np.float64):
        one = _adam_step_one(x, g, state, lr, beta1, beta2, eps)
        if one is not None:
            return one
    common = common_step(state["step"])
    step = next_step(state["step"], common)
    w = 1 - beta1
    if abs(w) < 0.5:
        m = g - state["exp_avg"]
        m *= w
        m += state["exp_avg"]
    else:
        m = lerp(state["exp_avg"], g, w)
    v = state["exp_avg_sq"] * beta2
    t = g * (1 - beta2)
    t *= g
    v += t
    if common is not None:  # the usual case: one count for every row
        k = common + 1
        bc1, bc2_sqrt = 1 - beta1**k, (1 - beta2**k) ** 0.5  # Python floats, as torch computes them
        neg_step = -(lr / bc1)
    else:
        bc1a, bc2a = _bias_corrections(beta1, beta2, step)
        bc2_sqrt, neg_step = bc2a[:, None], (-(lr / bc1a))[:, None]
    vmax = np.maximum(state["max_exp_avg_sq"], v) if amsgrad else state["max_exp_avg_sq"]
    root = vmax if amsgrad else v
    # t is free again: one array fewer (when it has the shape and type the square root gives)
    denom = np.sqrt(root, out=t if t.shape == root.shape and t.dtype == root.dtype else None)
    denom /= bc2_sqrt
    denom += eps
    u = m * neg_step
    u /= denom
    u += x
    return u, {"step": step, "exp_avg": m, "exp_avg_sq": v, "max_exp_avg_sq": vmax}


def _adam_step_one(x, g, state, lr, beta1, beta2, eps):
    """:func:`_adam_step` for one start, in Python floats: the same IEEE operations in the same order.

    ``+ − × ÷`` and the square root are correctly rounded in Python as in numpy, so the bits are the
    same; a few numpy calls on 2-element arrays cost more than the arithmetic itself (one start is the
    window's usual run). Returns ``None`` (the caller takes the array path) when Python would raise where
    numpy gives ±∞ / NaN: a zero denominator or a negative second moment.
    """
    k = float(state["step"][0]) + 1.0
    w, c2 = 1 - beta1, 1 - beta2
    bc1, bc2_sqrt = 1 - beta1**k, (1 - beta2**k) ** 0.5
    neg_step = -(lr / bc1)
    xs, gs = x[0].tolist(), g[0].tolist()
    ms, vs = state["exp_avg"][0].tolist(), state["exp_avg_sq"][0].tolist()
    m_new, v_new, u_new = [], [], []
    for xi, gi, mi, vi in zip(xs, gs, ms, vs):
        mi = (gi - mi) * w + mi
        vi = vi * beta2 + (gi * c2) * gi
        if not vi >= 0 or bc2_sqrt == 0:  # NaN or negative: let numpy say what it says
            return None
        den = math.sqrt(vi) / bc2_sqrt + eps
        if den == 0:
            return None
        m_new.append(mi)
        v_new.append(vi)
        u_new.append((mi * neg_step) / den + xi)
    out = np.array((u_new, m_new, v_new))  # one array, three (1, d) rows: fewer calls than three arrays
    return (out[0:1], {"step": np.array([k]), "exp_avg": out[1:2], "exp_avg_sq": out[2:3],
                       "max_exp_avg_sq": state["max_exp_avg_sq"]})


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, RMSprop-like scaling per coordinate, both bias-corrected.

    With :math:`g_k = \nabla f(x_k) + \lambda x_k` and step number :math:`k = 1, 2, \dots`:

    .. math::

        m_k = \beta_1 m_{k-1} + (1 - \beta_1)\, g_k, \qquad
        v_k = \beta_2 v_{k-1} + (1 - \beta_2)\, g_k \odot g_k,

        \hat v_k = \max(\hat v_{k-1}, v_k) \;(\text{amsgrad}) \text{ else } v_k, \qquad
        x_{k+1} = x_k - \frac{\varepsilon}{1 - \beta_1^k}\,
                  \frac{m_k}{\sqrt{\hat v_k} / \sqrt{1 - \beta_2^k} + \epsilon}

    The bias corrections undo the pull of the zero initial moments towards 0 in early steps. Far
    from a minimum each coordinate moves by about ε per step whatever the gradient's size.

    State: ``step`` (N,); ``exp_avg`` (N, d) ``m``; ``exp_avg_sq`` (N, d) ``v``;
    ``max_exp_avg_sq`` (N, d) the running maximum (AMSGrad; zero otherwise).

    Reference: Kingma & Ba (2015), Adam: A method for stochastic optimization; Reddi, Kale & Kumar
    (2018) for AMSGrad; torch.optim.Adam.

    >>> import numpy as np
    >>> opt = Adam(lr=0.1)
    >>> x, g = np.array([[1.0, 1.0]]), np.array([[4.0, -0.001]])
    >>> opt.update(x, g, opt.init(x, g, None, None), None, None).x.round(4)   # first step ≈ ε·sign(g)
    array([[0.9, 1.1]])
    """

    name = "adam"
    elementwise = True
    title = "Adam"
    rule = "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  x ← x − ε·m′/(√v′ + ϵ),  m′ = m/(1−β₁ᵗ), v′ = v/(1−β₂ᵗ)"
    reference = "Kingma & Ba (2015); torch.optim.Adam"
    decoupled = False
    hyperparams = (lr_param(1e-3), BETA1, BETA2, EPS, WEIGHT_DECAY, AMSGRAD)

    shown = (
        Shown("m_hat", "m̂ (Adam's bias-corrected average gradient)", arrow=True),
        Shown("sqrt_v_hat", "√v̂"),
        Shown("step_size", "per-coordinate step ε/(√v̂+ϵ)", arrow=True),
    )

    def init(self, x, g, problem, rng):
        z = np.zeros_like(x)
        return {"step": np.zeros(len(x)), "exp_avg": z, "exp_avg_sq": z, "max_exp_avg_sq": z}

    def derived(self, state):
        r"""Bias-corrected moments and the per-coordinate step size (torch state names).

        With :math:`t` steps taken, :math:`\hat m = m / (1 - \beta_1^t)`,
        :math:`\hat v = v / (1 - \beta_2^t)` (``v`` the running maximum with AMSGrad) and the
        per-coordinate step size :math:`\varepsilon / (\sqrt{\hat v} + \epsilon)`; the step is
        :math:`-\varepsilon \hat m / (\sqrt{\hat v} + \epsilon)` (plus AdamW's decay).
        """
        hp = self.hp
        t = float(np.asarray(state["step"]).reshape(-1)[0])
        if t < 1:
            return {}
        v = state["max_exp_avg_sq"] if hp["amsgrad"] else state["exp_avg_sq"]
        m_hat = np.asarray(state["exp_avg"], dtype=float) / (1 - hp["beta1"] ** t)
        v_hat = np.asarray(v, dtype=float) / (1 - hp["beta2"] ** t)
        return {"m_hat": m_hat, "sqrt_v_hat": np.sqrt(v_hat), "step_size": hp["lr"] / (np.sqrt(v_hat) + hp["eps"])}

    def update(self, x, g, state, problem, rng):
        hp = self.hp
        if self.decoupled:
            if hp["weight_decay"] != 0:
                x = x * (1 - hp["lr"] * hp["weight_decay"])
        else:
            x, g = apply_weight_decay(x, g, hp["weight_decay"])
        x, st = _adam_step(x, g, state, hp["lr"], hp["beta1"], hp["beta2"], hp["eps"], hp["amsgrad"])
        return Update(x, st)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay — the point shrinks towards 0 directly.

    .. math::

        x_k' = (1 - \varepsilon\lambda)\, x_k, \qquad
        x_{k+1} = x_k' - \frac{\varepsilon}{1 - \beta_1^k}\,
                  \frac{m_k}{\sqrt{\hat v_k} / \sqrt{1 - \beta_2^k} + \epsilon}

    with :math:`m_k, v_k` as in :class:`Adam` built from the plain gradient :math:`g_k = \nabla f(x_k)`
    (the decay does not pass through the adaptive scaling, unlike Adam's ``weight_decay``).

    State: as :class:`Adam`.

    Reference: Loshchilov & Hutter (2019), Decoupled weight decay regularization; torch.optim.AdamW.
    """

    name = "adamw"
    title = "AdamW"
    rule = "x ← (1 − ελ)x;  then Adam's step"
    reference = "Loshchilov & Hutter (2019); torch.optim.AdamW"
    decoupled = True
    hyperparams = (
        lr_param(1e-3), BETA1, BETA2, EPS,
        HyperParam("weight_decay", 1e-2, 0.0, np.inf, symbol="λ",
                   doc="decoupled weight decay λ: each step first multiplies x by 1 − ελ"),
        AMSGRAD,
    )
