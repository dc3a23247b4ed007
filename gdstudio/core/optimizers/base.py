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

from gdstudio.core.specs import HyperParam

State = dict  # dict[str, np.ndarray], first axis = start index

#: The most memory the d × d matrices of an optimizer (Newton's Hessian, BFGS's inverse estimate) may take for
#: all starts together; a larger problem is refused before the run starts (see :meth:`Optimizer.check_size`).
DENSE_LIMIT_BYTES = 512 * 2**20


@dataclass(frozen=True)
class Shown:
    """Something an optimizer wants shown about its steps: a state entry or a derived quantity.

    ``key`` is stable (code and tests use it; renaming ``label`` changes no behaviour): a key of the
    state (``from_state``) or of what :meth:`Optimizer.derived` returns. ``label`` is the display text.
    ``arrow`` asks the views to draw it at the point as an arrow (when its shape is ``(d,)``).
    """

    key: str
    label: str
    arrow: bool = False
    from_state: bool = False

    @property
    def vector_key(self) -> str:
        """Its key among :meth:`~gdstudio.core.analysis.StepExplanation.vectors`."""
        return ("state:" if self.from_state else "derived:") + self.key


class Curvature(NamedTuple):
    """The curvature model an optimizer steps with, for one point.

    ``matrix`` is ``(d, d)``: the Hessian ``H`` itself (``inverse=False``, Newton) or an approximation
    of its inverse (``inverse=True``, BFGS's ``B``); ``label`` names it for display.
    """

    matrix: np.ndarray
    inverse: bool
    label: str


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

    What the explanations and pictures need to know about an optimizer lives here too, so a new
    optimizer (built-in, plugin or your own) gets its pictures without any change to
    :mod:`gdstudio.core.analysis` or the window:

    dense_matrices : how many ``d × d`` float matrices per start a step holds at once (0 for
    first-order methods): :meth:`check_size` refuses problems whose matrices would not fit.
    shown : :class:`Shown` specs, the state entries and derived quantities worth showing (with
    stable keys and display labels), computed by :meth:`derived`; searches_line : whether each step
    is a line search along a direction (its ``info`` then has the chosen ``t`` and the trials
    ``tried_t``, ``tried_f``), named by ``search_direction``; :meth:`curvature` : the curvature model
    it steps with, if any.

    elementwise : whether every operation of :meth:`update` works element by element on the ``(N, d)``
    arrays (no sum, product or norm across coordinates, no matrices): then its results do not depend on
    how the rows are laid out in memory, and a run of many 2-D starts may hand it column-major arrays
    (each coordinate contiguous: faster arithmetic on the columns an objective computes with).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    rule: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    hyperparams: ClassVar[tuple[HyperParam, ...]] = ()
    stochastic: ClassVar[bool] = False
    shown: ClassVar[tuple[Shown, ...]] = ()
    searches_line: ClassVar[bool] = False
    search_direction: ClassVar[str] = "−∇f (steepest descent)"
    dense_matrices: ClassVar[int] = 0
    elementwise: ClassVar[bool] = False

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

    def check_size(self, n: int, d: int) -> None:
        """Raise ValueError, saying why, when ``n`` starts of dimension ``d`` are too big for this optimizer.

        The default refuses only when :attr:`dense_matrices` ``× n × d² × 8`` bytes exceed
        :data:`DENSE_LIMIT_BYTES` (a model with thousands of parameters and a second-order method).
        """
        need = self.dense_matrices * n * d * d * 8
        if need > DENSE_LIMIT_BYTES:
            raise ValueError(
                f"{self.name} holds {self.dense_matrices} matri{'x' if self.dense_matrices == 1 else 'ces'} "
                f"of {d:,} × {d:,} numbers per start: "
                f"{need / 2**20:,.0f} MB for {n:,} start{'s' if n != 1 else ''}, more than its "
                f"{DENSE_LIMIT_BYTES // 2**20} MB limit; use a first-order optimizer (gd, momentum, adam...) "
                f"for a problem of this size")

    def init(self, x: np.ndarray, g: np.ndarray, problem, rng) -> State:
        """State before the first step, for points ``x`` with gradients ``g`` (default: no state)."""
        return {}

    def update(self, x: np.ndarray, g: np.ndarray, state: State, problem, rng) -> Update:
        """One step from ``x`` (gradient ``g``). ``problem`` gives ``value``/``gradient``/``hessian``."""
        raise NotImplementedError

    def derived(self, state: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Quantities derived from one row of the state after a step (``state[key]`` of shape
        ``(d,)``, ``step`` a scalar), by the keys of :attr:`shown` (default: none)."""
        return {}

    def curvature(self, state: Mapping[str, np.ndarray], x: np.ndarray, problem) -> Curvature | None:
        """The curvature model of the step from ``x`` (one point ``(d,)``), given one row of the state
        after the step; None when the optimizer uses none (the default)."""
        return None

    def __repr__(self) -> str:
        return f"<Optimizer {self.name} " + " ".join(f"{k}={v}" for k, v in self.hp.items()) + ">"


def common_step(step: np.ndarray) -> float | None:
    """The step count every row shares, or None when the rows' counts differ (or there are none).

    A count made by :func:`next_step` for many rows is one number seen through a zero stride: known shared at
    once; any other array is compared row by row.
    """
    if not step.size:
        return None
    if step.size == 1 or (step.ndim == 1 and step.strides[0] == 0):
        return float(step[0])
    if step[0] == step[-1] and (step == step[0]).all():
        return float(step[0])
    return None


def next_step(step: np.ndarray, common: float | None) -> np.ndarray:
    """``step + 1``; when all of several rows share the count ``common``, one number seen by every row through a
    zero stride (read-only; no pass over the rows, here or in :func:`common_step` at the next step)."""
    if common is None or step.size == 1 or step.ndim != 1:
        return step + 1
    out = np.ndarray(step.shape, np.float64, np.array([common + 1]), 0, (0,))
    out.flags.writeable = False
    return out


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


def apply_weight_decay(x: np.ndarray, g: np.ndarray, lam: float, *, lr: float = 0.0,
                       decoupled: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""Apply weight decay λ the way torch.optim does; return the new ``(x, g)``.

    L2 (torch's ``weight_decay`` in SGD, Adagrad, RMSprop, Adam): the gradient gains the penalty's
    gradient, :math:`g \leftarrow g + \lambda x`. Decoupled (AdamW): the point shrinks before the step,
    :math:`x \leftarrow (1 - \varepsilon\lambda)\, x`, and ``g`` is unchanged. λ = 0 changes nothing.
    """
    if lam == 0:
        return x, g
    if decoupled:
        return x * (1 - lr * lam), g
    return x, g + lam * x


WEIGHT_DECAY = HyperParam("weight_decay", 0.0, 0.0, math.inf, doc="L2 penalty λ: adds λx to the gradient",
                          symbol="λ")
EPS = HyperParam("eps", 1e-8, 0.0, math.inf, doc="term added to the denominator for numerical stability",
                 low_open=True, log=True, symbol="ϵ")
