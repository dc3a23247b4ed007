"""Runs: an immutable config in, a stream of steps out, a result with a status at the end.

One iteration protocol serves every consumer (the command line, CSV export, the tests and the window's
worker thread): :class:`Run` is an iterator of :class:`Step` records, and :func:`run` collects it whole.

Row ``k`` of a trajectory is the point after ``k`` updates, with the loss and gradient there; row 0 is the
start. ``N`` starts advance together, vectorised; each start ends on its own with a status:

========== ==========================================================================================
completed  all epochs done
converged  ‖∇f‖ ≤ tol (when a tolerance is set)
diverged   a non-finite point, loss or gradient (that row is not kept), or the point far off the map
cancelled  :meth:`Run.cancel` was called
failed     the optimizer could not take a step (e.g. a singular Hessian for Newton)
========== ==========================================================================================

Start ``i`` of an ``N``-start run gives exactly what a single run from that start gives (random methods:
a single run with seed ``seed + i``), because every operation is row-wise.

What a run keeps is chosen by its consumer (:meth:`Run.drive`): :class:`Recorder` every step (the window,
``gdstudio run``), :class:`Thinned` every k-th step, :class:`FinalState` only each start's last row (basin
maps: O(N) memory whatever the epochs), :class:`Callback` a function called with each step of the rows still
running (for streaming rows out as they come). Statuses are int8 codes with messages built from one table
(:data:`REASONS`) when read; each start's evaluations of f, ∇f and H are counted (``nfev``, ``njev``,
``nhev``).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterator, Mapping, NamedTuple

import numpy as np

from gdstudio.core.gradients import Problem, check_method, finite_difference_hessian
from gdstudio.core.heap import keep_freed_memory
from gdstudio.core.objectives import Objective, get_objective, objective_spec
from gdstudio.core.objectives.base import Objective2D
from gdstudio.core.optimizers import Optimizer, get_optimizer
from gdstudio.core.optimizers.base import take_rows
from gdstudio.core.random import Streams, stream_seeds

#: A point further than this many half-diagonals of the view domain from its centre has diverged.
OFF_MAP_FACTOR = 1e3

#: From this many starts on, a 2-D run keeps its arrays column-major (see :class:`Run`).
COLUMNS_MIN_STARTS = 64

#: From this many numbers in the starts on (arrays of 32 kB), a run asks glibc to keep freed memory
#: (:func:`gdstudio.core.heap.keep_freed_memory`): its temporaries are reused instead of page-faulted afresh.
HEAP_MIN_NUMBERS = 4096


class Status(str, enum.Enum):
    RUNNING = "running"
    COMPLETED = "completed"
    CONVERGED = "converged"
    DIVERGED = "diverged"
    CANCELLED = "cancelled"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


def _freeze(mapping: Mapping[str, Any] | tuple | None) -> tuple[tuple[str, Any], ...]:
    if mapping is None:
        return ()
    items = mapping.items() if isinstance(mapping, Mapping) else mapping
    return tuple(sorted((str(k), v) for k, v in items))


def _as_starts(starts) -> np.ndarray:
    """``starts`` as an owned, read-only float array ``(N, d)`` (a single point becomes one row)."""
    a = np.array(starts, dtype=float)  # always a copy: the config owns it
    if a.ndim < 2:
        a = a.reshape(0, 0) if a.size == 0 else np.atleast_2d(a)  # no points at all: validate says so
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class RunConfig:
    """Everything a run needs, immutable (safe to hand to another thread, to save, to replay).

    ``objective`` is an :class:`~gdstudio.core.objectives.Objective` instance, or a spec the registry
    resolves (a built-in name such as ``"booth"`` or ``"expr:<formula>"``) together with
    ``objective_params``. An instance carries its own parameters (``objective_params`` then mirrors
    them). ``starts`` is a read-only float array ``(N, d)`` owned by the config (any array-like is
    copied in). ``hyperparams`` and ``objective_params`` are stored as sorted tuples of pairs; pass
    dicts to :meth:`create`. ``seed`` seeds random methods (start ``i`` uses ``seed + i``).

    Two configs are equal when every field is (starts by value; an objective instance by identity);
    equal configs hash alike, so a config can key a cache.
    """

    objective: str | Objective = "rosenbrock"
    optimizer: str = "gd"
    starts: np.ndarray = ((-1.5, 2.0),)
    epochs: int = 100
    hyperparams: tuple[tuple[str, Any], ...] = ()
    objective_params: tuple[tuple[str, float], ...] = ()
    gradient: str = "analytic"
    fd_step: float | None = None
    tol: float | None = None
    seed: int = 0
    name: str = ""

    def __post_init__(self):
        object.__setattr__(self, "starts", _as_starts(self.starts))
        for key in ("hyperparams", "objective_params"):
            if not isinstance(getattr(self, key), tuple):
                object.__setattr__(self, key, _freeze(getattr(self, key)))
        if isinstance(self.objective, Objective):
            object.__setattr__(self, "objective_params", _freeze(self.objective.params))

    def _key(self) -> tuple:
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "starts")

    def __eq__(self, other) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key() and np.array_equal(self.starts, other.starts)

    def __hash__(self) -> int:
        return hash((self._key(), self.starts.shape, (self.starts + 0.0).tobytes()))  # + 0.0: −0.0 == 0.0

    @classmethod
    def create(cls, objective: str | Objective = "rosenbrock", optimizer: str = "gd", starts=((-1.5, 2.0),),
               epochs: int = 100, hyperparams: Mapping[str, Any] | None = None,
               objective_params: Mapping[str, float] | None = None, **kw) -> "RunConfig":
        """Build a config from friendly types (dicts, arrays) and validate it."""
        if isinstance(objective, Objective) and objective_params and \
                dict(_freeze(objective_params)) != dict(objective.params):
            raise ValueError("objective_params is for an objective given by name: an Objective instance "
                             "carries its own parameters")
        cfg = cls(objective=objective, optimizer=optimizer, starts=starts, epochs=int(epochs),
                  hyperparams=_freeze(hyperparams), objective_params=_freeze(objective_params), **kw)
        cfg.validate()
        return cfg

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    @property
    def hp(self) -> dict[str, Any]:
        return dict(self.hyperparams)

    @property
    def objective_spec(self) -> str:
        """The objective's spec text (a name or ``"expr:<formula>"``), for labels and files."""
        return self.objective if isinstance(self.objective, str) else self.objective.spec()

    def build_objective(self) -> Objective:
        if isinstance(self.objective, Objective):
            return self.objective
        return get_objective(self.objective, dict(self.objective_params))

    def build_optimizer(self) -> Optimizer:
        return get_optimizer(self.optimizer, **dict(self.hyperparams))

    def validate(self, objective: Objective | None = None) -> tuple[Objective, Optimizer, Problem]:
        """Build the parts, raising ValueError with a message naming the problem and valid choices."""
        objective = objective or self.build_objective()
        optimizer = self.build_optimizer()
        check_method(self.gradient)
        problem = Problem(objective, self.gradient, self.fd_step)
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 0:
            raise ValueError(f"epochs must be a whole number ≥ 0, got {self.epochs!r}")
        if self.tol is not None and not (math.isfinite(self.tol) and self.tol >= 0):
            raise ValueError(f"tol must be a number ≥ 0, got {self.tol!r}")
        starts = self.starts
        if starts.ndim != 2 or len(starts) == 0:
            raise ValueError("a run needs at least one start point")
        if starts.shape[1] != objective.dim:
            raise ValueError(f"a start point needs {objective.dim} coordinates, got {starts.shape[1]}")
        bad = ~np.all(np.isfinite(starts), axis=1)
        if bad.any():
            row = tuple(starts[int(np.argmax(bad))].tolist())
            raise ValueError(f"start point {row} is not finite")
        optimizer.check_size(len(starts), objective.dim)
        return objective, optimizer, problem

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for sessions). :meth:`from_dict` inverts it exactly.

        The objective is saved as its spec; an objective the registry cannot restore by name raises
        ValueError saying so.
        """
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["objective"] = objective_spec(self.objective)
        d["starts"] = self.starts.tolist()
        d["hyperparams"] = dict(self.hyperparams)
        d["objective_params"] = dict(self.objective_params)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown run setting {unknown[0]!r}")
        d = dict(d)
        return cls.create(**d)


class Step(NamedTuple):
    """The state of all starts after ``k`` updates.

    ``recorded[i]`` says whether start ``i`` has a row ``k`` (it may have ended earlier, or diverged at
    this step); ``x``, ``loss`` and ``grad`` hold all ``N`` rows (rows not recorded are stale or NaN).
    ``ended[i]`` says whether start ``i`` ended at this step. ``info`` carries per-row extras from the
    optimizer (e.g. the step length a line search chose). Arrays are owned by the step (safe to keep):
    the run loop never writes into an array it has handed out.
    """

    k: int
    x: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    recorded: np.ndarray
    ended: np.ndarray
    info: Mapping[str, np.ndarray]


class Chunk(NamedTuple):
    """One step of the rows still running, as the loop computes it (what compact collectors receive).

    ``rows`` are the global indices of the rows stepped (``None``: all ``N`` rows, in order); ``x``,
    ``loss``, ``grad``, ``recorded``, ``ended`` and the ``info`` arrays are aligned with them. A row
    that failed at this step keeps its previous point, loss and gradient and is not recorded. Arrays
    are owned by the chunk (never written to after it is handed out).
    """

    k: int
    rows: np.ndarray | None
    x: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    recorded: np.ndarray
    ended: np.ndarray
    info: Mapping[str, np.ndarray]


@dataclass
class Trajectory:
    """One start's history: rows of points, losses and gradients, how it ended, and what it cost.

    ``nfev``, ``njev``, ``nhev``: evaluations of f, ∇f and the Hessian this start used (scipy's
    names; see :class:`Run`). ``k``: the step number of each row when not every step was kept
    (:class:`Thinned`, :class:`FinalState`); ``None`` means row ``j`` is step ``j``.
    """

    x: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    status: Status
    message: str
    nfev: int = 0
    njev: int = 0
    nhev: int = 0
    k: np.ndarray | None = None

    @property
    def steps(self) -> int:
        if self.k is not None:
            return int(self.k[-1]) if len(self.k) else -1
        return len(self.x) - 1

    @property
    def final(self) -> np.ndarray:
        return self.x[-1]


@dataclass
class RunResult:
    config: RunConfig
    trajectories: list[Trajectory] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.trajectories)

    def __getitem__(self, i: int) -> Trajectory:
        return self.trajectories[i]


def _fmt(v: float) -> str:
    return f"{v:.6g}"


# --- statuses and messages: one table, like scipy.optimize's -----------------------------------------
#: Status codes as stored in :attr:`Run.codes` (int8): index into this tuple.
STATUS_CODES: tuple[Status, ...] = (Status.RUNNING, Status.COMPLETED, Status.CONVERGED, Status.DIVERGED,
                                    Status.CANCELLED, Status.FAILED)
_CODE = {s: np.int8(i) for i, s in enumerate(STATUS_CODES)}
_STATUS_OBJECTS = np.array(STATUS_CODES, dtype=object)


class Reason(enum.IntEnum):
    """Why a start ended (:attr:`Run.reason`, int8); :data:`REASONS` gives its status and message."""

    NONE = 0
    COMPLETED = 1
    CONVERGED = 2
    UNDEFINED = 3
    OVERFLOW = 4
    OFF_MAP = 5
    CANCELLED = 6
    FAILED = 7
    INFINITE = 8


#: Each reason's status and message template. Fields: ``k`` the step at which it happened, ``epochs``,
#: ``gnorm`` (‖∇f‖ at convergence), ``tol``, ``factor`` (:data:`OFF_MAP_FACTOR`), ``text`` (the
#: optimizer's own words for a failure).
REASONS: dict[Reason, tuple[Status, str]] = {
    Reason.NONE: (Status.RUNNING, ""),
    Reason.COMPLETED: (Status.COMPLETED, "completed {epochs} epochs"),
    Reason.CONVERGED: (Status.CONVERGED, "converged at step {k}: ‖∇f‖ = {gnorm} ≤ tol = {tol}"),
    Reason.UNDEFINED: (Status.DIVERGED, "diverged at step {k}: the function is undefined or infinite here"),
    Reason.INFINITE: (Status.DIVERGED, "diverged at step {k}: the loss is infinite here (overflow, or a pole of "
                                       "the function)"),
    Reason.OVERFLOW: (Status.DIVERGED, "diverged at step {k}: the point is not finite (overflow)"),
    Reason.OFF_MAP: (Status.DIVERGED, "diverged at step {k}: the point left the map "
                                      "(more than {factor}× the view's size from its centre)"),
    Reason.CANCELLED: (Status.CANCELLED, "cancelled after step {k}"),
    Reason.FAILED: (Status.FAILED, "failed at step {k}: {text}"),
}
_REASON_CODE = np.array([_CODE[REASONS[r][0]] for r in Reason], dtype=np.int8)


class Messages(Sequence):
    """Each start's message, built from :data:`REASONS` only when one is read (``run.message[i]``)."""

    def __init__(self, run: "Run"):
        self._run = run

    def __len__(self) -> int:
        return len(self._run.codes)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        r = self._run
        i = range(len(self))[i]
        reason = Reason(int(r.reason[i]))
        if reason is Reason.NONE:
            return ""
        tol = r.config.tol
        text = r._fail_texts[int(r._fail_id[i])] if reason is Reason.FAILED else ""
        return REASONS[reason][1].format(k=int(r.ended_at[i]), epochs=r.config.epochs, gnorm=_fmt(r._gnorm[i]),
                                         tol="" if tol is None else _fmt(tol), factor=f"{OFF_MAP_FACTOR:g}",
                                         text=text)

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def __repr__(self) -> str:
        return repr(list(self))


