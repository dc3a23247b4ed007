"""The window's model of runs: what the views draw and what export writes.

A :class:`RunModel` holds a list of :class:`RunEntry` objects, one per run the user started (runs stay until
removed; a learning-rate sweep or a race adds several at once). Each entry keeps its immutable
:class:`~gdstudio.core.runs.RunConfig`, an id, a colour, a visible flag, its status and every step
delivered so far (never decimated: views of the worker's :class:`~gdstudio.core.history.History`, the
compact arrays the worker writes, up to the row count delivered), plus the core's final
:class:`~gdstudio.core.runs.RunResult` once the run has ended.

The model lives in the GUI thread. The worker never touches it: batches arrive through
:class:`~gdstudio.gui.controller.RunController`, which drops batches whose run id the model no longer
knows (stale after Reset).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

from gdstudio.core.history import History
from gdstudio.core.objectives import Objective
from gdstudio.core.runs import RunConfig, RunResult, Status
from gdstudio.gui.theme import RUN_COLORS, run_color


def default_run_name(config: RunConfig) -> str:
    """A run's name when it has none: ``"gd ε=0.1"`` (optimizers with a learning rate), else ``"bfgs"``."""
    if config.name:
        return config.name
    from gdstudio.core.rules import display_name  # "own rule" rather than the rule's whole text

    lr = dict(config.hyperparams).get("lr")
    name = display_name(config.optimizer)
    return f"{name} ε={lr:g}" if isinstance(lr, (int, float)) else name


@dataclass
class StepBatch:
    """Consecutive steps of one run, stacked, to append to an entry's own history (previews and tests; the
    window's worker writes the run's History itself and delivers row counts).

    ``k`` (B,), ``x`` (B, N, d), ``loss`` (B, N), ``grad`` (B, N, d), ``recorded`` (B, N), ``ended`` (B, N).
    """

    run_id: int
    k: np.ndarray
    x: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    recorded: np.ndarray
    ended: np.ndarray

    def __len__(self) -> int:
        return len(self.k)


