"""Objectives: what a loss surface is, and the built-in library.

>>> from gdstudio.core.objectives import get_objective
>>> f = get_objective("booth")
>>> float(f.value([1.0, 3.0]))
0.0
"""

from __future__ import annotations

from typing import Mapping

from gdstudio.core.objectives.base import (
    CRITICAL_KINDS,
    CriticalPoint,
    Objective,
    Objective2D,
    Parameter,
)
from gdstudio.core.objectives.library import BUILTINS

#: Prefix of a custom formula objective spec: ``"expr:sin(x)*cos(y)"``.
EXPR_PREFIX = "expr:"


def objective_names() -> list[str]:
    """Names of the built-in objectives."""
    return list(BUILTINS)


def get_objective(spec: str, params: Mapping[str, float] | None = None) -> Objective:
    """Turn a spec into an objective.

    ``spec`` is a built-in name (``"rosenbrock"``) or ``"expr:<formula>"`` for a custom formula.
    ``params`` sets the objective's parameters (e.g. ``{"kappa": 100}`` for ``quadratic``).
    Raises ``ValueError`` with a message naming the valid choices.
    """
    params = dict(params or {})
    if spec.startswith(EXPR_PREFIX):
        from gdstudio.core.formula import formula_objective  # imported lazily: SymPy is slow to import

        return formula_objective(spec[len(EXPR_PREFIX):], **params)
    try:
        cls = BUILTINS[spec]
    except KeyError:
        raise ValueError(
            f"unknown objective {spec!r} (valid: {', '.join(BUILTINS)}, or expr:<formula>)"
        ) from None
    return cls(**params)


__all__ = [
    "CRITICAL_KINDS",
    "CriticalPoint",
    "EXPR_PREFIX",
    "Objective",
    "Objective2D",
    "Parameter",
    "get_objective",
    "objective_names",
]
