"""The worker thread: iterates the core's :class:`~gdstudio.core.runs.Run` objects off the GUI thread.

One :class:`Engine` (a ``QThread`` subclass with its own loop, no Qt event loop) serves every run of the
window. It advances all of its active runs together, one step each per *tick*, which is what a race
needs; the GUI submits runs with :meth:`Engine.submit` and drops them with :meth:`Engine.cancel`.

Lifecycle and hand-over, following superqt's thread workers and Orange's concurrent helpers:

* There is no event loop in the worker while it loops, so it checks its flags (stop, pause, single-step
  requests, cancelled runs) on every tick, under one condition variable; waiting (paused, idle, or
  pacing at N steps per second) is a ``Condition.wait`` that any request wakes at once.
* Every step goes straight into the run's :class:`~gdstudio.core.history.History` (compact arrays, 42 bytes per
  step for one 2-D start; its :meth:`~gdstudio.core.history.History.result` holds the same rows as the core's
  ``Recorder``, so an export holds the same rows as ``gdstudio run``). The window's model reads the same
  arrays (views, no copies): the worker never hands over step data, only how many rows are ready.
* At most once per frame (``FRAME_S``, or as long as the GUI needed to draw the last one, see
  :meth:`Engine._wait_for_ack`), and at most :data:`MAX_BATCH` steps, the rows written so far are published
  and a :class:`Delivered` record (run id, row count) goes in an outbox. ``sig_ready`` is emitted only when the
  previous notification has been consumed, so a slow GUI never builds a queue of events: it drains everything
  delivered so far in one go (:meth:`take`).
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

from PySide6.QtCore import QThread, Signal

from gdstudio.core.history import History
from gdstudio.core.runs import Run, RunResult

#: Minimum time between two deliveries to the GUI (one frame at 60 Hz).
FRAME_S = 1 / 60
#: The most time the worker computes between two deliveries (when the GUI is slow to draw). While the worker
#: computes, the window still handles its events (the worker yields the GIL every switch interval, 5 ms): the
#: longest wait for a click is one frame's drawing, whatever this is.
MAX_COMPUTE_S = 0.3
#: The worker computes this many times as long as the GUI took to draw the last delivery (so a run at max
#: speed gets about COMPUTE_SHARE / (COMPUTE_SHARE + 1) of the time; the window redraws a few times a second
#: when drawing is slow, up to 60 times when it is fast).
COMPUTE_SHARE = 3.0
#: The most steps (per run) in one delivery: also the most steps a run can make after Pause is pressed
#: (the steps computed before the request arrives are shown, then the run waits).
MAX_BATCH = 8192


@dataclass
class Delivered:
    """Rows ``0..n`` of a run's :class:`~gdstudio.core.history.History` are written and may be read."""

    run_id: int
    n: int


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
    history: History = field(init=False)
    done: bool = False
    error: str = ""

    def __post_init__(self):
        self.history = History.for_run(self.run)
        self.it = iter(self.run)

    @property
    def pending(self) -> int:
        """Rows written and not yet delivered."""
        return len(self.history) - self.history.published