@dataclass
class RunEntry:
    """One run as the window knows it.

    ``x`` (K, N, d), ``loss`` (K, N) and ``grad`` (K, N, d) hold every step delivered so far (row k is step k);
    a row a start did not record (it had ended, or diverged at that step) is NaN, so drawing with
    ``connect="finite"`` stops the path there. They are views of the run's :class:`History` (the worker's
    arrays, attached by the controller; or the entry's own, filled by :meth:`add_batch`): valid until the next
    delivery, never copies.
    """

    run_id: int
    config: RunConfig
    objective: Objective
    color: QColor
    visible: bool = True
    status: Status = Status.RUNNING
    message: str = ""
    result: RunResult | None = None
    error: str = ""
    label: str = ""
    history: History = field(init=False, repr=False)
    _n: int = field(init=False, repr=False, default=0)
    _last_ok: np.ndarray = field(init=False, repr=False)  # per start: last row with a finite loss (−1: none)
    _scanned: int = field(init=False, repr=False, default=0)  # rows looked at for _last_ok

    def __post_init__(self):
        self.history = History(len(self.config.starts), self.objective.dim)
        self._last_ok = np.full(len(self.config.starts), -1, dtype=np.int64)
        if not self.label:
            self.label = default_run_name(self.config)

    # --- data --------------------------------------------------------------------------------
    @property
    def n_starts(self) -> int:
        return len(self.config.starts)

    def attach(self, history: History) -> None:
        """Read steps from ``history`` (the worker's), up to the counts :meth:`deliver` gives."""
        self.history = history
        self._n = self._scanned = 0
        self._last_ok[:] = -1

    def deliver(self, n: int) -> None:
        """Rows ``0..n`` of the history are ready."""
        self._n = max(self._n, min(int(n), len(self.history)))

    @property
    def steps(self) -> np.ndarray:
        """Step numbers k of the rows delivered (0, 1, 2...: row k is step k)."""
        return np.arange(self._n)

    @property
    def x(self) -> np.ndarray:
        return self.history.rows(self._n)["x"]

    @property
    def loss(self) -> np.ndarray:
        return self.history.rows(self._n)["loss"]

    @property
    def grad(self) -> np.ndarray:
        return self.history.rows(self._n)["grad"]

    @property
    def grad_norm(self) -> np.ndarray:
        """‖∇f‖ of every row (computed on demand: O(K); the status bar uses :meth:`current`)."""
        with np.errstate(invalid="ignore", over="ignore"):
            return np.linalg.norm(self.grad, axis=-1)

    def __len__(self) -> int:
        return self._n

    @property
    def last_k(self) -> int:
        """The last step with a recorded row (−1 before any)."""
        return self._n - 1

    def current(self, start: int = 0) -> tuple[np.ndarray, float, float] | None:
        """(point, loss, ‖∇f‖) of the last recorded row of ``start``, or None."""
        if not len(self):
            return None
        if self._scanned < self._n:  # look at the new rows only: O(rows delivered since the last call)
            new = np.isfinite(self.history.rows(self._n)["loss"][self._scanned:])
            hit = new.any(axis=0)
            last = len(new) - 1 - np.argmax(new[::-1], axis=0)
            self._last_ok = np.where(hit, self._scanned + last, self._last_ok)
            self._scanned = self._n
        i = int(self._last_ok[start])
        if i < 0:
            return None
        g = self.grad[i, start]
        with np.errstate(invalid="ignore", over="ignore"):
            gn = float(np.linalg.norm(g))
        return self.x[i, start], float(self.loss[i, start]), gn

    def add_batch(self, batch: StepBatch) -> None:
        """Append a batch of steps to the entry's own history (previews and tests; the window's worker
        writes the history directly)."""
        h = self.history
        for j in range(len(batch)):
            h.add_row(batch.x[j], batch.loss[j], batch.grad[j], batch.recorded[j], batch.ended[j])
        self.deliver(h.publish())

    @property
    def running(self) -> bool:
        return self.status == Status.RUNNING

    def finish(self, result: RunResult | None, error: str = "") -> None:
        """Record the core's final result (status and message of start 0 summarise the run)."""
        self.result = result
        self.error = error
        if error:
            self.status, self.message = Status.FAILED, error
        elif result is not None and result.trajectories:
            t = result.trajectories[0]
            self.status, self.message = t.status, t.message
            if self.n_starts > 1:
                counts: dict[str, int] = {}
                for tr in result.trajectories:
                    counts[str(tr.status)] = counts.get(str(tr.status), 0) + 1
                self.message = ", ".join(f"{v} {k}" for k, v in counts.items())


