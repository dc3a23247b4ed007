"""The worker thread: iterates the core's :class:`~gdstudio.core.runs.Run` objects off the GUI thread.

One :class:`Engine` (a ``QThread`` subclass with its own loop, no Qt event loop) serves every run of the
window. It advances all of its active runs together, one step each per *tick*, which is what a race
needs; the GUI submits runs with :meth:`Engine.submit` and drops them with :meth:`Engine.cancel`.

Lifecycle and hand-over, following superqt's thread workers and Orange's concurrent helpers:

* There is no event loop in the worker while it loops, so it checks its flags (stop, pause, single-step
  requests, cancelled runs) on every tick, under one condition variable; waiting (paused, idle, or
  pacing at N steps per second) is a ``Condition.wait`` that any request wakes at once.
* Every step goes into the run's :class:`~gdstudio.core.runs.Recorder` (the same one :func:`~gdstudio.core.runs.run`
  uses, so an export holds the same rows as ``gdstudio run``) and into a pending list.
* At most once per frame (``FRAME_S``), pending steps are stacked into :class:`~gdstudio.gui.run_model.StepBatch`
  records (owned arrays: the core's Step arrays are already copies, ``np.stack`` copies again) and put in an
  outbox. ``sig_ready`` is emitted only when the previous notification has been consumed, so a slow GUI
  never builds a queue of events: it drains everything delivered so far in one go (:meth:`take`).
* Batches carry the run id they belong to; the GUI drops batches of runs it no longer knows (stale after
  Reset). Nothing in this module touches a widget.
* :meth:`stop` ends the loop within one step; the owner then calls ``wait()``.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QThread, Signal

from gdstudio.core.runs import Recorder, Run, RunResult, Step
from gdstudio.gui.run_model import StepBatch

#: Minimum time between two deliveries to the GUI (one frame at 60 Hz).
FRAME_S = 1 / 60


@dataclass
class RunEnded:
    """The end of a run: the core's final result, or the error that stopped it."""

    run_id: int
    result: RunResult | None
    error: str = ""


@dataclass
class _Job:
    run_id: int
    run: Run
    recorder: Recorder = field(init=False)
    pending: list = field(default_factory=list)
    done: bool = False
    error: str = ""

    def __post_init__(self):
        self.recorder = Recorder(self.run)
        self.it = iter(self.run)


def stack_steps(run_id: int, steps: list[Step]) -> StepBatch:
    """Stack consecutive steps of one run into a batch of owned arrays."""
    return StepBatch(
        run_id,
        np.array([s.k for s in steps], dtype=np.int64),
        np.stack([s.x for s in steps]),
        np.stack([s.loss for s in steps]),
        np.stack([s.grad for s in steps]),
        np.stack([s.recorded for s in steps]),
        np.stack([s.ended for s in steps]),
    )


