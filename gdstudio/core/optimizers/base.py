"""The optimizer protocol: declared hyperparameters, explicit state, a pure vectorised step.

An optimizer works on ``N`` points at once, each of dimension ``d``: ``x`` has shape ``(N, d)``, the
gradient ``g`` too. One start is ``N = 1``; a basin map is ``N = 10,000``; a model is ``d = 10,000``. The same
code serves all three: no Python loop over points or coordinates.

State is a plain ``dict`` of arrays whose first axis is the start index (so the runner can take and put
rows when some starts have ended). ``init`` builds it, ``update`` returns a new one; neither mutates its
inputs. Random methods draw through the :class:`~gdstudio.core.random.Streams` they are handed, never
through global state, so a seed reproduces a run.

The pattern follows optax (``init`` / ``update`` with explicit state) and torch.optim (names, defaults
and update rules; the algorithm in the docstring).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Mapping, NamedTuple

import numpy as np

State = dict  # dict[str, np.ndarray], first axis = start index


@dataclass(frozen=True)
class HyperParam:
    """One hyperparameter: name, default, valid range and meaning.

    This single spec drives ``--set`` on the command line, ``gdstudio list``, and the window's form.

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


class Update(NamedTuple):
    """What one step returns.

    ``x``: the new points ``(N, d)``; ``state``: the new state; ``failed``: ``(N,)`` bool or ``None``,
    rows for which the step could not be taken (their ``x`` is meaningless); ``message``: why;
    ``info``: per-row arrays that explain the step (e.g. ``"lr"`` the step length actually used,
    ``"tried"`` line-search trials), for overlays; ``evals``: per-row counts ``"nfev"`` / ``"njev"`` /
    ``"nhev"`` of the evaluations the step needed, given by optimizers whose evaluations differ between
    rows (line searches); otherwise the run counts the calls of ``problem`` that evaluate every row.
    """

    x: np.ndarray
    state: State
    failed: np.ndarray | None = None
    message: str = ""
    info: Mapping[str, np.ndarray] = MappingProxyType({})
    evals: Mapping[str, np.ndarray] | None = None


class Optimizer:
    """Base class. Subclasses set the class attributes and implement :meth:`init` and :meth:`update`.

    Class attributes
    ----------------
    name : command-line name; title : display name; rule : the update rule in one line of text
    (shown in tooltips and ``gdstudio list``); hyperparams : the :class:`HyperParam` specs;
    stochastic : whether it draws random numbers (then a run's seed matters).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    rule: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    hyperparams: ClassVar[tuple[HyperParam, ...]] = ()
    stochastic: ClassVar[bool] = False

    def __init__(self, **hp: Any):
        spec = {h.name: h for h in self.hyperparams}
        unknown = sorted(set(hp) - set(spec))
        if unknown:
            valid = ", ".join(spec) or "none"
            raise ValueError(f"optimizer {self.name!r} has no hyperparameter {unknown[0]!r} (valid: {valid})")
        values = {}
        for name, h in spec.items():
            values[name] = h.parse(hp[name]) if name in hp else h.default
        self.hp: Mapping[str, Any] = MappingProxyType(values)

    @classmethod
    def spec(cls, name: str) -> HyperParam:
        for h in cls.hyperparams:
            if h.name == name:
                return h
        raise KeyError(name)

    def init(self, x: np.ndarray, g: np.ndarray, problem, rng) -> State:
        """State before the first step, for points ``x`` with gradients ``g`` (default: no state)."""
        return {}

    def update(self, x: np.ndarray, g: np.ndarray, state: State, problem, rng) -> Update:
        """One step from ``x`` (gradient ``g``). ``problem`` gives ``value``/``gradient``/``hessian``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<Optimizer {self.name} " + " ".join(f"{k}={v}" for k, v in self.hp.items()) + ">"


def take_rows(state: State, rows) -> State:
    """The state of the given rows only (``rows`` is an index array or boolean mask)."""
    return {k: v[rows] for k, v in state.items()}


def put_rows(state: State, rows, part: State) -> State:
    """A copy of ``state`` with the given rows replaced by ``part``."""
    out = {}
    for k, v in state.items():
        v = v.copy()
        v[rows] = part[k]
        out[k] = v
    return out


# Hyperparameter specs shared by several optimizers (torch.optim names and meanings).
def lr_param(default: float = 0.01, doc: str = "learning rate ε: the step is ε times the direction") -> HyperParam:
    return HyperParam("lr", default, 0.0, math.inf, doc=doc, low_open=True, log=True, symbol="ε")


WEIGHT_DECAY = HyperParam("weight_decay", 0.0, 0.0, math.inf, doc="L2 penalty λ: adds λx to the gradient",
                          symbol="λ")
EPS = HyperParam("eps", 1e-8, 0.0, math.inf, doc="term added to the denominator for numerical stability",
                 low_open=True, log=True, symbol="ϵ")
