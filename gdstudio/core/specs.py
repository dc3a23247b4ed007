"""Specs of settable numbers: one type for optimizers' hyperparameters and objectives' parameters.

A :class:`HyperParam` drives ``--set`` / ``--param`` on the command line, ``gdstudio list`` and the
window's forms, and validates what a user types.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class HyperParam:
    """One setting: name, default, valid range and meaning (an optimizer's hyperparameter, an objective's
    parameter such as the condition number κ of ``quadratic``).

    This single spec drives ``--set`` / ``--param`` on the command line, ``gdstudio list``, and the window's forms.

    ``kind`` is ``"float"``, ``"int"``, ``"bool"`` or ``"choice"`` (one of ``choices``). The range is
    ``low <= value <= high``, with ``low_open`` / ``high_open`` making an end exclusive. ``log`` hints
    that a widget should step the value on a log scale (learning rates).
    """

    name: str
    default: Any
    low: float = -math.inf
    high: float = math.inf
    kind: str = "float"
    doc: str = ""
    choices: tuple = ()
    low_open: bool = False
    high_open: bool = False
    log: bool = False
    symbol: str = ""

    def range_text(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        if self.kind == "bool":
            return "true or false"
        lo = "(" if self.low_open or self.low == -math.inf else "["
        hi = ")" if self.high_open or self.high == math.inf else "]"
        fmt = (lambda v: "∞" if v == math.inf else "−∞" if v == -math.inf else f"{v:g}")
        return f"{lo}{fmt(self.low)}, {fmt(self.high)}{hi}"

    def parse(self, value: Any) -> Any:
        """Convert ``value`` (a number, bool or string) and check it; raise ValueError naming the problem."""
        if self.kind == "choice":
            v = str(value)
            if v not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(map(str, self.choices))}, got {v!r}")
            return v
        if self.kind == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
                return value.strip().lower() in ("true", "1", "yes", "on")
            if isinstance(value, (int, float)) and value in (0, 1):
                return bool(value)
            raise ValueError(f"{self.name} must be true or false, got {value!r}")
        try:
            if isinstance(value, bool):
                raise ValueError
            v = float(value) if not isinstance(value, str) else float(value.strip())
        except (TypeError, ValueError):
            raise ValueError(f"{self.name} must be a number, got {value!r}") from None
        if not math.isfinite(v):
            raise ValueError(f"{self.name} must be finite, got {value!r}")
        if self.kind == "int":
            if v != int(v):
                raise ValueError(f"{self.name} must be a whole number, got {value!r}")
            v = int(v)
        too_low = v < self.low or (self.low_open and v == self.low)
        too_high = v > self.high or (self.high_open and v == self.high)
        if too_low or too_high:
            raise ValueError(f"{self.name} must be in {self.range_text()}, got {value!r}")
        return v
