"""The model mode's worker thread: trains one or several models (a race) and computes landscape slices.

Like :class:`gdstudio.gui.worker.Engine`, it loops without a Qt event loop and checks its flags (stop, pause,
single-step requests, a slice request) on every tick under one condition variable. Each tick advances every
unfinished :class:`~gdstudio.core.training.Training` by one step. At most once per frame it publishes a
:class:`Progress` snapshot (owned copies of the curves: the training's lists keep growing in this thread) and
emits ``sig_ready`` only if the previous one was taken, so a slow GUI never queues events.

A slice (:class:`SliceResult`) is computed here too, on request (:meth:`ModelWorker.request_slice`), and carries
the paths of every job projected onto its plane. Nothing here touches a widget.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QThread, Signal

from gdstudio.core.landscape import Plane, Projection, Slice, grid_slice, make_plane, project
from gdstudio.core.models import blas_single_thread
from gdstudio.core.training import CURVE_COLUMNS, Training

FRAME_S = 1 / 30


@dataclass
class JobView:
    """What the GUI sees of one training: curve columns (arrays), where it is, how it ended."""

    index: int
    label: str
    curve: dict[str, np.ndarray]
    batches_per_epoch: int
    epochs: int
    done: bool
    message: str
    ab: np.ndarray | None = None  # the path projected onto the live plane (see ModelWorker.set_live_plane)


@dataclass
class Progress:
    generation: int
    jobs: list[JobView]
    finished: bool


@dataclass
class SliceResult:
    generation: int
    slice: Slice
    plane: Plane
    projections: list[Projection] = field(default_factory=list)
    path_losses: list[np.ndarray] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class SliceRequest:
    directions: str
    grid: int
    span: float | None  # None: fit the span to the paths (PCA) or 1.0
    seed: int
    centre_job: int = 0


class ModelWorker(QThread):
    sig_ready = Signal()
    sig_slice = Signal(object)  # SliceResult
    sig_error = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._cond = threading.Condition()
        self._stop = False
        self._paused = False
        self._steps_requested = 0
        self._jobs: list[Training] = []
        self._iters = []
        self._done: list[bool] = []
        self._labels: list[str] = []
        self._generation = 0
        self._slice_request: SliceRequest | None = None
        self._outbox: Progress | None = None
        self._slice_out: SliceResult | None = None
        self._notified = False
        self._dirty = False
        self._speed = float("inf")  # steps per second (each job advances one step per tick)
        self._live_plane: Plane | None = None

    # --- requests from the GUI thread ---------------------------------------------------------------
    def start_jobs(self, trainings: list[Training], labels: list[str], paused: bool = False) -> int:
        with self._cond:
            self._generation += 1
            self._outbox = None  # a snapshot of the previous jobs is stale now
            self._jobs = list(trainings)
            self._iters = [iter(t) for t in trainings]
            self._done = [False] * len(trainings)
            self._labels = list(labels)
            self._paused = paused
            self._steps_requested = 0
            self._slice_request = None
            self._dirty = True
            self._cond.notify_all()
            return self._generation

    def clear(self) -> None:
        with self._cond:
            self._generation += 1
            for t in self._jobs:
                t.cancel()
            self._jobs, self._iters, self._done, self._labels = [], [], [], []
            self._slice_request = None
            self._outbox = None
            self._cond.notify_all()

    def set_live_plane(self, plane: Plane | None) -> None:
        """Project every job's path onto ``plane`` in each snapshot (so paths move on the last slice while
        training); ignored for jobs whose dimension differs."""
        with self._cond:
            self._live_plane = plane

    def set_speed(self, steps_per_s: float) -> None:
        """Pace the ticks at this many per second (``inf``: as fast as possible)."""
        with self._cond:
            self._speed = float(steps_per_s)
            self._cond.notify_all()

    def set_paused(self, paused: bool) -> None:
        with self._cond:
            self._paused = paused
            self._cond.notify_all()

    def step(self, n: int = 1) -> None:
        with self._cond:
            self._paused = True
            self._steps_requested += n
            self._cond.notify_all()

    def request_slice(self, request: SliceRequest) -> None:
        with self._cond:
            self._slice_request = request
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            for t in self._jobs:
                t.cancel()
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        with self._cond:
            return bool(self._jobs) and not all(self._done)

    @property
    def paused(self) -> bool:
        return self._paused

    def take(self) -> Progress | None:
        """The newest progress of the current jobs. A snapshot of jobs replaced since (published before
        :meth:`start_jobs`, not yet taken) is dropped: its ``finished`` would end the new jobs in the window."""
        with self._cond:
            out, self._outbox = self._outbox, None
            self._notified = False
            if out is not None and out.generation != self._generation:
                return None
            return out

    def take_slice(self) -> SliceResult | None:
        with self._cond:
            out, self._slice_out = self._slice_out, None
            return out

    def thetas(self, index: int) -> np.ndarray | None:
        with self._cond:
            if index >= len(self._jobs):
                return None
            return np.array(self._jobs[index]._thetas)

    def trainings(self) -> list[Training]:
        with self._cond:
            return list(self._jobs)

    # --- the loop -----------------------------------------------------------------------------------
    def _snapshot(self, generation) -> Progress:
        views = []
        # the lists as one consistent set: clear() and start_jobs() replace them from the GUI thread (a Reset
        # while training ran raised IndexError here and ended this thread)
        with self._cond:
            plane, jobs, labels, done = self._live_plane, list(self._jobs), list(self._labels), list(self._done)
        for i, t in enumerate(jobs):
            n = len(t.curve)
            curve = {c: np.asarray(t.curve.rows[c][:n], dtype=float) for c in CURVE_COLUMNS}
            msg = ""
            if done[i]:
                msg = t.result().message
            ab = None
            if plane is not None and t._thetas and plane.centre.shape[0] == t.model.dim:
                ab = project(plane, np.array(t._thetas[:n])).ab
            views.append(JobView(i, labels[i], curve, t.model.batches_per_epoch, t.config.epochs,
                                 done[i], msg, ab))
        return Progress(generation, views, all(done) if done else True)

    def _publish(self, generation) -> None:
        snap = self._snapshot(generation)
        with self._cond:
            if generation != self._generation:
                return
            self._outbox = snap
            notify = not self._notified
            self._notified = True
        if notify:
            self.sig_ready.emit()

    def run(self) -> None:  # noqa: C901 - the loop reads best in one piece
        last = 0.0
        next_tick = 0.0
        with blas_single_thread():
            while True:
                with self._cond:
                    # pacing: wait until the next tick is due (any request wakes the wait at once)
                    while (not self._stop and math.isfinite(self._speed) and not self._paused
                           and self._slice_request is None and time.monotonic() < next_tick):
                        self._cond.wait(max(next_tick - time.monotonic(), 0.0))
                    while not self._stop and self._slice_request is None and not self._dirty and (
                            not self._jobs or all(self._done) or (self._paused and not self._steps_requested)):
                        self._cond.wait(0.2)
                    if self._stop:
                        return
                    gen = self._generation
                    req, self._slice_request = self._slice_request, None
                    self._dirty = False
                    advance = bool(self._jobs) and not all(self._done) and (
                        not self._paused or self._steps_requested > 0)
                    if advance and self._paused:
                        self._steps_requested -= 1
                    if advance and math.isfinite(self._speed) and self._speed > 0:
                        next_tick = max(next_tick, time.monotonic()) + 1.0 / self._speed
                    iters, done = list(self._iters), list(self._done)
                if req is not None:
                    self._compute_slice(gen, req)
                if advance:
                    try:
                        for i, it in enumerate(iters):
                            if done[i]:
                                continue
                            try:
                                next(it)
                            except StopIteration:
                                with self._cond:
                                    if gen == self._generation:
                                        self._done[i] = True
                    except Exception as exc:  # a model or optimizer error: end the jobs, tell the GUI
                        with self._cond:
                            if gen == self._generation:
                                self._done = [True] * len(self._done)
                        self.sig_error.emit(f"training failed: {exc}")
                        traceback.print_exc()
                now = time.monotonic()
                with self._cond:
                    finished = bool(self._done) and all(self._done)
                    stepping = self._paused
                if now - last >= FRAME_S or finished or stepping or req is not None:
                    last = now
                    self._publish(gen)

    def _compute_slice(self, gen: int, req: SliceRequest) -> None:
        try:
            with self._cond:
                jobs = list(self._jobs)
            if not jobs:
                return
            centre_job = jobs[min(req.centre_job, len(jobs) - 1)]
            model = centre_job.model
            thetas = [np.array(t._thetas) for t in jobs]
            centre = thetas[min(req.centre_job, len(jobs) - 1)][-1]
            plane = make_plane(model, centre, req.directions, req.seed, thetas[min(req.centre_job, len(jobs) - 1)])
            projections = [project(plane, th) for th in thetas]
            span = req.span
            if span is None:
                reach = max(float(np.max(np.abs(p.ab))) for p in projections) if projections else 0.0
                span = 1.0 if req.directions != "pca" else max(1.2 * reach, 1e-3)
            sl = grid_slice(model, plane, req.grid, span)
            path_losses = [np.asarray(t.curve.rows["batch_loss"], dtype=float) for t in jobs]
            result = SliceResult(gen, sl, plane, projections, path_losses)
        except Exception as exc:
            result = SliceResult(gen, None, None, error=str(exc))
        with self._cond:
            if gen != self._generation:
                return
            self._slice_out = result
        self.sig_slice.emit(result)