class _Counted:
    """The run's :class:`Problem` with evaluation counting (scipy's nfev / njev / nhev).

    A call counts once for every row of the batch being stepped when it evaluates exactly that many
    points (``n``); other calls (a line search evaluating a subset, or several trials per row) are the
    optimizer's to report through :attr:`Update.evals`. A finite-difference gradient counts as one
    gradient evaluation plus its function evaluations (central: 2d, forward: d + 1); a Hessian by finite
    differences as one Hessian evaluation plus the 2d gradients it is made of.
    """

    __slots__ = ("problem", "objective", "dim", "method", "h", "n", "f", "g", "hh", "_fd", "_analytic")

    def __init__(self, problem: Problem):
        self.problem, self.objective, self.dim = problem, problem.objective, problem.dim
        self.method, self.h = problem.method, problem.h
        d = problem.dim
        self._fd = {"central": 2 * d, "forward": d + 1}.get(problem.method, 0)  # f values per gradient
        self._analytic = problem.method == "analytic"
        self.n = 0
        self.f = self.g = self.hh = 0

    def _full(self, x) -> bool:
        try:
            return x.size == self.n * self.dim
        except AttributeError:
            return np.size(x) == self.n * self.dim

    def value(self, x):
        if self._full(x):
            self.f += 1
        return self.problem.value(x)

    def gradient(self, x):
        if self._full(x):
            self.g += 1
            self.f += self._fd
        return self.problem.gradient(x)

    def value_and_gradient(self, x):
        if self._full(x):
            self.f += 1 + self._fd
            self.g += 1
        if not self._analytic:  # finite differences, autodiff...: the problem's own gradient
            return self.problem.value(x), self.problem.gradient(x)
        return self.problem.objective.value_and_gradient(x)

    def hessian(self, x):
        if self._full(x):
            self.hh += 1
        try:
            return self.problem.objective.hessian(x)
        except NotImplementedError:  # as Problem.hessian, with the gradients counted
            return finite_difference_hessian(self.gradient, x)

    def __getattr__(self, name):  # anything else a Problem has
        return getattr(self.problem, name)