class Engine(QThread):
    """Runs the core's step iterators in a thread, delivering every step in per-frame batches.

    Requests from the GUI thread (:meth:`submit`, :meth:`cancel`, :meth:`set_paused`, :meth:`step`,
    :meth:`set_speed`) are queued commands that the loop applies before its next tick; :meth:`stop` is a
    flag. The loop holds no lock while it steps: a lock taken on every tick starves the GUI thread (the
    worker releases and re-takes it before a waiting thread wakes up), so the GUI would stall for seconds.
    The only shared lock guards the table of jobs and is taken once per delivery (:meth:`snapshot`).

    ``sig_ready`` is emitted from the worker thread; connect it to a GUI-thread slot (queued) that calls
    :meth:`take`.
    """

    sig_ready = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("gdstudio-engine")
        self._wake = threading.Condition()  # only for sleeping and waking up; never held while stepping
        self._commands: deque = deque()  # GUI -> worker (deque appends and pops are thread-safe)
        self._outbox: deque = deque()  # worker -> GUI
        self._rec_lock = threading.Lock()  # guards the table of jobs (taken once per delivery)
        self._stop = False
        self._notified = False
        # GUI-side view of the state (written by the GUI thread only)
        self._paused = False
        self._speed = math.inf
        self._live: set[int] = set()
        # worker-side state (touched by the worker thread only, except _jobs read under _rec_lock)
        self._jobs: dict[int, _Job] = {}
        self._w_paused = False
        self._w_speed = math.inf
        self._w_budget = 0
        self._last_flush = 0.0
        self._compute_s = FRAME_S

    # --- requests from the GUI thread ------------------------------------------------------------
    def _send(self, *command) -> None:
        self._commands.append(command)
        with self._wake:
            self._wake.notify_all()

    def submit(self, run_id: int, run: Run) -> History:
        """Add a run (already validated: ``Run(config)`` raised in the GUI thread if the config is bad).

        Returns the History the worker fills: read it up to the row counts :meth:`take` delivers.
        """
        self._live.add(run_id)
        job = _Job(run_id, run)
        self._send("submit", run_id, job)
        return job.history

    def cancel(self, run_ids=None) -> None:
        """Drop runs (all when ``None``): they stop before their next step and deliver nothing more.

        Batches already on their way still carry the old run ids; the GUI drops them (stale).
        """
        ids = set(self._live) if run_ids is None else set(run_ids)
        self._live -= ids
        self._send("cancel", ids)

    def set_paused(self, paused: bool) -> None:
        self._paused = bool(paused)
        self._send("pause", self._paused)

    @property
    def paused(self) -> bool:
        return self._paused

    def step(self, n: int = 1) -> None:
        """While paused, advance every active run by ``n`` steps."""
        self._send("step", int(n))

    def set_speed(self, steps_per_second: float) -> None:
        """Pace the ticks: at most this many steps per second (``math.inf``: as fast as possible)."""
        if not (steps_per_second > 0):
            raise ValueError(f"speed must be a positive number of steps per second, got {steps_per_second!r}")
        self._speed = float(steps_per_second)
        self._send("speed", self._speed)

    @property
    def speed(self) -> float:
        return self._speed

    def active_ids(self) -> list[int]:
        """Runs submitted and neither cancelled nor reported ended (as seen from the GUI thread)."""
        return sorted(self._live)

    def snapshot(self, run_id: int) -> RunResult | None:
        """A partial RunResult of a run still going: every step delivered so far. None if unknown."""
        with self._rec_lock:
            job = self._jobs.get(run_id)
            return None if job is None or not job.history.published else job.history.result(job.run)

    def take(self) -> list:
        """Everything delivered since the last call: Delivered and RunEnded records, in order.

        Call :meth:`ack` once the delivery is drawn: until then the worker computes at most one frame
        ahead and then waits, so the GUI thread draws without competing for the GIL.
        """
        items = []
        while self._outbox:
            items.append(self._outbox.popleft())
        for it in items:
            if isinstance(it, RunEnded):
                self._live.discard(it.run_id)
        return items

    def ack(self) -> bool:
        """The GUI has drawn the last delivery: the worker may deliver again. Returns whether more is
        already waiting in the outbox (then call :meth:`take` again)."""
        self._notified = False
        with self._wake:
            self._wake.notify_all()
        return bool(self._outbox)

    def stop(self) -> None:
        """Ask the loop to end (it does within one step). Follow with ``wait()``."""
        self._stop = True
        with self._wake:
            self._wake.notify_all()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop, quit and wait: safe to call more than once, and before the thread ever started."""
        self.stop()
        self.quit()
        return self.wait(timeout_ms) if self.isRunning() else True

    # --- the worker loop (worker thread) ---------------------------------------------------------
    def _apply_commands(self) -> None:
        while self._commands:
            cmd = self._commands.popleft()
            kind = cmd[0]
            if kind == "submit":
                with self._rec_lock:
                    self._jobs[cmd[1]] = cmd[2]
            elif kind == "cancel":
                with self._rec_lock:
                    for rid in cmd[1]:
                        job = self._jobs.pop(rid, None)
                        if job is not None:
                            job.run.cancel()
            elif kind == "pause":
                self._w_paused = cmd[1]
                self._w_budget = 0
            elif kind == "step":
                self._w_budget += cmd[1]
            elif kind == "speed":
                self._w_speed = cmd[1]

    def _flush(self) -> None:
        """Hand pending steps (and ends) to the GUI; notify it unless a notification is still pending."""
        delivered = False
        with self._rec_lock:
            for job in list(self._jobs.values()):
                if job.pending:
                    self._outbox.append(Delivered(job.run_id, job.history.publish()))
                    delivered = True
                if job.done:
                    result = job.history.result(job.run) if job.history.published else None
                    self._outbox.append(RunEnded(job.run_id, result, job.error))
                    del self._jobs[job.run_id]
                    delivered = True
        self._last_flush = time.monotonic()
        if delivered and not self._notified:
            self._notified = True
            self.sig_ready.emit()

    def _sleep(self, timeout: float | None) -> None:
        with self._wake:
            if not self._commands and not self._stop:
                self._wake.wait(timeout)

    def _wait_for_ack(self) -> None:
        """Block (releasing the GIL) while the GUI has not drawn the last delivery.

        Why: Python code in the GUI thread (pyqtgraph's painting) releases and re-takes the GIL around
        every Qt call; with a busy worker each re-take waits for a GIL switch (and, on a loaded machine, for
        the scheduler), and a frame of a few hundred calls took seconds (measured: 1.3 s median between 10 ms
        timer ticks). So the worker does not compute while the GUI draws: it delivers, waits for the ack,
        then computes the next batch while the GUI is idle (the GUI still handles events then: a Python slot
        waits at most one GIL switch interval, 5 ms).
        """
        t0 = time.monotonic()
        with self._wake:
            while self._notified and not self._commands and not self._stop:
                self._wake.wait(0.25)
        # Compute COMPUTE_SHARE times as long as the GUI needed to draw, within [one frame, MAX_COMPUTE_S].
        self._compute_s = min(max(FRAME_S, COMPUTE_SHARE * (time.monotonic() - t0)), MAX_COMPUTE_S)

    def run(self) -> None:
        next_tick = time.monotonic()
        while True:
            self._apply_commands()
            if self._stop:
                return
            jobs = [j for j in self._jobs.values() if not j.done]
            if not jobs or (self._w_paused and self._w_budget <= 0):
                self._flush()
                self._sleep(None)  # any request wakes us
                next_tick = time.monotonic()
                continue
            single = self._w_paused
            if single:
                self._w_budget -= 1
            elif math.isfinite(self._w_speed):
                delay = next_tick - time.monotonic()
                if delay > 0:
                    if time.monotonic() - self._last_flush >= FRAME_S and not self._notified:
                        self._flush()
                    self._sleep(delay)
                    continue  # re-check commands, then step when the tick is due
                # Do not try to catch up after a pause or a slow frame.
                next_tick = max(next_tick + 1.0 / self._w_speed, time.monotonic() - 0.05)
            any_end = False
            full = False
            for job in jobs:
                try:
                    job.history.add(next(job.it))
                    full = full or job.pending >= MAX_BATCH
                except StopIteration:
                    job.done = any_end = True
                except Exception as exc:  # a custom objective may raise anything: report, never crash
                    job.error = f"run failed: {type(exc).__name__}: {exc}"
                    traceback.print_exc()
                    job.done = any_end = True
            if single or any_end:
                self._flush()
            elif full or time.monotonic() - self._last_flush >= self._compute_s:
                # Deliver, then wait while the GUI draws it: drawing and computing take turns (see _wait_for_ack).
                self._flush()
                self._wait_for_ack()
                self._last_flush = time.monotonic()  # the next batch's computing starts now