class Engine(QThread):
    """Runs the core's step iterators in a thread, delivering every step in per-frame batches.

    Thread-safe requests (call from the GUI thread): :meth:`submit`, :meth:`cancel`, :meth:`set_paused`,
    :meth:`step`, :meth:`set_speed`, :meth:`snapshot`, :meth:`take`, :meth:`stop`.
    ``sig_ready`` is emitted from the worker thread; connect it to a GUI-thread slot (queued) that calls
    :meth:`take`.
    """

    sig_ready = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("gdstudio-engine")
        self._cond = threading.Condition()
        self._jobs: dict[int, _Job] = {}
        self._outbox: deque = deque()
        self._paused = False
        self._step_requests = 0
        self._stop = False
        self._speed = math.inf
        self._notified = False
        self._last_flush = 0.0

    # --- requests from the GUI thread ------------------------------------------------------------
    def submit(self, run_id: int, run: Run) -> None:
        """Add a run (already validated: ``Run(config)`` raised in the GUI thread if the config is bad)."""
        with self._cond:
            self._jobs[run_id] = _Job(run_id, run)
            self._cond.notify_all()

    def cancel(self, run_ids=None) -> None:
        """Drop runs (all when ``None``): they stop before their next step and deliver nothing more."""
        with self._cond:
            ids = list(self._jobs) if run_ids is None else list(run_ids)
            for rid in ids:
                job = self._jobs.pop(rid, None)
                if job is not None:
                    job.run.cancel()
            if run_ids is None:
                self._outbox.clear()
            else:
                keep = set(ids)
                self._outbox = deque(ev for ev in self._outbox if ev.run_id not in keep)
            self._step_requests = 0
            self._cond.notify_all()

    def set_paused(self, paused: bool) -> None:
        with self._cond:
            self._paused = bool(paused)
            if not paused:
                self._step_requests = 0
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    def step(self, n: int = 1) -> None:
        """While paused, advance every active run by ``n`` steps."""
        with self._cond:
            self._step_requests += int(n)
            self._cond.notify_all()

    def set_speed(self, steps_per_second: float) -> None:
        """Pace the ticks: at most this many steps per second (``math.inf``: as fast as possible)."""
        if not (steps_per_second > 0):
            raise ValueError(f"speed must be a positive number of steps per second, got {steps_per_second!r}")
        with self._cond:
            self._speed = float(steps_per_second)
            self._cond.notify_all()

    @property
    def speed(self) -> float:
        return self._speed

    def active_ids(self) -> list[int]:
        with self._cond:
            return [rid for rid, j in self._jobs.items() if not j.done]

    def snapshot(self, run_id: int) -> RunResult | None:
        """A partial RunResult of a run still going (every step recorded so far), or None."""
        with self._cond:
            job = self._jobs.get(run_id)
            return None if job is None else job.recorder.result()

    def take(self) -> list:
        """Everything delivered since the last call: StepBatch and RunEnded records, in order."""
        with self._cond:
            items = list(self._outbox)
            self._outbox.clear()
            self._notified = False
            return items

    def stop(self) -> None:
        """Ask the loop to end (it does within one step). Follow with ``wait()``."""
        with self._cond:
            self._stop = True
            for job in self._jobs.values():
                job.run.cancel()
            self._cond.notify_all()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop, quit and wait: safe to call more than once, and before the thread ever started."""
        self.stop()
        self.quit()
        return self.wait(timeout_ms) if self.isRunning() else True

    # --- the worker loop (worker thread) ---------------------------------------------------------
    def _has_work(self) -> bool:
        return any(not j.done for j in self._jobs.values())

    def _flush_locked(self) -> None:
        for job in list(self._jobs.values()):
            if job.pending:
                self._outbox.append(stack_steps(job.run_id, job.pending))
                job.pending = []
            if job.done:
                result = job.recorder.result() if len(job.recorder) else None
                self._outbox.append(RunEnded(job.run_id, result, job.error))
                del self._jobs[job.run_id]
        self._last_flush = time.monotonic()
        if self._outbox and not self._notified:
            self._notified = True
            self.sig_ready.emit()

    def run(self) -> None:  # noqa: C901 - one loop, commented
        next_tick = time.monotonic()
        while True:
            with self._cond:
                # Sleep while there is nothing to do; deliver what is pending first.
                while not self._stop and (not self._has_work() or (self._paused and self._step_requests <= 0)):
                    self._flush_locked()
                    self._cond.wait()
                    next_tick = time.monotonic()
                if self._stop:
                    return
                single = self._paused
                if single:
                    self._step_requests -= 1
                speed = self._speed
                if not single and math.isfinite(speed):
                    delay = next_tick - time.monotonic()
                    if delay > 0:
                        if time.monotonic() - self._last_flush >= FRAME_S:
                            self._flush_locked()
                        self._cond.wait(timeout=delay)  # any request wakes us; then re-check everything
                        continue
                    # Do not try to catch up after a pause or a slow frame.
                    next_tick = max(next_tick + 1.0 / speed, time.monotonic() - 0.05)
                jobs = [j for j in self._jobs.values() if not j.done]
            # Compute outside the lock: requests never wait for a step.
            produced = []
            for job in jobs:
                try:
                    produced.append((job, next(job.it)))
                except StopIteration:
                    produced.append((job, None))
                except Exception as exc:  # a custom objective may raise anything: report, never crash
                    job.error = f"run failed: {type(exc).__name__}: {exc}"
                    traceback.print_exc()
                    produced.append((job, None))
            with self._cond:
                any_end = False
                for job, step in produced:
                    if self._jobs.get(job.run_id) is not job:
                        continue  # cancelled meanwhile: deliver nothing more
                    if step is None:
                        job.done = True
                        any_end = True
                    else:
                        job.recorder.add(step)
                        job.pending.append(step)
                if single or any_end or time.monotonic() - self._last_flush >= FRAME_S:
                    self._flush_locked()