class Run:
    """Iterate the steps of a run: ``for step in Run(config): ...``.

    The iterator yields row 0 (the starts) first, then one :class:`Step` per update until every start
    has ended. Between steps the consumer may stop iterating, or call :meth:`cancel` (from any thread:
    it only sets a flag) to end the run as cancelled. :meth:`drive` feeds the same steps to collectors
    (:class:`Recorder` keeps every step, :class:`Thinned` every k-th, :class:`FinalState` only the last);
    :func:`run` collects them into a :class:`RunResult`.

    After iteration, per start (arrays of length N): :attr:`codes` the status (int8, an index into
    :data:`STATUS_CODES`; :attr:`status` gives them as :class:`Status`), :attr:`reason` why it ended
    (:class:`Reason`), :attr:`ended_at` the step at which it ended, :attr:`last_step` its last recorded
    row, :attr:`nfev` / :attr:`njev` / :attr:`nhev` the evaluations of f, ∇f and the Hessian it used
    (the loop's own evaluation of f and ∇f at every new point included, the optimizer's counted as its
    algorithm needs them: a backtracking trial counts once even when trials are evaluated in batches).
    :attr:`message` builds each start's message from :data:`REASONS` when it is read.

    How the loop stays fast: the rows still running are kept together (compacted when some end, so
    ended rows cost nothing), the checks are fused (one pass finds whether anything is non-finite, off
    the map or converged; the exact per-row tests run only when it did), and no Python code runs per
    start. Full ``N``-row :class:`Step` records are built only for consumers that iterate them. Many
    2-D starts stepped by an elementwise optimizer (:attr:`Optimizer.elementwise`) are kept column-major,
    so each coordinate is contiguous (the same numbers, faster arithmetic); a run of many starts asks
    glibc to keep freed memory (:mod:`gdstudio.core.heap`), so its temporaries are not page-faulted afresh
    at every step.
    """

    def __init__(self, config: RunConfig, objective: Objective | None = None, *, starts=None):
        self.config = config
        self.objective, self.optimizer, self.problem = config.validate(objective)
        if starts is None:
            self._starts = np.array(config.starts, dtype=float)
        else:  # many starts as one array (a basin map's grid): no tuple per start in the config
            self._starts = _check_starts(starts, self.objective.dim)
        n = self.n = len(self._starts)
        self.codes = np.zeros(n, dtype=np.int8)
        self.reason = np.zeros(n, dtype=np.int8)
        self.last_step = np.zeros(n, dtype=np.int64)
        self.ended_at = np.zeros(n, dtype=np.int64)
        self.nfev = np.zeros(n, dtype=np.int64)
        self.njev = np.zeros(n, dtype=np.int64)
        self.nhev = np.zeros(n, dtype=np.int64)
        self._gnorm = np.full(n, np.nan)
        self._fail_id = np.zeros(n, dtype=np.int16)
        self._fail_texts: list[str] = []
        self._cancel = False
        self._seeds = stream_seeds(config.seed, n)
        (x0, x1), (y0, y1) = self.objective.domain[:2] if len(self.objective.domain) >= 2 else ((-1, 1), (-1, 1))
        self._centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        self._radius = OFF_MAP_FACTOR * 0.5 * math.hypot(x1 - x0, y1 - y0)
        # every |x_i| ≤ R/√2 − max|c_i| (less a margin for rounding) ⇒ ‖x − c‖ ≤ R: no row is off the map
        self._x_low = self._radius / math.sqrt(2) * (1 - 1e-12) - float(np.abs(self._centre).max())
        self._r2_low = (self._radius * (1 - 1e-12)) ** 2  # r² below this: sqrt(r²) ≤ R for sure
        self._cx, self._cy = float(self._centre[0]), float(self._centre[1])
        tol = config.tol
        self._t2_high = None if tol is None else (tol * (1 + 1e-15)) ** 2
        self._counted = _Counted(self.problem)
        # Many 2-D starts with an elementwise optimizer and an analytic gradient: x, ∇f and the optimizer's
        # state are kept column-major ((N, 2) arrays whose columns are contiguous), so the objective's
        # arithmetic on the x and y columns and the optimizer's on whole arrays run on contiguous memory.
        # Every operation involved is elementwise, so the numbers are the same bits in either layout.
        self._columns = (n >= COLUMNS_MIN_STARTS and self.objective.dim == 2 and self.optimizer.elementwise
                         and isinstance(self.objective, Objective2D) and self.problem.method == "analytic")
        if self._starts.size >= HEAP_MIN_NUMBERS:
            keep_freed_memory()

    def cancel(self) -> None:
        """Ask the run to end as cancelled before its next step (thread-safe: sets a flag)."""
        self._cancel = True

    @property
    def status(self) -> np.ndarray:
        """Each start's :class:`Status` (an object array built from :attr:`codes` when asked for)."""
        return _STATUS_OBJECTS[self.codes]

    @property
    def message(self) -> Messages:
        return Messages(self)

    @property
    def done(self) -> bool:
        return not np.any(self.codes == 0)

    # --- bookkeeping ----------------------------------------------------------------------------
    def _end(self, ids: np.ndarray, reason: Reason, k: int, last: int, extra=None) -> None:
        """End the starts ``ids`` (global indices) at step ``k`` (last recorded row ``last``)."""
        self.codes[ids] = _REASON_CODE[reason]
        self.reason[ids] = reason
        self.ended_at[ids] = k
        self.last_step[ids] = last
        c = self._counted
        ef, eg, eh = extra if extra is not None else (0, 0, 0)
        self.nfev[ids] = c.f + ef
        self.njev[ids] = c.g + eg
        self.nhev[ids] = c.hh + eh

    def _evaluate(self, x: np.ndarray):
        with np.errstate(all="ignore"):
            return self._evaluate_raw(x)

    def _evaluate_raw(self, x: np.ndarray):
        on_step = getattr(self.objective, "on_step", None)
        if on_step is not None:  # minibatch models: select the batch of this step (evaluation k is at θ_k)
            on_step(getattr(self, "_evaluations", 0))
        self._evaluations = getattr(self, "_evaluations", 0) + 1
        c = self._counted
        c.n = len(x)
        loss, grad = c.value_and_gradient(x)
        return np.asarray(loss, dtype=float), np.asarray(grad, dtype=float)

    def _check(self, k: int, x, loss, grad, live):
        """Which rows are recorded and which end at step ``k``. ``live``: rows stepped (None = all).

        Returns ``(recorded, ended, why)``: boolean arrays over the rows given, and ``why`` the reasons
        (int8, 0 = going on) or ``None`` when no row ended.

        Fused: a quick pass decides whether any exact per-row test is needed at all. ``s = f + Σ∇f``
        (or ``f + ‖∇f‖²`` with a tolerance) summed over all rows is finite only if every loss and
        gradient is (NaN and ±∞ propagate through sums); ``max |x − c|`` (NaN if any x is) bounds the
        distance from the centre: when it is below R/√2 (less a rounding margin) no row is off the map;
        with a tolerance, the smallest ‖∇f‖² says whether any row can have converged. The exact tests
        (the same formulas as before: ``‖x − c‖ > R``, ``‖∇f‖ ≤ tol``) run only when a quick test fails.
        """
        m, d = x.shape
        tol = self.config.tol
        two_d = d == 2 and self.objective.dim == 2
        if m == 1 and live is None:  # one start: Python floats are cheaper than numpy calls
            return self._check_one(k, x, loss, grad)
        with np.errstate(all="ignore"):
            if tol is not None:
                gn2 = np.add.reduce(grad * grad, axis=-1) if d != 2 else grad[:, 0] * grad[:, 0]
                if d == 2:
                    gn2 += grad[:, 1] * grad[:, 1]
                s = gn2 + loss
                total = np.add.reduce(s)
            else:  # two sums over contiguous buffers, no temporary
                total = np.add.reduce(grad.ravel(order="K")) + np.add.reduce(loss)
            if two_d:  # |x_i − c_i| ≤ max|x| + max|c|: two reductions over the contiguous (2N,) buffer
                flat = x.ravel(order="K")  # a view in either layout
                amax = max(_MAX(flat), -_MIN(flat))  # NaN if any coordinate is NaN
            else:  # no map to leave; x must still be finite (NaN·0 and ∞·0 are NaN)
                amax = 0.0
                total += float(np.add.reduce(x, axis=None)) * 0.0
        clean = live is None and math.isfinite(total)
        if clean:
            near = tol is not None and gn2.min() <= self._t2_high
            if not near and (not two_d or amax <= self._x_low):
                return np.ones(m, dtype=bool), np.zeros(m, dtype=bool), None
        return self._check_exact(x, loss, grad, live, tol, two_d, m)

    def _check_exact(self, x, loss, grad, live, tol, two_d, m):
        with np.errstate(all="ignore"):
            if two_d:  # column by column: reductions along a length-2 axis are slow in numpy
                x_ok = np.isfinite(x[:, 0]) & np.isfinite(x[:, 1])
                finite = np.isfinite(loss) & x_ok & np.isfinite(grad[:, 0]) & np.isfinite(grad[:, 1])
            else:
                x_ok = np.isfinite(x).all(axis=-1)
                finite = np.isfinite(loss) & x_ok & np.isfinite(grad).all(axis=-1)
            if live is not None:
                finite &= live
            why = np.zeros(m, dtype=np.int8)
            if two_d:  # ‖x − c‖ by hypot (no overflow for points near 1e308), column by column
                off = finite & (np.hypot(x[:, 0] - self._cx, x[:, 1] - self._cy) > self._radius)
            else:
                off = np.zeros(m, dtype=bool)
            if tol is None:
                conv = None
            else:
                if x.shape[1] == 2:
                    gn2 = grad[:, 0] * grad[:, 0]
                    gn2 += grad[:, 1] * grad[:, 1]
                    gn = np.sqrt(gn2)
                else:
                    gn = np.linalg.norm(grad, axis=-1)
                conv = finite & ~off & (gn <= tol)
        bad = ~finite if live is None else live & ~finite
        if bad.any():
            why[bad & x_ok] = Reason.UNDEFINED  # e.g. log(x) for x ≤ 0: the point is fine, the function is not
            why[bad & x_ok & np.isinf(loss)] = Reason.INFINITE  # e.g. x² at 1e200: the loss overflows
            why[bad & ~x_ok] = Reason.OVERFLOW
        why[off] = Reason.OFF_MAP
        if conv is not None:
            why[conv] = Reason.CONVERGED
        ended = why != 0
        return finite, ended, (why if ended.any() else None)

    def _check_one(self, k, x, loss, grad):
        """:meth:`_check` for a single row, in Python floats (the same IEEE arithmetic, fewer calls)."""
        f = float(loss[0])
        xs, gs = x[0].tolist(), grad[0].tolist()
        tol = self.config.tol
        two_d = len(xs) == 2 and self.objective.dim == 2
        if two_d and math.isfinite(f + gs[0] + gs[1] + xs[0] + xs[1]):  # quick: all finite
            dx, dy = xs[0] - self._cx, xs[1] - self._cy
            r2 = dx * dx + dy * dy
            if r2 <= self._r2_low and tol is None:
                return _ONE_TRUE.copy(), _ONE_FALSE.copy(), None
            ok = True
        else:
            ok = math.isfinite(f) and all(map(math.isfinite, xs)) and all(map(math.isfinite, gs))
        why = 0
        if not ok:
            if not all(map(math.isfinite, xs)):
                why = Reason.OVERFLOW
            else:
                why = Reason.INFINITE if math.isinf(f) else Reason.UNDEFINED
        else:
            if two_d:
                dx, dy = xs[0] - self._cx, xs[1] - self._cy
                if math.hypot(dx, dy) > self._radius:
                    why = Reason.OFF_MAP
            if not why and tol is not None:
                if len(gs) == 2:
                    gn = math.sqrt(gs[0] * gs[0] + gs[1] * gs[1])
                else:
                    gn = float(np.linalg.norm(grad, axis=-1)[0])
                if gn <= tol:
                    why = Reason.CONVERGED
        rec = np.array([ok])
        if not why:
            return rec, _ONE_FALSE.copy(), None
        return rec, _ONE_TRUE.copy(), np.array([why], dtype=np.int8)

    def _end_rows(self, k: int, ids: np.ndarray, why: np.ndarray, grad: np.ndarray, extra) -> None:
        """Record the ends :meth:`_check` found (``ids``, ``why``, ``grad``, ``extra``: aligned, compact)."""
        for reason in (Reason.UNDEFINED, Reason.INFINITE, Reason.OVERFLOW, Reason.OFF_MAP, Reason.CONVERGED):
            sel = why == reason
            if not sel.any():
                continue
            last = (k - 1 if k else 0) if reason in (Reason.UNDEFINED, Reason.INFINITE, Reason.OVERFLOW) else k
            self._end(ids[sel], reason, k, last, self._extra_tuple(extra, sel))
            if reason is Reason.CONVERGED:
                self._gnorm[ids[sel]] = np.linalg.norm(grad[sel], axis=-1)

    # --- the loop -------------------------------------------------------------------------------
    def chunks(self) -> Iterator[Chunk]:
        """The loop itself: one :class:`Chunk` per step for the rows still running (see :class:`Chunk`)."""
        cfg = self.config
        self._evaluations = 0  # evaluation k is at θ_k (models pick their minibatch by it: on_step)
        x = np.array(self._starts, order="F" if self._columns else "C")
        n = len(x)
        rows_of = _rows_of if self._columns else _rows_of_c
        counted = self._counted
        rows = None  # global indices of the rows still running; None = all, in order
        seeds = self._seeds
        extra = None  # per-row evaluations the optimizer reported itself: [f, g, h] arrays or None
        loss, grad = self._evaluate(x)
        recorded, ended, why = self._check(0, x, loss, grad, None)
        if why is not None:
            self._end_rows(0, np.arange(n), why, grad, None)
        yield Chunk(0, None, x, loss, grad, recorded, ended, {})
        if why is not None:
            keep = ~ended
            rows = np.flatnonzero(keep)
            x, loss, grad, seeds = rows_of(x, keep), loss[keep], rows_of(grad, keep), seeds[keep]
        if not len(x):
            return
        counted.n = len(x)
        with np.errstate(all="ignore"):
            state = self.optimizer.init(x, grad, counted, Streams(seeds, 0))
        all_ids = np.arange(n)
        # Methods that draw no random numbers get no streams (building them costs a few µs a step).
        stochastic = self.optimizer.stochastic
        for k in range(1, cfg.epochs + 1):
            ids = all_ids if rows is None else rows
            if self._cancel:
                self._end(ids, Reason.CANCELLED, k - 1, k - 1, self._extra_tuple(extra))
                return
            m = len(x)
            counted.n = m
            f0, g0, h0 = counted.f, counted.g, counted.hh
            failed = None
            with np.errstate(all="ignore"):  # one context per step: overflow is what the checks are for
                up = self.optimizer.update(x, grad, state, counted, Streams(seeds, k) if stochastic else None)
                if up.evals:  # the optimizer counted (some of) its evaluations per row itself
                    extra = self._add_evals(extra, up.evals, m, (f0, g0, h0))
                x_new = up.x
                if type(x_new) is not np.ndarray or x_new.dtype != np.float64:
                    x_new = np.array(x_new, dtype=float)
                if up.failed is not None and np.any(up.failed):
                    failed = np.asarray(up.failed, dtype=bool)
                    code = len(self._fail_texts)
                    self._fail_texts.append(str(up.message))
                    self._fail_id[ids[failed]] = code
                    self._end(ids[failed], Reason.FAILED, k, k - 1, self._extra_tuple(extra, failed))
                if failed is None:
                    loss_new, grad_new = self._evaluate_raw(x_new)
                    recorded, ended, why = self._check(k, x_new, loss_new, grad_new, None)
                else:
                    ok = ~failed
                    x_new = np.where(ok[:, None], x_new, x)
                    loss_new, grad_new = loss.copy(), grad.copy()
                    if ok.any():
                        le, ge = self._evaluate_raw(x_new[ok])
                        loss_new[ok], grad_new[ok] = le, ge
                    recorded, ended, why = self._check(k, x_new, loss_new, grad_new, ok)
                    ended = ended | failed
            if why is not None:
                self._end_rows(k, ids, why, grad_new, extra)
            info = {key: np.asarray(v, dtype=float) for key, v in up.info.items()} if up.info else _NO_INFO
            yield Chunk(k, rows, x_new, loss_new, grad_new, recorded, ended, info)
            x, loss, grad, state = x_new, loss_new, grad_new, up.state
            if why is not None or failed is not None:
                keep = ~ended
                if not keep.any():
                    return
                rows = ids[keep]
                x, loss, grad, seeds = rows_of(x, keep), loss[keep], rows_of(grad, keep), seeds[keep]
                if state:
                    state = {key: rows_of(v, keep) for key, v in state.items()} if self._columns \
                        else take_rows(state, keep)
                if extra is not None:
                    extra = [None if e is None else e[keep] for e in extra]
        ids = all_ids if rows is None else rows
        self._end(ids, Reason.COMPLETED, cfg.epochs, cfg.epochs, self._extra_tuple(extra))

    def _add_evals(self, extra, evals: Mapping[str, np.ndarray], m: int, before) -> list:
        """Replace the call counts of this update by the optimizer's own per-row ones where it gave them."""
        c = self._counted
        extra = list(extra) if extra is not None else [None, None, None]
        for j, (key, attr) in enumerate((("nfev", "f"), ("njev", "g"), ("nhev", "hh"))):
            if key in evals:
                setattr(c, attr, before[j])  # the optimizer's count replaces what the calls counted
                add = np.asarray(evals[key], dtype=np.int64)
                extra[j] = add.copy() if extra[j] is None else extra[j] + add
        return extra

    @staticmethod
    def _extra_tuple(extra, sel=None):
        if extra is None:
            return None
        return tuple(0 if e is None else (e if sel is None else e[sel]) for e in extra)

    def steps(self) -> Iterator[Step]:
        """Full ``N``-row :class:`Step` records built from :meth:`chunks` (what ``iter(run)`` gives)."""
        n = self.n
        prev = None
        for c in self.chunks():
            prev = _to_step(c, prev, n)
            yield prev

    def __iter__(self) -> Iterator[Step]:
        return self.steps()

    def drive(self, *collectors) -> "Run":
        """Run to the end, feeding every collector (compact ones get :class:`Chunk`, others :class:`Step`)."""
        full = [c for c in collectors if not getattr(c, "compact", False)]
        compact = [c for c in collectors if getattr(c, "compact", False)]
        if not full:
            for chunk in self.chunks():
                for c in compact:
                    c.add_chunk(chunk)
            return self
        n = self.n
        prev = None
        for chunk in self.chunks():
            for c in compact:
                c.add_chunk(chunk)
            step = _to_step(chunk, prev, n)
            prev = step
            for c in full:
                c.add(step)
        return self


