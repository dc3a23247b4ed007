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
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, NamedTuple

import numpy as np

from gdstudio.core.gradients import Problem, check_method
from gdstudio.core.objectives import Objective, get_objective, objective_spec
from gdstudio.core.optimizers import Optimizer, get_optimizer
from gdstudio.core.optimizers.base import put_rows, take_rows
from gdstudio.core.random import Streams, stream_seeds

#: A point further than this many half-diagonals of the view domain from its centre has diverged.
OFF_MAP_FACTOR = 1e3


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
    optimizer (e.g. the step length a line search chose). Arrays are owned by the step (safe to keep).
    """

    k: int
    x: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    recorded: np.ndarray
    ended: np.ndarray
    info: Mapping[str, np.ndarray]


@dataclass
class Trajectory:
    """One start's history: rows ``0..steps`` of points, losses and gradients, and how it ended."""

    x: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    status: Status
    message: str

    @property
    def steps(self) -> int:
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


class Run:
    """Iterate the steps of a run: ``for step in Run(config): ...``.

    The iterator yields row 0 (the starts) first, then one :class:`Step` per update until every start
    has ended. Between steps the consumer may stop iterating, or call :meth:`cancel` (from any thread:
    it only sets a flag) to end the run as cancelled. After iteration, :attr:`status` and
    :attr:`message` hold each start's outcome; :func:`run` collects the same steps into a
    :class:`RunResult`.
    """

    def __init__(self, config: RunConfig, objective: Objective | None = None):
        self.config = config
        self.objective, self.optimizer, self.problem = config.validate(objective)
        n = len(config.starts)
        self.status = np.full(n, Status.RUNNING, dtype=object)
        self.message = [""] * n
        self.last_step = np.zeros(n, dtype=int)
        self._cancel = False
        self._seeds = stream_seeds(config.seed, n)
        (x0, x1), (y0, y1) = self.objective.domain[:2] if len(self.objective.domain) >= 2 else ((-1, 1), (-1, 1))
        self._centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        self._radius = OFF_MAP_FACTOR * 0.5 * math.hypot(x1 - x0, y1 - y0)

    def cancel(self) -> None:
        """Ask the run to end as cancelled before its next step (thread-safe: sets a flag)."""
        self._cancel = True

    @property
    def done(self) -> bool:
        return not np.any(self.status == Status.RUNNING)

    # --- the loop -------------------------------------------------------------------------------
    def _end(self, rows: np.ndarray, status: Status, k: int, message: str) -> None:
        for i in np.flatnonzero(rows):
            self.status[i] = status
            self.message[i] = message
            self.last_step[i] = k

    def _off_map(self, x: np.ndarray) -> np.ndarray:
        if self.objective.dim != 2:
            return np.zeros(len(x), dtype=bool)
        d = x - self._centre
        return np.hypot(d[:, 0], d[:, 1]) > self._radius  # hypot: no overflow warning for points near 1e308

    def _evaluate(self, x: np.ndarray):
        on_step = getattr(self.objective, "on_step", None)
        if on_step is not None:  # minibatch models: select the batch of this step (evaluation k is at θ_k)
            on_step(getattr(self, "_evaluations", 0))
        self._evaluations = getattr(self, "_evaluations", 0) + 1
        with np.errstate(all="ignore"):
            loss = np.asarray(self.problem.value(x), dtype=float)
            grad = np.asarray(self.problem.gradient(x), dtype=float)
        return loss, grad

    def _check(self, k: int, x, loss, grad, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """End the ``rows`` that diverged or converged at step ``k``; return (recorded, ended) masks."""
        n = len(self.status)
        finite = np.isfinite(loss) & np.all(np.isfinite(x), axis=-1) & np.all(np.isfinite(grad), axis=-1)
        bad = rows & ~finite
        off = rows & finite & self._off_map(x)
        recorded = rows & finite
        ended = np.zeros(n, dtype=bool)
        if bad.any():
            x_ok = np.all(np.isfinite(x), axis=-1)
            undefined, overflow = bad & x_ok, bad & ~x_ok
            infinite = undefined & np.isinf(loss)  # e.g. x² at 1e200: the loss overflows
            undefined &= ~infinite
            if infinite.any():
                self._end(infinite, Status.DIVERGED, k - 1 if k else 0,
                          f"diverged at step {k}: the loss is infinite here (overflow, or a pole of the function)")
            if undefined.any():  # e.g. log(x) for x ≤ 0: the point is fine, the function is not
                self._end(undefined, Status.DIVERGED, k - 1 if k else 0,
                          f"diverged at step {k}: the function is undefined or infinite here")
            if overflow.any():
                self._end(overflow, Status.DIVERGED, k - 1 if k else 0,
                          f"diverged at step {k}: the point is not finite (overflow)")
            ended |= bad
        if off.any():
            self._end(off, Status.DIVERGED, k, f"diverged at step {k}: the point left the map "
                                               f"(more than {OFF_MAP_FACTOR:g}× the view's size from its centre)")
            ended |= off
        tol = self.config.tol
        if tol is not None:
            with np.errstate(all="ignore"):
                conv = recorded & ~off & (np.linalg.norm(grad, axis=-1) <= tol)
            for i in np.flatnonzero(conv):
                self._end(np.eye(1, n, i, dtype=bool)[0], Status.CONVERGED, k,
                          f"converged at step {k}: ‖∇f‖ = {_fmt(np.linalg.norm(grad[i]))} ≤ tol = {_fmt(tol)}")
            ended |= conv
        return recorded, ended

    def __iter__(self) -> Iterator[Step]:
        cfg = self.config
        self._evaluations = 0
        x = np.array(cfg.starts, dtype=float)
        n = len(x)
        loss, grad = self._evaluate(x)
        alive = np.ones(n, dtype=bool)
        recorded, ended = self._check(0, x, loss, grad, alive)
        alive &= ~ended
        yield Step(0, x.copy(), loss.copy(), grad.copy(), recorded, ended, {})
        with np.errstate(all="ignore"):
            state = self.optimizer.init(x, grad, self.problem, Streams(self._seeds, 0)) if alive.any() else {}
        for k in range(1, cfg.epochs + 1):
            if not alive.any():
                break
            if self._cancel:
                self._end(alive, Status.CANCELLED, k - 1, f"cancelled after step {k - 1}")
                return
            rows = None if alive.all() else np.flatnonzero(alive)
            rng = Streams(self._seeds, k) if rows is None else Streams(self._seeds[rows], k)
            xs, gs = (x, grad) if rows is None else (x[rows], grad[rows])
            st = state if rows is None else take_rows(state, rows)
            with np.errstate(all="ignore"):
                up = self.optimizer.update(xs, gs, st, self.problem, rng)
            failed_rows = np.zeros(n, dtype=bool)
            if up.failed is not None and np.any(up.failed):
                idx = np.arange(n) if rows is None else rows
                failed_rows[idx[np.asarray(up.failed)]] = True
                self._end(failed_rows, Status.FAILED, k - 1, f"failed at step {k}: {up.message}")
            x_new = x.copy()
            if rows is None:
                x_new = np.array(up.x, dtype=float)
                state = up.state
            else:
                x_new[rows] = up.x
                state = put_rows(state, rows, up.state) if state else up.state
            step_rows = alive & ~failed_rows
            x_new[~step_rows] = x[~step_rows]
            loss_new, grad_new = loss.copy(), grad.copy()
            ev = np.flatnonzero(step_rows)
            if ev.size:
                le, ge = self._evaluate(x_new[ev])
                loss_new[ev], grad_new[ev] = le, ge
            recorded, ended = self._check(k, x_new, loss_new, grad_new, step_rows)
            alive = step_rows & ~ended
            x, loss, grad = x_new, loss_new, grad_new
            info = {}
            for key, v in up.info.items():
                full = np.full((n,) + np.shape(v)[1:], np.nan)
                full[np.arange(n) if rows is None else rows] = v
                info[key] = full
            yield Step(k, x.copy(), loss.copy(), grad.copy(), recorded, ended | failed_rows, info)
        if alive.any():
            self._end(alive, Status.COMPLETED, cfg.epochs, f"completed {cfg.epochs} epochs")


class Recorder:
    """Keeps every step of a run and turns them into a :class:`RunResult` (partial or final).

    :func:`run` uses it, and so does the window's worker: an exported CSV holds the same rows whichever
    consumer produced it. Steps are copied into arrays whose capacity doubles as needed, so ``add`` is
    amortised O(1) and a step costs only its numbers (41 bytes for one 2-D start), not Python objects.
    """

    def __init__(self, run: "Run"):
        self.run = run
        self._n = 0
        self._bufs: dict[str, np.ndarray] | None = None

    def add(self, step: Step) -> None:
        parts = {"x": step.x, "loss": step.loss, "grad": step.grad, "recorded": step.recorded}
        if self._bufs is None:
            self._bufs = {k: np.empty((64,) + v.shape, dtype=v.dtype) for k, v in parts.items()}
        elif self._n == len(self._bufs["x"]):
            for k, v in self._bufs.items():
                grown = np.empty((2 * len(v),) + v.shape[1:], dtype=v.dtype)
                grown[: self._n] = v[: self._n]
                self._bufs[k] = grown
        for k, v in parts.items():
            self._bufs[k][self._n] = v
        self._n += 1

    def __len__(self) -> int:
        return self._n

    def result(self) -> RunResult:
        r = self.run
        n, d = len(r.config.starts), r.objective.dim
        if not self._n:
            empty = [Trajectory(np.empty((0, d)), np.empty(0), np.empty((0, d)), Status(r.status[i]), r.message[i])
                     for i in range(n)]
            return RunResult(r.config, empty)
        b = {k: v[: self._n] for k, v in self._bufs.items()}  # (K+1, N, ...)
        R = b["recorded"]
        trajs = [Trajectory(b["x"][R[:, i], i], b["loss"][R[:, i], i], b["grad"][R[:, i], i],
                            Status(r.status[i]), r.message[i]) for i in range(n)]
        return RunResult(r.config, trajs)


def run(config: RunConfig, objective: Objective | None = None) -> RunResult:
    """Run ``config`` to the end and collect every start's trajectory (the same steps :class:`Run` yields)."""
    r = Run(config, objective)
    rec = Recorder(r)
    for step in r:  # one Python iteration per step; all starts are handled as arrays
        rec.add(step)
    return rec.result()
