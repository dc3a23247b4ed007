"""The 2-D test functions of the L-BFGS parity data, f and its gradient written out by hand.

Shared by ``make_lbfgs_reference.py`` (which ran them on torch scalars) and ``tests/core/test_lbfgs.py`` (numpy), so
both sides compute exactly the same operations. No torch here.
"""


def rosenbrock(x, y):
    """(1 − x)² + 100(y − x²)² and its gradient."""
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2, (-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x))


def quadratic(x, y):
    """x² + 3xy + 5y² (Hessian [[2, 3], [3, 10]])."""
    return x * x + 3 * x * y + 5 * y * y, (2 * x + 3 * y, 3 * x + 10 * y)


def booth(x, y):
    """(x + 2y − 7)² + (2x + y − 5)²."""
    a, b = x + 2 * y - 7, 2 * x + y - 5
    return a * a + b * b, (2 * a + 4 * b, 4 * a + 2 * b)


def himmelblau(x, y):
    """(x² + y − 11)² + (x + y² − 7)²."""
    a, b = x * x + y - 11, x + y * y - 7
    return a * a + b * b, (4 * x * a + 2 * b, 2 * a + 4 * y * b)
