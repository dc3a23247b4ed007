"""Optimizers, one family per file, and the registry of their names.

>>> from gdstudio.core.optimizers import get_optimizer
>>> get_optimizer("gd", lr=0.1).hp["lr"]
0.1
"""

from __future__ import annotations

import logging
from typing import Any

from gdstudio.core.optimizers.adaptive import Adagrad, Adam, AdamW, RMSprop
from gdstudio.core.optimizers.base import Curvature, HyperParam, Optimizer, Shown, Update
from gdstudio.core.optimizers.bfgs import BFGS
from gdstudio.core.optimizers.gd import GD, SignGD
from gdstudio.core.optimizers.lbfgs import LBFGS
from gdstudio.core.optimizers.line_search import LineSearch
from gdstudio.core.optimizers.momentum import Momentum, Nesterov
from gdstudio.core.optimizers.newton import Newton
from gdstudio.core.optimizers.newton_cg import NewtonCG
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
        LBFGS,  # L-BFGS and Newton-CG draw no d × d curvature model: before Newton and BFGS, which do
        NewtonCG,
        Newton,
        BFGS,
        RandomSearch,
        RandomLocalSearch,
    )
}


#: Entry-point group through which installed packages add optimizers (see :func:`load_plugins`).
PLUGIN_GROUP = "gdstudio.optimizers"
#: Optimizers added by plugins: name -> the entry point's value ("package.module:Class").
PLUGINS: dict[str, str] = {}
#: Plugins that could not be added: entry-point name -> why (shown by ``gdstudio list``).
SKIPPED_PLUGINS: dict[str, str] = {}
_BUILTIN_NAMES = tuple(OPTIMIZERS)
_log = logging.getLogger("gdstudio.plugins")


def _check_plugin(cls) -> str:
    """Why ``cls`` cannot be registered as an optimizer ("" when it can)."""
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
        return f"{cls!r} is not a subclass of gdstudio.core.optimizers.Optimizer"
    name = getattr(cls, "name", "")
    if not isinstance(name, str) or not name.strip() or ":" in name or name != name.strip():
        return f"its class attribute name {name!r} is not a plain non-empty name"
    if name in OPTIMIZERS:
        return f"the name {name!r} is already taken by {'a built-in' if name in _BUILTIN_NAMES else 'another plugin'}"
    hps = getattr(cls, "hyperparams", None)
    if not isinstance(hps, tuple) or not all(isinstance(h, HyperParam) for h in hps):
        return "its hyperparams are not a tuple of HyperParam specs"
    for h in hps:  # the defaults must be valid values (ValueError here is reported by the caller)
        h.parse(h.default)
    cls()
    return ""


def load_plugins() -> dict[str, type[Optimizer]]:
    """Register the optimizer classes of the ``gdstudio.optimizers`` entry points beside the built-ins.

    A plugin package declares, e.g. in its ``pyproject.toml``::

        [project.entry-points."gdstudio.optimizers"]
        lion = "mypkg.lion:Lion"

    where ``Lion`` subclasses :class:`Optimizer` with the same class attributes as a built-in (``name``,
    ``title``, ``rule``, ``hyperparams``) and implements ``init``/``update``. A plugin that fails to
    import, is not such a class, takes a name already used or cannot be built with its defaults is
    skipped: logged as a warning on the ``gdstudio.plugins`` logger and listed in :data:`SKIPPED_PLUGINS`.
    Returns the classes added by this call.
    """
    from importlib.metadata import entry_points

    added = {}
    try:
        eps = entry_points(group=PLUGIN_GROUP)
    except Exception as e:  # a broken installation must not stop the app
        SKIPPED_PLUGINS["(entry points)"] = f"cannot read the entry points: {e}"
        _log.warning("gdstudio: cannot read optimizer plugins: %s", e)
        return added
    for ep in eps:
        if ep.value in PLUGINS.values():
            continue
        try:
            cls = ep.load()
            why = _check_plugin(cls)
        except Exception as e:  # anything a third-party import can raise
            why = f"{type(e).__name__}: {e}"
        if why:
            SKIPPED_PLUGINS[ep.name] = why
            _log.warning("gdstudio: optimizer plugin %r (%s) skipped: %s", ep.name, ep.value, why)
            continue
        OPTIMIZERS[cls.name] = cls
        PLUGINS[cls.name] = ep.value
        added[cls.name] = cls
    return added


load_plugins()


def optimizer_names() -> list[str]:
    return list(OPTIMIZERS)


def optimizer_class(name: str) -> type[Optimizer]:
    """The class of a registered optimizer, or of a typed rule for ``"rule:<text>"`` (:mod:`gdstudio.core.rules`)."""
    if isinstance(name, str) and name.startswith("rule:"):
        from gdstudio.core.rules import rule_optimizer_class

        return rule_optimizer_class(name[len("rule:"):])
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r} (valid: {', '.join(OPTIMIZERS)}, "
                         f"or rule:<update rule>)") from None


def get_optimizer(name: str, **hp: Any) -> Optimizer:
    """An optimizer by name with hyperparameters (validated against its specs; ValueError otherwise)."""
    return optimizer_class(name)(**hp)


__all__ = [
    "OPTIMIZERS",
    "Curvature",
    "PLUGINS",
    "PLUGIN_GROUP",
    "SKIPPED_PLUGINS",
    "load_plugins",
    "HyperParam",
    "Optimizer",
    "Shown",
    "Update",
    "get_optimizer",
    "optimizer_class",
    "optimizer_names",
]