def _rows_of_c(a: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return a[keep]


def _rows_of(a, keep: np.ndarray):
    """``a[keep]`` keeping a column-major ``(N, d)`` array column-major (one copy, by columns)."""
    if type(a) is np.ndarray and a.ndim == 2 and a.flags.f_contiguous and not a.flags.c_contiguous:
        return a.T[:, keep].T
    return a[keep]


def _check_starts(starts, dim: int) -> np.ndarray:
    """``starts`` as an owned (N, dim) float array; ValueError when the shape is wrong or a value is not finite."""
    a = np.array(starts, dtype=float)
    if a.ndim != 2 or a.shape[1] != dim or not len(a):
        raise ValueError(f"starts must have shape (N, {dim}) with N ≥ 1, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("every start point must be finite")
    return a


def _to_step(c: Chunk, prev: Step | None, n: int) -> Step:
    if c.rows is None:
        return Step(c.k, c.x, c.loss, c.grad, c.recorded, c.ended, c.info)
    x, loss, grad = prev.x.copy(), prev.loss.copy(), prev.grad.copy()
    x[c.rows], loss[c.rows], grad[c.rows] = c.x, c.loss, c.grad
    recorded, ended = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    recorded[c.rows], ended[c.rows] = c.recorded, c.ended
    info = {}
    for key, v in c.info.items():
        full = np.full((n,) + v.shape[1:], np.nan)
        full[c.rows] = v
        info[key] = full
    return Step(c.k, x, loss, grad, recorded, ended, info)


_MAX, _MIN = np.maximum.reduce, np.minimum.reduce  # the reductions without ndarray.max's Python wrapper
_ONE_TRUE = np.ones(1, dtype=bool)
_ONE_FALSE = np.zeros(1, dtype=bool)
_NO_INFO: Mapping[str, np.ndarray] = MappingProxyType({})


class Recorder:
    """Keeps every step of a run and turns them into a :class:`RunResult` (partial or final).

    :func:`run` uses it, and so does the window's worker: an exported CSV holds the same rows whichever
    consumer produced it. Steps are copied into arrays whose capacity doubles as needed, so ``add`` is
    amortised O(1) and a step costs only its numbers (41 bytes for one 2-D start), not Python objects.
    """

    compact = False

    def __init__(self, run: "Run"):
        self.run = run
        self._n = 0
        self._bufs: dict[str, np.ndarray] | None = None

    def _keep(self, step: Step) -> None:
        parts = {"x": step.x, "loss": step.loss, "grad": step.grad, "recorded": step.recorded,
                 "k": np.int64(step.k)}
        if self._bufs is None:
            self._bufs = {k: np.empty((64,) + np.shape(v), dtype=np.asarray(v).dtype) for k, v in parts.items()}
        elif self._n == len(self._bufs["x"]):
            for k, v in self._bufs.items():
                grown = np.empty((2 * len(v),) + v.shape[1:], dtype=v.dtype)
                grown[: self._n] = v[: self._n]
                self._bufs[k] = grown
        for k, v in parts.items():
            self._bufs[k][self._n] = v
        self._n += 1

    def add(self, step: Step) -> None:
        self._keep(step)

    def __len__(self) -> int:
        return self._n

    def _trajectory(self, i: int, x, loss, grad, k=None) -> Trajectory:
        r = self.run
        return Trajectory(x, loss, grad, STATUS_CODES[r.codes[i]], r.message[i], int(r.nfev[i]), int(r.njev[i]),
                          int(r.nhev[i]), k)

    def result(self) -> RunResult:
        r = self.run
        n, d = r.n, r.objective.dim
        if not self._n:
            return RunResult(r.config, [self._trajectory(i, np.empty((0, d)), np.empty(0), np.empty((0, d)))
                                        for i in range(n)])
        b = {k: v[: self._n] for k, v in self._bufs.items()}  # (K+1, N, ...)
        R = b["recorded"]
        every = self._thinned()
        if every:  # rows kept for another start's end are dropped: each start keeps k % every == 0 and its last
            ks = b["k"]
            last = np.where(R.any(axis=0), np.max(np.where(R, ks[:, None], -1), axis=0), -1)
            R = R & ((ks[:, None] % every == 0) | (ks[:, None] == last[None, :]))
        trajs = [self._trajectory(i, b["x"][R[:, i], i], b["loss"][R[:, i], i], b["grad"][R[:, i], i],
                                  b["k"][R[:, i]] if every else None) for i in range(n)]
        return RunResult(r.config, trajs)

    def _thinned(self) -> int:
        return 0


class Thinned(Recorder):
    """Keeps every ``every``-th step (``k % every == 0``) and each start's last recorded row.

    The result's trajectories carry the step number of each row in ``Trajectory.k``. Memory is that of
    :class:`Recorder` divided by about ``every``.
    """

    def __init__(self, run: "Run", every: int):
        super().__init__(run)
        if every < 1:
            raise ValueError(f"every must be a whole number ≥ 1, got {every!r}")
        self.every = int(every)
        self._prev: Step | None = None
        self._prev_kept = False

    def add(self, step: Step) -> None:
        keep = step.k % self.every == 0
        if step.ended.any():
            if self._prev is not None and not self._prev_kept:
                self._keep(self._prev)  # the last row of a start that ends without a row at this step
            keep = True
        if keep:
            self._keep(step)
        self._prev, self._prev_kept = step, keep

    def result(self) -> RunResult:
        if self._prev is not None and not self._prev_kept:
            self._keep(self._prev)
            self._prev_kept = True
        return super().result()

    def _thinned(self) -> int:
        return self.every


class FinalState:
    """Keeps only each start's last recorded point, loss and gradient: O(N) memory whatever the epochs.

    A compact collector (it reads the loop's :class:`Chunk` records, so no ``N``-row step is ever
    built): while every row is running and recorded it only keeps references to the loop's arrays;
    once rows end it writes the recorded rows into its own arrays. After the run, :attr:`x`,
    :attr:`loss`, :attr:`grad` hold the final rows (NaN for a start with no recorded row) and
    :attr:`steps` the step of that row (−1 for none).
    """

    compact = True

    def __init__(self, run: "Run"):
        self.run = run
        n, d = run.n, run.objective.dim
        self.x = np.full((n, d), np.nan)
        self.loss = np.full(n, np.nan)
        self.grad = np.full((n, d), np.nan)
        self._own = True

    def add_chunk(self, c: Chunk) -> None:
        if c.rows is None and c.recorded.all():
            self.x, self.loss, self.grad, self._own = c.x, c.loss, c.grad, False
            return
        if not self._own:
            self.x, self.loss, self.grad, self._own = self.x.copy(), self.loss.copy(), self.grad.copy(), True
        sel = c.recorded
        idx = np.flatnonzero(sel) if c.rows is None else c.rows[sel]
        self.x[idx], self.loss[idx], self.grad[idx] = c.x[sel], c.loss[sel], c.grad[sel]

    @property
    def steps(self) -> np.ndarray:
        r = self.run
        none = (r.reason == Reason.UNDEFINED) | (r.reason == Reason.INFINITE) | (r.reason == Reason.OVERFLOW)
        return np.where(none & (r.ended_at == 0), -1, r.last_step)

    def result(self) -> RunResult:
        """One-row trajectories (the final state), for code that wants a :class:`RunResult`."""
        r = self.run
        steps = self.steps
        rec = Recorder(r)
        trajs = []
        for i in range(len(steps)):
            has = steps[i] >= 0
            sl = slice(i, i + 1) if has else slice(0, 0)
            trajs.append(rec._trajectory(i, self.x[sl].copy(), self.loss[sl].copy(), self.grad[sl].copy(),
                                         np.array([steps[i]] if has else [], dtype=np.int64)))
        return RunResult(r.config, trajs)


class Callback:
    """Calls ``fn(chunk)`` for every :class:`Chunk` (compact): the hook for streaming rows as they come."""

    compact = True

    def __init__(self, fn):
        self.fn = fn

    def add_chunk(self, c: Chunk) -> None:
        self.fn(c)


def run(config: RunConfig, objective: Objective | None = None) -> RunResult:
    """Run ``config`` to the end and collect every start's trajectory (the same steps :class:`Run` yields)."""
    r = Run(config, objective)
    rec = Recorder(r)
    for step in r:  # one Python iteration per step; all starts are handled as arrays
        rec.add(step)
    return rec.result()
