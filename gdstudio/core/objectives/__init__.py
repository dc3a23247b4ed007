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
    EXPR_PREFIX,
    CriticalPoint,
    Objective,
    Objective2D,
)
from gdstudio.core.objectives.library import BUILTINS



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


def objective_spec(objective: Objective | str) -> str:
    """The spec :func:`get_objective` turns back into ``objective`` (with ``objective.params``).

    A spec string is returned as it is. An instance must be one the registry restores: a built-in
    (its class is the one registered under its name) or a custom formula (``"expr:<formula>"``).
    Anything else (an objective class of your own, a model holding data) cannot be saved by name:
    ValueError says so.
    """
    if isinstance(objective, str):
        return objective
    spec = objective.spec()
    if spec.startswith(EXPR_PREFIX):
        from gdstudio.core.formula import FormulaObjective

        ok = isinstance(objective, FormulaObjective)
    else:
        ok = BUILTINS.get(spec) is type(objective)
    if not ok:
        raise ValueError(
            f"the objective {objective.title or objective.name or type(objective).__name__!r} "
            f"({type(objective).__name__}) cannot be saved by name: the registry does not restore {spec!r} to it "
            f"(only built-ins and {EXPR_PREFIX}<formula> can be saved)")
    return spec


__all__ = [
    "CRITICAL_KINDS",
    "CriticalPoint",
    "EXPR_PREFIX",
    "Objective",
    "Objective2D",
    "get_objective",
    "objective_names",
    "objective_spec",
]