class RunModel(QObject):
    """The runs of the window, in order, with change signals for the views.

    Signals carry run ids. ``sig_data`` fires once per delivered batch set (a list of ids), not per step.
    """

    sig_added = Signal(int)
    sig_removed = Signal(int)
    sig_data = Signal(list)
    sig_status = Signal(int)
    sig_visibility = Signal(int)
    sig_cleared = Signal()
    sig_renamed = Signal(int)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._entries: dict[int, RunEntry] = {}
        self._ids = itertools.count(1)
        self._color_index = 0

    # --- queries -------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[RunEntry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, run_id: int) -> bool:
        return run_id in self._entries

    def get(self, run_id: int) -> RunEntry | None:
        return self._entries.get(run_id)

    def visible(self) -> list[RunEntry]:
        return [e for e in self._entries.values() if e.visible]

    def running(self) -> list[RunEntry]:
        return [e for e in self._entries.values() if e.running]

    def latest(self) -> RunEntry | None:
        """The most recently added run (the one the status bar reports)."""
        return next(reversed(self._entries.values()), None) if self._entries else None

    # --- changes -------------------------------------------------------------------------------
    def new_id(self) -> int:
        return next(self._ids)

    def add(self, config: RunConfig, objective: Objective, run_id: int | None = None,
            color: QColor | None = None, label: str = "") -> RunEntry:
        run_id = self.new_id() if run_id is None else run_id
        if color is None:
            color = self.next_color()
        entry = RunEntry(run_id, config, objective, QColor(color), label=label)
        self._entries[run_id] = entry
        self.sig_added.emit(run_id)
        return entry

    def next_color(self) -> QColor:
        """The first palette colour no run uses (runs stay apart); the palette cycles when all are taken."""
        used = {e.color.name().lower() for e in self._entries.values()}
        for c in RUN_COLORS:
            if c.lower() not in used:
                return QColor(c)
        color = run_color(self._color_index)
        self._color_index += 1
        return color

    def unique_names(self, names: list[str], exclude: int | None = None) -> list[str]:
        """``names`` made distinct from each other and from the runs' labels (``"gd ε=0.1 (2)"``), so the
        CSV's run column, the legend and the run list tell every run apart. ``exclude``: a run id whose own
        label does not count (renaming it)."""
        taken = {e.label for e in self._entries.values() if e.run_id != exclude}
        out = []
        for name in names:
            base, n, candidate = name, 2, name
            while candidate in taken:
                candidate = f"{base} ({n})"
                n += 1
            taken.add(candidate)
            out.append(candidate)
        return out

    def rename(self, run_id: int, name: str) -> str:
        """Give a run a new name (made unique); returns the name given. Raises ValueError if empty."""
        e = self._entries.get(run_id)
        name = name.strip()
        if not name:
            raise ValueError("a run needs a name")
        if e is None:
            return name
        [name] = self.unique_names([name], exclude=run_id)
        if name != e.label:
            e.label = name
            self.sig_renamed.emit(run_id)
        return name

    def remove(self, run_id: int) -> None:
        if self._entries.pop(run_id, None) is not None:
            self.sig_removed.emit(run_id)

    def clear(self) -> None:
        self._entries.clear()
        self._color_index = 0
        self.sig_cleared.emit()

    def set_visible(self, run_id: int, visible: bool) -> None:
        e = self._entries.get(run_id)
        if e is not None and e.visible != visible:
            e.visible = visible
            self.sig_visibility.emit(run_id)

    def add_batches(self, batches: list) -> list[int]:
        """Append batches to their runs (batches of unknown runs are stale and dropped).

        A batch is a :class:`StepBatch` (steps to append) or anything with ``run_id`` and ``n`` (the worker's
        :class:`~gdstudio.gui.worker.Delivered`: rows ``0..n`` of the run's attached history are ready).
        """
        touched: list[int] = []
        for b in batches:
            e = self._entries.get(b.run_id)
            if e is None:
                continue
            if isinstance(b, StepBatch):
                e.add_batch(b)
            else:
                e.deliver(b.n)
            if b.run_id not in touched:
                touched.append(b.run_id)
        if touched:
            self.sig_data.emit(touched)
        return touched

    def finish(self, run_id: int, result: RunResult | None, error: str = "") -> None:
        e = self._entries.get(run_id)
        if e is None:
            return
        e.finish(result, error)
        self.sig_status.emit(run_id)

    def results(self, snapshot: Callable[[int], RunResult | None] | None = None) -> list[RunResult]:
        """RunResults of the visible runs: final ones, or ``snapshot(run_id)`` for runs still going.

        Each result's ``config.name`` is the run's label (as shown in the list and the legend), so an export
        of several runs tells them apart in its ``run`` column.
        """
        out = []
        for e in self.visible():
            r = e.result
            if r is None and snapshot is not None:
                r = snapshot(e.run_id)
            if r is None:
                continue
            if r.config.name != e.label:
                r = dataclasses.replace(r, config=r.config.replace(name=e.label))
            out.append(r)
        return out
