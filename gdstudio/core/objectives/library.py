"""The built-in objectives, each a short class with its formula, derivatives and critical points.

Every derivative here is written by hand and checked against finite differences in
``tests/core/test_objectives.py``.
"""

from __future__ import annotations

import numpy as np

from gdstudio.core.objectives.base import Objective2D, critical


class Sphere(Objective2D):
    """f(x, y) = x² + y² — the article's f(x) = x² along y = 0; one minimum at the origin."""

    name = "sphere"
    title = "Sphere"
    formula = "x² + y²"
    domain = ((-5.0, 5.0), (-5.0, 5.0))

    def f(self, x, y):
        return x**2 + y**2

    def grad_xy(self, x, y):
        return 2 * x, 2 * y

    def hess_xy(self, x, y):
        return 2.0, 0.0, 2.0

    def critical_points(self):
        return critical([((0, 0), "minimum", "global minimum")], self)


class Booth(Objective2D):
    """f(x, y) = (x + 2y − 7)² + (2x + y − 5)²; minimum f(1, 3) = 0.

    A quadratic with constant Hessian [[10, 8], [8, 10]] (eigenvalues 18 and 2), so gradient descent
    converges for ε < 2/18 = 1/9 and diverges above it.
    """

    name = "booth"
    title = "Booth"
    formula = "(x + 2y − 7)² + (2x + y − 5)²"
    domain = ((-10.0, 10.0), (-10.0, 10.0))

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


#: Built-in objectives by command-line name, in the order menus show them.
BUILTINS: dict[str, type[Objective2D]] = {
    cls.name: cls
    for cls in (
        Sphere,
        Booth,
    )
}
