"""The built-in objectives, each a short class with its formula, derivatives and critical points.

Each class also gives its definition in the formula language (``expression``, with the objective's
parameters as named constants): reverse-mode automatic differentiation (:mod:`gdstudio.core.autodiff`)
builds its computation graph from it, and ``tests/core/test_autodiff.py`` checks that it evaluates to
the hand-written ``f``.

Every derivative here is written by hand and checked against finite differences in
``tests/core/test_objectives.py``; every listed critical point is checked to have a vanishing gradient
and a Hessian of the stated kind.

Critical points that have no closed form are given to about six digits, as the literature quotes them,
and refined to machine precision by Newton's method on the gradient (:func:`_refine`) the first time
an objective is asked for them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from gdstudio.core.objectives.base import CriticalPoint, Objective2D, critical
from gdstudio.core.specs import HyperParam


def _refine(objective: Objective2D, starts: Sequence[Sequence[float]], iterations: int = 30) -> np.ndarray:
    """Newton's method on ∇f = 0 from each start: ``x ← x − H(x)⁻¹ ∇f(x)``, all starts at once.

    Used only for critical points whose rough position is known; Newton converges quadratically
    to the nearby critical point whatever its kind. A start that does not converge to within
    ``1e-3`` of itself is a programming error and raises ``RuntimeError``.
    """
    x0 = np.asarray(starts, dtype=float)
    x = x0.copy()
    for _ in range(iterations):
        step = np.linalg.solve(objective.hessian(x), objective.gradient(x)[..., None])[..., 0]
        x = x - step
        if np.all(np.abs(step) <= 1e-15 * (1 + np.abs(x))):
            break
    if not np.all(np.abs(x - x0) < 1e-3):
        raise RuntimeError(f"{objective.name}: Newton refinement of a critical point wandered off")
    return x


def _refined_critical(objective: Objective2D, rough) -> tuple[CriticalPoint, ...]:
    """:func:`critical` records for ``(rough point, kind, label)`` triples, points refined by Newton."""
    xs = _refine(objective, [p for p, _, _ in rough])
    return critical([(tuple(x), kind, label) for x, (_, kind, label) in zip(xs, rough)], objective)


class Sphere(Objective2D):
    r"""The round bowl: the textbook first example :math:`f(x) = x^2` along :math:`y = 0`.

    .. math::

        f(x, y) = x^2 + y^2, \qquad \nabla f = (2x,\ 2y), \qquad \nabla^2 f = 2I

    Minimum :math:`f(0, 0) = 0`.

    Notes
    -----
    For the teacher: every gradient points straight at the minimum, so plain gradient descent goes
    there in a straight line; with step size ε the iterate is multiplied by ``1 − 2ε`` each step
    (one step lands exactly for ε = 0.5, oscillation for 0.5 < ε < 1, divergence for ε > 1).
    """

    name = "sphere"
    title = "Sphere"
    formula = "x² + y²"
    expression = "x^2 + y^2"
    domain = ((-5.0, 5.0), (-5.0, 5.0))
    notes = "Each step of gradient descent multiplies the point by 1 − 2ε: diverges for ε > 1."

    def f(self, x, y):
        return x**2 + y**2

    def grad_xy(self, x, y):
        return 2 * x, 2 * y

    def hess_xy(self, x, y):
        return 2.0, 0.0, 2.0

    def critical_points(self):
        return critical([((0, 0), "minimum", "global minimum")], self)


class Quadratic(Objective2D):
    r"""The badly conditioned bowl, with condition number κ.

    .. math::

        f(x, y) = \tfrac12 (x^2 + \kappa y^2), \qquad
        \nabla f = (x,\ \kappa y), \qquad
        \nabla^2 f = \operatorname{diag}(1, \kappa)

    Minimum :math:`f(0, 0) = 0`. Parameter ``kappa`` (κ > 0, default 10).

    Notes
    -----
    For the teacher: gradient descent with step ε multiplies x by ``1 − ε`` and y by ``1 − εκ``.
    It is stable only for ε < 2/κ, while progress along x needs ε near 1: with κ = 100 the path
    zig-zags across the narrow valley and creeps along it. Momentum and Newton's method fix this.
    """

    name = "quadratic"
    title = "Ill-conditioned quadratic"
    formula = "½(x² + κ·y²)"
    expression = "0.5*(x^2 + kappa*y^2)"
    domain = ((-5.0, 5.0), (-5.0, 5.0))
    notes = "Gradient descent is stable only for ε < 2/κ (and ε < 2); larger κ means slower progress along x."

    @classmethod
    def parameters(cls):
        return (
            HyperParam("kappa", 10.0, low=1e-6, high=1e6,
                       doc="κ: curvature along y relative to x (the condition number when κ ≥ 1); must be > 0"),
        )

    def f(self, x, y):
        return 0.5 * (x**2 + self.params["kappa"] * y**2)

    def grad_xy(self, x, y):
        return x, self.params["kappa"] * y

    def hess_xy(self, x, y):
        return 1.0, 0.0, self.params["kappa"]

    def critical_points(self):
        return critical([((0, 0), "minimum", "global minimum")], self)


class Booth(Objective2D):
    r"""A tilted quadratic bowl.

    .. math::

        f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2, \qquad
        \nabla^2 f = \begin{pmatrix} 10 & 8 \\ 8 & 10 \end{pmatrix}

    Minimum :math:`f(1, 3) = 0`.

    Notes
    -----
    For the teacher: the Hessian is constant with eigenvalues 18 and 2, so gradient descent converges
    for ε < 2/18 = 1/9 and diverges above it; the condition number 9 makes the path bend.
    """

    name = "booth"
    title = "Booth"
    formula = "(x + 2y − 7)² + (2x + y − 5)²"
    expression = "(x + 2*y - 7)^2 + (2*x + y - 5)^2"
    domain = ((-10.0, 10.0), (-10.0, 10.0))
    notes = "Constant Hessian with eigenvalues 18 and 2: gradient descent diverges for ε > 1/9."

    def f(self, x, y):
        return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2

    def grad_xy(self, x, y):
        a = x + 2 * y - 7
        b = 2 * x + y - 5
        return 2 * a + 4 * b, 4 * a + 2 * b

    def hess_xy(self, x, y):
        return 10.0, 8.0, 10.0

    def critical_points(self):
        return critical([((1, 3), "minimum", "global minimum")], self)


class Rosenbrock(Objective2D):
    r"""Rosenbrock's banana valley.

    .. math::

        f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2

        \nabla f = \bigl(-2(1 - x) - 400\,x\,(y - x^2),\ 200\,(y - x^2)\bigr)

        \nabla^2 f = \begin{pmatrix} 2 - 400y + 1200x^2 & -400x \\ -400x & 200 \end{pmatrix}

    Minimum :math:`f(1, 1) = 0`, the only critical point.

    Notes
    -----
    For the teacher: finding the curved valley y = x² is easy, following it to (1, 1) is slow — the
    Hessian at the minimum has condition number about 2500. Values run from 0 to about 2500 over the
    view and the valley floor is below 1, so contours are log-spaced to show it.
    """

    name = "rosenbrock"
    title = "Rosenbrock"
    formula = "(1 − x)² + 100(y − x²)²"
    expression = "(1 - x)^2 + 100*(y - x^2)^2"
    domain = ((-2.0, 2.0), (-1.0, 3.0))
    log_levels = True
    notes = "A narrow curved valley: the Hessian at the minimum has condition number ≈ 2500."

    def f(self, x, y):
        return (1 - x) ** 2 + 100 * (y - x**2) ** 2

    def grad_xy(self, x, y):
        v = y - x**2
        return -2 * (1 - x) - 400 * x * v, 200 * v

    def f_grad_xy(self, x, y):  # f and ∇f sharing y − x² (the same operations as f and grad_xy)
        v = y - x**2
        return (1 - x) ** 2 + 100 * v**2, -2 * (1 - x) - 400 * x * v, 200 * v

    def f_grad_into(self, x, y, gx, gy):  # the same, in place (many points)
        v = np.square(x)
        np.subtract(y, v, out=v)  # v = y − x²
        a = np.subtract(1, x)  # 1 − x
        np.multiply(a, -2, out=gx)
        t = np.multiply(x, 400)
        t *= v
        gx -= t  # −2(1 − x) − 400·x·v
        np.multiply(v, 200, out=gy)  # 200·v
        f = np.square(a, out=a)
        np.square(v, out=t)
        t *= 100
        f += t  # (1 − x)² + 100·v²
        return f

    def hess_xy(self, x, y):
        return 2 - 400 * y + 1200 * x**2, -400 * x, 200.0

    def critical_points(self):
        return critical([((1, 1), "minimum", "global minimum")], self)


class Himmelblau(Objective2D):
    r"""Himmelblau's function: four equal minima.

    .. math::

        f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2

    With :math:`a = x^2 + y - 11` and :math:`b = x + y^2 - 7`:

    .. math::

        \nabla f = (4xa + 2b,\ 2a + 4yb), \qquad
        \nabla^2 f = \begin{pmatrix} 12x^2 + 4y - 42 & 4(x + y) \\ 4(x + y) & 12y^2 + 4x - 26 \end{pmatrix}

    Four global minima with f = 0: (3, 2) exactly, and about (−2.805118, 3.131312),
    (−3.779310, −3.283186), (3.584428, −1.848126); one local maximum about (−0.270845, −0.923039),
    f ≈ 181.617; four saddles. These nine are all its critical points (f is a quartic with
    nine real solutions of ∇f = 0; Newton from a 80 × 80 grid over the domain finds no others).

    Notes
    -----
    For the teacher: which minimum gradient descent reaches depends on where it starts — run many
    starts to colour the basins of attraction. Starts near a saddle leave it slowly.
    """

    name = "himmelblau"
    title = "Himmelblau"
    formula = "(x² + y − 11)² + (x + y² − 7)²"
    expression = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
    domain = ((-5.0, 5.0), (-5.0, 5.0))
    notes = "Four global minima (f = 0), one maximum and four saddles: the start decides the minimum."

    _ROUGH = (
        ((3.0, 2.0), "minimum", "global minimum"),
        ((-2.805118, 3.131312), "minimum", "global minimum"),
        ((-3.779310, -3.283186), "minimum", "global minimum"),
        ((3.584428, -1.848126), "minimum", "global minimum"),
        ((-0.270845, -0.923039), "maximum", "local maximum"),
        ((3.385154, 0.073852), "saddle", "saddle"),
        ((0.086678, 2.884255), "saddle", "saddle"),
        ((-3.073026, -0.081353), "saddle", "saddle"),
        ((-0.127961, -1.953715), "saddle", "saddle"),
    )

    def f(self, x, y):
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2

    def grad_xy(self, x, y):
        a = x**2 + y - 11
        b = x + y**2 - 7
        return 4 * x * a + 2 * b, 2 * a + 4 * y * b

    def f_grad_xy(self, x, y):  # f and ∇f sharing a and b (the same operations as f and grad_xy)
        a = x**2 + y - 11
        b = x + y**2 - 7
        return a**2 + b**2, 4 * x * a + 2 * b, 2 * a + 4 * y * b

    def f_grad_into(self, x, y, gx, gy):  # the same, in place (many points)
        a = np.square(x)
        a += y
        a -= 11  # a = x² + y − 11
        b = np.square(y)
        np.add(x, b, out=b)
        b -= 7  # b = x + y² − 7
        t = np.multiply(x, 4)
        t *= a
        np.multiply(b, 2, out=gx)
        np.add(t, gx, out=gx)  # 4·x·a + 2·b
        np.multiply(y, 4, out=t)
        t *= b
        np.multiply(a, 2, out=gy)
        gy += t  # 2·a + 4·y·b
        f = np.square(a, out=a)
        np.square(b, out=b)
        f += b  # a² + b²
        return f

    def hess_xy(self, x, y):
        return 12 * x**2 + 4 * y - 42, 4 * (x + y), 12 * y**2 + 4 * x - 26

    def critical_points(self):
        return _refined_critical(self, self._ROUGH)


class Beale(Objective2D):
    r"""Beale's function: flat plateaus and steep walls.

    .. math::

        f(x, y) = \sum_{i=1}^{3} u_i^2, \qquad u_i = c_i - x + x y^i, \qquad
        (c_1, c_2, c_3) = (1.5,\ 2.25,\ 2.625)

    With :math:`\partial_x u_i = y^i - 1` and :math:`\partial_y u_i = i x y^{i-1}`:

    .. math::

        f_x = 2 \sum u_i (y^i - 1), \qquad f_y = 2 \sum u_i\, i x y^{i-1}

        f_{xx} = 2 \sum (y^i - 1)^2, \qquad
        f_{xy} = 2 \sum \bigl(i x y^{i-1} (y^i - 1) + i\, u_i\, y^{i-1}\bigr), \qquad
        f_{yy} = 2 \sum \bigl((i x y^{i-1})^2 + i (i - 1)\, u_i\, x y^{i-2}\bigr)

    Minimum :math:`f(3, 0.5) = 0`. Saddles at (0, 1) (exactly) and about (0.100538, −2.644514);
    Newton from a 120 × 120 grid over the domain finds no other critical point.

    Notes
    -----
    For the teacher: values range from 0 to about 1.8·10⁵ over the view (log-spaced contours); the
    gradient is huge in the corners and tiny along the plateau near x = 0, so a single step size
    either explodes or crawls. On the line x = 0, f is constant (≈ 14.2) and ∂f/∂y = 0.
    """

    name = "beale"
    title = "Beale"
    formula = "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²"
    expression = "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2"
    domain = ((-4.5, 4.5), (-4.5, 4.5))
    log_levels = True
    notes = "Steep walls (f up to ≈ 1.8·10⁵) and a flat plateau: one step size rarely fits both."

    _C = (1.5, 2.25, 2.625)

    def _terms(self, x, y):
        """``u_i``, ``∂u_i/∂x``, ``∂u_i/∂y`` for i = 1, 2, 3."""
        y2 = y * y
        y3 = y2 * y
        u = (self._C[0] - x + x * y, self._C[1] - x + x * y2, self._C[2] - x + x * y3)
        ux = (y - 1, y2 - 1, y3 - 1)
        uy = (x, 2 * x * y, 3 * x * y2)
        return u, ux, uy

    def f(self, x, y):
        u, _, _ = self._terms(x, y)
        return u[0] ** 2 + u[1] ** 2 + u[2] ** 2

    def grad_xy(self, x, y):
        u, ux, uy = self._terms(x, y)
        return (2 * (u[0] * ux[0] + u[1] * ux[1] + u[2] * ux[2]),
                2 * (u[0] * uy[0] + u[1] * uy[1] + u[2] * uy[2]))

    def hess_xy(self, x, y):
        u, ux, uy = self._terms(x, y)
        # second derivatives of u_i: u_xx = 0, u_xy = i y^(i-1), u_yy = i (i-1) x y^(i-2)
        uxy = (1.0, 2 * y, 3 * y * y)
        uyy = (0.0, 2 * x, 6 * x * y)
        fxx = 2 * (ux[0] ** 2 + ux[1] ** 2 + ux[2] ** 2)
        fxy = 2 * sum(ux[i] * uy[i] + u[i] * uxy[i] for i in range(3))
        fyy = 2 * sum(uy[i] ** 2 + u[i] * uyy[i] for i in range(3))
        return fxx, fxy, fyy

    def critical_points(self):
        return _refined_critical(self, (
            ((3.0, 0.5), "minimum", "global minimum"),
            ((0.0, 1.0), "saddle", "saddle"),
            ((0.100538, -2.644514), "saddle", "saddle"),
        ))


class Rastrigin(Objective2D):
    r"""Rastrigin's function: a bowl covered in a regular egg-crate of local minima.

    .. math::

        f(x, y) = 20 + x^2 - 10\cos 2\pi x + y^2 - 10\cos 2\pi y

        \nabla f = (2x + 20\pi \sin 2\pi x,\ 2y + 20\pi \sin 2\pi y), \qquad
        \nabla^2 f = \operatorname{diag}(2 + 40\pi^2 \cos 2\pi x,\ 2 + 40\pi^2 \cos 2\pi y)

    Global minimum :math:`f(0, 0) = 0`. It is separable, so its critical points are products of the
    roots of :math:`2t + 20\pi \sin 2\pi t = 0`: one near every integer (minima in t) and one near
    every half-integer (maxima in t). Listed: the global minimum, the eight local minima around it
    (near (±1, 0), (0, ±1), (±1, ±1), f ≈ 0.995 and 1.990) and the four saddles between them
    (near (±0.5, 0), (0, ±0.5)).

    Notes
    -----
    For the teacher: there are 121 local minima in the view. Gradient descent stops in the nearest
    one; only a very large step (or many random starts) finds the global minimum.
    """

    name = "rastrigin"
    title = "Rastrigin"
    formula = "20 + x² − 10cos(2πx) + y² − 10cos(2πy)"
    expression = "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)"
    domain = ((-5.12, 5.12), (-5.12, 5.12))
    notes = "121 local minima in the view: gradient descent stops in the nearest one."

    def f(self, x, y):
        return 20 + x**2 - 10 * np.cos(2 * np.pi * x) + y**2 - 10 * np.cos(2 * np.pi * y)

    def grad_xy(self, x, y):
        return (2 * x + 20 * np.pi * np.sin(2 * np.pi * x),
                2 * y + 20 * np.pi * np.sin(2 * np.pi * y))

    def hess_xy(self, x, y):
        c = 40 * np.pi**2
        return 2 + c * np.cos(2 * np.pi * x), 0.0, 2 + c * np.cos(2 * np.pi * y)

    def critical_points(self):
        m, s = 0.994959, 0.502546  # roots of 2t + 20π sin 2πt near 1 and 1/2
        rough = [((0.0, 0.0), "minimum", "global minimum")]
        rough += [((i * m, j * m), "minimum", "local minimum")
                  for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0)]
        rough += [((i * s, 0.0), "saddle", "saddle") for i in (-1, 1)]
        rough += [((0.0, j * s), "saddle", "saddle") for j in (-1, 1)]
        return _refined_critical(self, rough)


class Ackley(Objective2D):
    r"""Ackley's function: a nearly flat, bumpy plain with a sharp funnel at the origin.

    .. math::

        f(x, y) = -20\, e^{-0.2 \sqrt{0.5 (x^2 + y^2)}} - e^{0.5 (\cos 2\pi x + \cos 2\pi y)} + e + 20

    Write :math:`s = \sqrt{x^2 + y^2}`, :math:`u = (x, y)/s`, :math:`a = 0.2/\sqrt2` and
    :math:`E = e^{0.5(\cos 2\pi x + \cos 2\pi y)}`. The first term is radial,
    :math:`A(s) = -20 e^{-a s}`, with :math:`A' = 20 a e^{-as}` and :math:`A'' = -20 a^2 e^{-as}`:

    .. math::

        \nabla f = A'(s)\, u + \pi E\, (\sin 2\pi x,\ \sin 2\pi y)

        \nabla^2 f = A''(s)\, u u^\top + \frac{A'(s)}{s} (I - u u^\top)
          + \pi^2 E \begin{pmatrix} 2\cos 2\pi x - \sin^2 2\pi x & -\sin 2\pi x \sin 2\pi y \\
                                     -\sin 2\pi x \sin 2\pi y & 2\cos 2\pi y - \sin^2 2\pi y \end{pmatrix}

    Minimum :math:`f(0, 0) = 0`.

    **Not differentiable at the origin.** Near it, the first term is a cone of slope
    :math:`20a = 2\sqrt2`: the gradient has norm ≈ 2√2 pointing away from the origin in every
    direction, so it has no limit there. We define ``gradient(0, 0) = (0, 0)``, the minimal-norm
    element of the subdifferential (the disc of radius 2√2), which is what makes the origin a
    stationary point. The Hessian does not exist there either — the curvature across the
    radial direction grows like :math:`A'(s)/s \to \infty` — so ``hessian(0, 0)`` is NaN on
    purpose: a Newton step from exactly the origin gives NaN and the run reports it, instead of
    inventing a finite curvature.

    Notes
    -----
    For the teacher: far from the origin the bumps dominate and gradient descent stops in a local
    minimum; near it the cone makes the gradient norm jump, so fixed-step descent ends up bouncing
    around the origin instead of converging.
    """

    name = "ackley"
    title = "Ackley"
    formula = "−20·exp(−0.2·√(0.5(x² + y²))) − exp(0.5(cos 2πx + cos 2πy)) + e + 20"
    expression = "-20*exp(-0.2*sqrt(0.5*(x^2 + y^2))) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y))) + e + 20"
    domain = ((-5.0, 5.0), (-5.0, 5.0))
    notes = ("Not differentiable at the origin (a cone): the gradient there is defined as 0 "
             "(minimal-norm subgradient) and the Hessian there is NaN.")

    _A = 0.2 / np.sqrt(2.0)

    def f(self, x, y):
        r = np.sqrt(0.5 * (x**2 + y**2))
        e = np.exp(0.5 * (np.cos(2 * np.pi * x) + np.cos(2 * np.pi * y)))
        return -20 * np.exp(-0.2 * r) - e + np.e + 20

    def _radial(self, x, y):
        """``s``, the unit vector ``(ux, uy)`` (0 at the origin) and ``A'(s)``, ``A''(s)``."""
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        s = np.hypot(x, y)
        safe = np.where(s > 0, s, 1.0)
        ux, uy = x / safe, y / safe  # exactly 0 at the origin
        ex = np.exp(-self._A * s)
        return s, safe, ux, uy, 20 * self._A * ex, -20 * self._A**2 * ex

    def grad_xy(self, x, y):
        s, _, ux, uy, d1, _ = self._radial(x, y)
        e = np.pi * np.exp(0.5 * (np.cos(2 * np.pi * x) + np.cos(2 * np.pi * y)))
        # at the origin ux = uy = 0 and sin 0 = 0: the gradient is the defined subgradient 0
        return d1 * ux + e * np.sin(2 * np.pi * x), d1 * uy + e * np.sin(2 * np.pi * y)

    def hess_xy(self, x, y):
        s, safe, ux, uy, d1, d2 = self._radial(x, y)
        t = d1 / safe  # A'(s)/s, the curvature across the radial direction
        sx, sy = np.sin(2 * np.pi * x), np.sin(2 * np.pi * y)
        e = np.pi**2 * np.exp(0.5 * (np.cos(2 * np.pi * x) + np.cos(2 * np.pi * y)))
        hxx = d2 * ux * ux + t * (1 - ux * ux) + e * (2 * np.cos(2 * np.pi * x) - sx * sx)
        hxy = (d2 - t) * ux * uy - e * sx * sy
        hyy = d2 * uy * uy + t * (1 - uy * uy) + e * (2 * np.cos(2 * np.pi * y) - sy * sy)
        origin = s == 0
        return (np.where(origin, np.nan, hxx), np.where(origin, np.nan, hxy),
                np.where(origin, np.nan, hyy))

    def critical_points(self):
        return critical([((0, 0), "minimum", "global minimum (not differentiable: a cone tip)")], self)


class GoldsteinPrice(Objective2D):
    r"""The Goldstein–Price function.

    .. math::

        f(x, y) = \bigl[1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2)\bigr]
                  \bigl[30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2)\bigr]

    It factorises as :math:`f = P(u)\,R(t)` with :math:`u = x + y`, :math:`t = 2x - 3y`
    (expand the brackets to check):

    .. math::

        P(u) = 3u^4 - 8u^3 - 6u^2 + 24u + 20, \qquad R(t) = 3t^4 - 16t^3 + 18t^2 + 30

        P'(u) = 12 (u + 1)(u - 1)(u - 2), \qquad R'(t) = 12\, t\, (t - 1)(t - 3)

    so, by the chain rule (:math:`\partial_x u = \partial_y u = 1`, :math:`\partial_x t = 2`,
    :math:`\partial_y t = -3`),

    .. math::

        f_x = P'R + 2PR', \qquad f_y = P'R - 3PR'

        f_{xx} = P''R + 4P'R' + 4PR'', \quad f_{xy} = P''R - P'R' - 6PR'', \quad f_{yy} = P''R - 6P'R' + 9PR''

    with :math:`P'' = 36u^2 - 48u - 12` and :math:`R'' = 36t^2 - 96t + 36`. Since P ≥ 1 and R ≥ 3,
    ∇f = 0 exactly when P' = R' = 0: nine critical points, u ∈ {−1, 1, 2} × t ∈ {0, 1, 3}, at
    :math:`x = (3u + t)/5`, :math:`y = (2u - t)/5`. Global minimum :math:`f(0, -1) = 3`; local
    minima f(−0.6, −0.4) = 30, f(1.8, 0.2) = 84, f(1.2, 0.8) = 840; a local maximum f(0.8, 0.2) = 1155;
    four saddles.

    Notes
    -----
    For the teacher: values run from 3 to about 10⁶ over the view (log-spaced contours). Being a
    product of two one-variable quartics, each with two minima, it has its four minima where the
    lines x + y ∈ {−1, 2} cross the lines 2x − 3y ∈ {0, 3}.
    """

    name = "goldstein-price"
    title = "Goldstein–Price"
    formula = ("[1 + (x + y + 1)²(19 − 14x + 3x² − 14y + 6xy + 3y²)]"
               " · [30 + (2x − 3y)²(18 − 32x + 12x² + 48y − 36xy + 27y²)]")
    expression = ("(1 + (x + y + 1)^2*(19 - 14*x + 3*x^2 - 14*y + 6*x*y + 3*y^2))"
                  "*(30 + (2*x - 3*y)^2*(18 - 32*x + 12*x^2 + 48*y - 36*x*y + 27*y^2))")
    domain = ((-2.0, 2.0), (-2.0, 2.0))
    log_levels = True
    notes = "f = P(x + y)·R(2x − 3y): nine critical points, global minimum f(0, −1) = 3."

    def f(self, x, y):
        # the textbook form, so the value does not depend on the factorisation used for derivatives
        a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
        b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
        return a * b

    @staticmethod
    def _factors(x, y):
        u = x + y
        t = 2 * x - 3 * y
        p = 3 * u**4 - 8 * u**3 - 6 * u**2 + 24 * u + 20
        p1 = 12 * u**3 - 24 * u**2 - 12 * u + 24
        p2 = 36 * u**2 - 48 * u - 12
        r = 3 * t**4 - 16 * t**3 + 18 * t**2 + 30
        r1 = 12 * t**3 - 48 * t**2 + 36 * t
        r2 = 36 * t**2 - 96 * t + 36
        return p, p1, p2, r, r1, r2

    def grad_xy(self, x, y):
        p, p1, _, r, r1, _ = self._factors(x, y)
        return p1 * r + 2 * p * r1, p1 * r - 3 * p * r1

    def hess_xy(self, x, y):
        p, p1, p2, r, r1, r2 = self._factors(x, y)
        return (p2 * r + 4 * p1 * r1 + 4 * p * r2,
                p2 * r - p1 * r1 - 6 * p * r2,
                p2 * r - 6 * p1 * r1 + 9 * p * r2)

    def critical_points(self):
        # (u, t) pairs; kind from the signs of P''(u) (72, −24, 36) and R''(t) (36, −24, 72)
        table = (
            ((-1, 3), "minimum", "global minimum"),
            ((-1, 0), "minimum", "local minimum"),
            ((2, 3), "minimum", "local minimum"),
            ((2, 0), "minimum", "local minimum"),
            ((1, 1), "maximum", "local maximum"),
            ((-1, 1), "saddle", "saddle"),
            ((2, 1), "saddle", "saddle"),
            ((1, 0), "saddle", "saddle"),
            ((1, 3), "saddle", "saddle"),
        )
        return critical([(((3 * u + t) / 5, (2 * u - t) / 5), kind, label)
                         for (u, t), kind, label in table], self)


class SixHumpCamel(Objective2D):
    r"""The six-hump camel function.

    .. math::

        f(x, y) = \Bigl(4 - 2.1x^2 + \frac{x^4}{3}\Bigr) x^2 + xy + (-4 + 4y^2)\, y^2

        \nabla f = (8x - 8.4x^3 + 2x^5 + y,\ x - 8y + 16y^3), \qquad
        \nabla^2 f = \begin{pmatrix} 8 - 25.2x^2 + 10x^4 & 1 \\ 1 & -8 + 48y^2 \end{pmatrix}

    Two global minima :math:`f(\pm 0.089842, \mp 0.712656) \approx -1.031628`. It is odd-symmetric,
    f(−x, −y) = f(x, y); its fifteen critical points in the domain (Newton from an 80 × 80 grid finds
    no others) are six minima (the two global ones, ±(1.703607, −0.796084) with f ≈ −0.215464 and
    ±(1.607105, 0.568651) with f ≈ 2.104250), two maxima ±(1.230230, 0.162335) and seven saddles
    (the origin among them).

    Notes
    -----
    For the teacher: six local minima of very different depth; which one gradient descent finds
    depends on the start. The origin is a saddle between the two global minima.
    """

    name = "six-hump-camel"
    title = "Six-hump camel"
    formula = "(4 − 2.1x² + x⁴/3)x² + xy + (−4 + 4y²)y²"
    expression = "(4 - 2.1*x^2 + x^4/3)*x^2 + x*y + (-4 + 4*y^2)*y^2"
    domain = ((-3.0, 3.0), (-2.0, 2.0))
    notes = "Six local minima, two of them global (f ≈ −1.0316); the origin is a saddle."

    _ROUGH = (
        ((0.089842, -0.712656), "minimum", "global minimum"),
        ((-0.089842, 0.712656), "minimum", "global minimum"),
        ((-1.703607, 0.796084), "minimum", "local minimum"),
        ((1.703607, -0.796084), "minimum", "local minimum"),
        ((-1.607105, -0.568651), "minimum", "local minimum"),
        ((1.607105, 0.568651), "minimum", "local minimum"),
        ((-1.230230, -0.162335), "maximum", "local maximum"),
        ((1.230230, 0.162335), "maximum", "local maximum"),
        ((0.0, 0.0), "saddle", "saddle"),
        ((-1.638068, -0.228674), "saddle", "saddle"),
        ((1.638068, 0.228674), "saddle", "saddle"),
        ((-1.296070, -0.605084), "saddle", "saddle"),
        ((1.296070, 0.605084), "saddle", "saddle"),
        ((-1.109205, 0.768268), "saddle", "saddle"),
        ((1.109205, -0.768268), "saddle", "saddle"),
    )

    def f(self, x, y):
        x2 = x * x
        y2 = y * y
        return (4 - 2.1 * x2 + x2 * x2 / 3) * x2 + x * y + (-4 + 4 * y2) * y2

    def grad_xy(self, x, y):
        return 8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3

    def hess_xy(self, x, y):
        return 8 - 25.2 * x**2 + 10 * x**4, 1.0, -8 + 48 * y**2

    def critical_points(self):
        return _refined_critical(self, self._ROUGH)


class StyblinskiTang(Objective2D):
    r"""The Styblinski–Tang function (two variables).

    .. math::

        f(x, y) = \tfrac12 \sum_{t \in \{x, y\}} (t^4 - 16t^2 + 5t), \qquad
        \partial_t f = 2t^3 - 16t + 2.5, \qquad \partial_t^2 f = 6t^2 - 16, \quad f_{xy} = 0

    Separable: per axis, :math:`4t^3 - 32t + 5 = 0` has three roots, about −2.903534 (minimum),
    0.156731 (maximum) and 2.746803 (minimum), so there are 3 × 3 = 9 critical points: four minima,
    one maximum, four saddles. Global minimum at x = y ≈ −2.903534, f ≈ −78.332.

    Notes
    -----
    For the teacher: four basins of different depth; the global one is only slightly deeper than
    the two mixed ones (f ≈ −64.2), so a start's quadrant decides the answer.
    """

    name = "styblinski-tang"
    title = "Styblinski–Tang"
    formula = "½((x⁴ − 16x² + 5x) + (y⁴ − 16y² + 5y))"
    expression = "0.5*(x^4 - 16*x^2 + 5*x + y^4 - 16*y^2 + 5*y)"
    domain = ((-5.0, 5.0), (-5.0, 5.0))
    notes = "Four minima, one per quadrant of roots; global f ≈ −78.332 at x = y ≈ −2.9035."

    def f(self, x, y):
        return 0.5 * (x**4 - 16 * x**2 + 5 * x + y**4 - 16 * y**2 + 5 * y)

    def grad_xy(self, x, y):
        return 2 * x**3 - 16 * x + 2.5, 2 * y**3 - 16 * y + 2.5

    def hess_xy(self, x, y):
        return 6 * x**2 - 16, 0.0, 6 * y**2 - 16

    def critical_points(self):
        lo, mid, hi = -2.903534, 0.156731, 2.746803  # per axis: minimum, maximum, minimum
        rough = (
            ((lo, lo), "minimum", "global minimum"),
            ((lo, hi), "minimum", "local minimum"),
            ((hi, lo), "minimum", "local minimum"),
            ((hi, hi), "minimum", "local minimum"),
            ((mid, mid), "maximum", "local maximum"),
            ((mid, lo), "saddle", "saddle"),
            ((mid, hi), "saddle", "saddle"),
            ((lo, mid), "saddle", "saddle"),
            ((hi, mid), "saddle", "saddle"),
        )
        return _refined_critical(self, rough)


class Saddle(Objective2D):
    r"""The plain saddle (a hyperbolic paraboloid, the Pringle).

    .. math::

        f(x, y) = x^2 - y^2, \qquad \nabla f = (2x,\ -2y), \qquad
        \nabla^2 f = \operatorname{diag}(2, -2)

    No minimum: one saddle point at the origin; f is unbounded below.

    Notes
    -----
    For the teacher: started exactly on the x-axis, gradient descent slides into the saddle and
    stops there (the gradient vanishes); any tiny y offset grows by a factor 1 + 2ε per step and the
    run escapes downhill. Noise (SGD) helps escape saddles.
    """

    name = "saddle"
    title = "Saddle"
    formula = "x² − y²"
    expression = "x^2 - y^2"
    domain = ((-2.0, 2.0), (-2.0, 2.0))
    notes = "Unbounded below; gradient descent started on the x-axis stalls at the saddle (0, 0)."

    def f(self, x, y):
        return x**2 - y**2

    def grad_xy(self, x, y):
        return 2 * x, -2 * y

    def hess_xy(self, x, y):
        return 2.0, 0.0, -2.0

    def critical_points(self):
        return critical([((0, 0), "saddle", "saddle")], self)


class MonkeySaddle(Objective2D):
    r"""The monkey saddle: three valleys (two for the legs, one for the tail).

    .. math::

        f(x, y) = x^3 - 3xy^2, \qquad \nabla f = (3x^2 - 3y^2,\ -6xy), \qquad
        \nabla^2 f = \begin{pmatrix} 6x & -6y \\ -6y & -6x \end{pmatrix}

    One critical point, the origin, where the Hessian is zero: a degenerate critical point that the
    second-derivative test cannot classify (it is neither a minimum nor a maximum). f = Re (x + iy)³.

    Notes
    -----
    For the teacher: the Hessian gives no information at the origin, so Newton's method slows to
    linear convergence near it; gradient descent creeps since the gradient is quadratic in the
    distance.
    """

    name = "monkey-saddle"
    title = "Monkey saddle"
    formula = "x³ − 3xy²"
    expression = "x^3 - 3*x*y^2"
    domain = ((-2.0, 2.0), (-2.0, 2.0))
    notes = "Degenerate critical point at the origin: zero Hessian, three descending valleys."

    def f(self, x, y):
        return x**3 - 3 * x * y**2

    def grad_xy(self, x, y):
        return 3 * x**2 - 3 * y**2, -6 * x * y

    def hess_xy(self, x, y):
        return 6 * x, -6 * y, -6 * x

    def critical_points(self):
        return critical([((0, 0), "degenerate", "degenerate saddle")], self)


#: Built-in objectives by command-line name, in the order menus show them.
BUILTINS: dict[str, type[Objective2D]] = {
    cls.name: cls
    for cls in (
        Sphere,
        Quadratic,
        Booth,
        Rosenbrock,
        Himmelblau,
        Beale,
        Rastrigin,
        Ackley,
        GoldsteinPrice,
        SixHumpCamel,
        StyblinskiTang,
        Saddle,
        MonkeySaddle,
    )
}
