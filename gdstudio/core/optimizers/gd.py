"""Plain gradient descent and sign gradient descent."""

from __future__ import annotations

import numpy as np

from gdstudio.core.optimizers.base import Optimizer, Update, lr_param


class GD(Optimizer):
    r"""Gradient descent: step against the gradient, the direction of steepest descent.

    .. math:: x_{k+1} = x_k - \varepsilon \nabla f(x_k)

    Among unit directions ``u``, the directional derivative ``∇f·u`` is smallest for
    ``u = −∇f/‖∇f‖`` (Cauchy–Schwarz), which is why −∇f is the steepest descent.

    State: none. Reference: Cauchy (1847).

    >>> import numpy as np
    >>> GD(lr=0.1).update(np.array([[4.0, 0.0]]), np.array([[8.0, 0.0]]), {}, None, None).x
    array([[3.2, 0. ]])
    """

    name = "gd"
    elementwise = True
    title = "Gradient descent"
    rule = "x ← x − ε∇f(x)"
    reference = "Cauchy (1847), Méthode générale pour la résolution des systèmes d'équations simultanées"
    hyperparams = (lr_param(0.01),)

    def update(self, x, g, state, problem, rng):
        return Update(x - self.hp["lr"] * g, state)


class SignGD(Optimizer):
    r"""Sign gradient descent: a step of fixed length ε per coordinate, against the gradient's sign.

    .. math:: x_{k+1} = x_k - \varepsilon \,\operatorname{sign}(\nabla f(x_k))

    State: none. Reference: Bernstein et al. (2018), signSGD.
    """

    name = "sign-gd"
    elementwise = True
    title = "Sign gradient descent"
    rule = "x ← x − ε·sign(∇f(x))"
    reference = "Bernstein et al. (2018), signSGD: Compressed Optimisation for Non-Convex Problems"
    hyperparams = (lr_param(0.01),)

    def update(self, x, g, state, problem, rng):
        return Update(x - self.hp["lr"] * np.sign(g), state)
