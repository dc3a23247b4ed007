"""Optimizers, one family per file, and the registry of their names.

>>> from gdstudio.core.optimizers import get_optimizer
>>> get_optimizer("gd", lr=0.1).hp["lr"]
0.1
"""

from __future__ import annotations

from typing import Any

from gdstudio.core.optimizers.adaptive import Adagrad, Adam, AdamW, RMSprop
from gdstudio.core.optimizers.base import Curvature, HyperParam, Optimizer, Shown, Update
from gdstudio.core.optimizers.bfgs import BFGS
from gdstudio.core.optimizers.gd import GD, SignGD
from gdstudio.core.optimizers.line_search import LineSearch
from gdstudio.core.optimizers.momentum import Momentum, Nesterov
from gdstudio.core.optimizers.newton import Newton
from gdstudio.core.optimizers.random_search import RandomLocalSearch, RandomSearch

#: Optimizer classes by command-line name, in the order menus show them.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls
    for cls in (
        GD,
        SignGD,
        LineSearch,
        Momentum,
        Nesterov,
        Adagrad,
        RMSprop,
        Adam,
        AdamW,
        Newton,
        BFGS,
        RandomSearch,
        RandomLocalSearch,
    )
}


def optimizer_names() -> list[str]:
    return list(OPTIMIZERS)


def optimizer_class(name: str) -> type[Optimizer]:
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r} (valid: {', '.join(OPTIMIZERS)})") from None


def get_optimizer(name: str, **hp: Any) -> Optimizer:
    """An optimizer by name with hyperparameters (validated against its specs; ValueError otherwise)."""
    return optimizer_class(name)(**hp)


__all__ = [
    "OPTIMIZERS",
    "Curvature",
    "HyperParam",
    "Optimizer",
    "Shown",
    "Update",
    "get_optimizer",
    "optimizer_class",
    "optimizer_names",
]
