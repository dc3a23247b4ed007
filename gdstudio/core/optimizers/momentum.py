"""Gradient descent with momentum (heavy ball) and Nesterov momentum: torch.optim.SGD's update rules.

The arithmetic follows ``torch/optim/sgd.py`` (``_single_tensor_sgd``) operation by operation, so a
trajectory here equals torch's in float64 (checked in ``tests/core/test_optimizers_torch.py``).
"""

from __future__ import annotations

import numpy as np

from gdstudio.core.optimizers.base import (
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

#: The momentum buffer drawn as an arrow (SGD with momentum, Nesterov, RMSprop with momentum).
VELOCITY = Shown("buf", "velocity b (momentum buffer)", arrow=True, from_state=True)

MOMENTUM = HyperParam("momentum", 0.9, 0.0, 1.0, high_open=True, symbol="μ",
                      doc="momentum factor μ: how much of the previous step the buffer keeps "
                          "(torch's default is 0, which turns momentum off; gdstudio uses 0.9)")
DAMPENING = HyperParam("dampening", 0.0, 0.0, 1.0, symbol="τ",
                       doc="dampening τ: the new gradient enters the buffer with weight 1 − τ "
                           "(not on the first step)")


def _sgd_step(x, g, state, lr, momentum, dampening, weight_decay, nesterov):
    """torch's SGD step on rows: returns the new x and the new state.

    In-place arithmetic on fresh temporaries only (inputs and state untouched); the same operations in
    the same order as torch, so the same bits.
    """
    x, g = apply_weight_decay(x, g, weight_decay)
    step = state["step"]
    common = common_step(step)
    if common is not None:  # all rows at the same step
        if common == 0:
            buf = g.copy(order="K")  # the layout of g (column-major in a run of many starts)
        else:
            buf = state["buf"] * momentum
            t = g * (1 - dampening)
            buf += t
    else:
        first = (step == 0)[:, None]
        buf = np.where(first, g, state["buf"] * momentum + (1 - dampening) * g)
    if nesterov:
        d = buf * momentum
        d += g
    else:
        d = buf
    u = d * (-lr)
    u += x
    return u, {"step": next_step(step, common), "buf": buf}


class Momentum(Optimizer):
    r"""Gradient descent with momentum (Polyak's heavy ball), as ``torch.optim.SGD(momentum=μ)``.

    With weight decay λ, dampening τ and the gradient :math:`g_k = \nabla f(x_k) + \lambda x_k`:

    .. math::

        b_1 = g_0, \qquad b_{k+1} = \mu b_k + (1 - \tau) g_k \quad (k \ge 1), \qquad
        x_{k+1} = x_k - \varepsilon\, b_{k+1}

    The buffer ``b`` is a running sum of past gradients: along a valley floor they agree and the
    steps grow (up to 1/(1 − μ) times a plain step); across the valley they alternate and cancel.

    Deviation from torch: the default ``momentum`` is 0.9, not 0 (torch's 0 turns momentum off and
    would make this method plain gradient descent).

    State: ``step`` (N,) the number of steps taken; ``buf`` (N, d) the momentum buffer ``b``.

    Reference: Polyak (1964), Some methods of speeding up the convergence of iteration methods;
    torch.optim.SGD.

    >>> import numpy as np
    >>> opt = Momentum(lr=0.1)
    >>> x, g = np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]])
    >>> up = opt.update(x, g, opt.init(x, g, None, None), None, None)
    >>> up.x, up.state["buf"]
    (array([[0.8, 0. ]]), array([[2., 0.]]))
    """

    name = "momentum"
    elementwise = True
    title = "Momentum"
    rule = "b ← μb + (1−τ)∇f(x);  x ← x − εb"
    reference = "Polyak (1964); torch.optim.SGD(momentum=μ)"
    hyperparams = (lr_param(0.01), MOMENTUM, DAMPENING, WEIGHT_DECAY)
    shown = (VELOCITY,)

    def init(self, x, g, problem, rng):
        return {"step": np.zeros(len(x)), "buf": np.zeros_like(x)}

    def update(self, x, g, state, problem, rng):
        hp = self.hp
        x, st = _sgd_step(x, g, state, hp["lr"], hp["momentum"], hp["dampening"], hp["weight_decay"], False)
        return Update(x, st)


class Nesterov(Optimizer):
    r"""Nesterov momentum in torch's form, as ``torch.optim.SGD(momentum=μ, nesterov=True)``.

    With weight decay λ and :math:`g_k = \nabla f(x_k) + \lambda x_k`:

    .. math::

        b_1 = g_0, \qquad b_{k+1} = \mu b_k + g_k \quad (k \ge 1), \qquad
        x_{k+1} = x_k - \varepsilon\,(g_k + \mu\, b_{k+1})

    This is Sutskever et al.'s reformulation of Nesterov's accelerated gradient: the step uses the
    gradient "looked ahead" along the momentum, which damps the overshoot of plain momentum.
    torch requires zero dampening with Nesterov, so there is no ``dampening`` here.

    Deviation from torch: the default ``momentum`` is 0.9, not 0 (torch rejects nesterov with 0).

    State: ``step`` (N,); ``buf`` (N, d) the momentum buffer.

    Reference: Nesterov (1983); Sutskever, Martens, Dahl & Hinton (2013), On the importance of
    initialization and momentum in deep learning; torch.optim.SGD(nesterov=True).
    """

    name = "nesterov"
    elementwise = True
    title = "Nesterov momentum"
    rule = "b ← μb + ∇f(x);  x ← x − ε(∇f(x) + μb)"
    reference = "Nesterov (1983); Sutskever et al. (2013); torch.optim.SGD(nesterov=True)"
    hyperparams = (lr_param(0.01), MOMENTUM, WEIGHT_DECAY)
    shown = (VELOCITY,)

    def init(self, x, g, problem, rng):
        return {"step": np.zeros(len(x)), "buf": np.zeros_like(x)}

    def update(self, x, g, state, problem, rng):
        hp = self.hp
        x, st = _sgd_step(x, g, state, hp["lr"], hp["momentum"], 0.0, hp["weight_decay"], True)
        return Update(x, st)


