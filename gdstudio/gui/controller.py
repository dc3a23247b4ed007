"""GUI-thread side of the worker: start, pause, step, reset runs; move batches into the model.

:class:`RunController` owns the :class:`~gdstudio.gui.worker.Engine` thread and the
:class:`~gdstudio.gui.run_model.RunModel`. The engine's ``sig_ready`` (emitted in the worker thread) is
connected to :meth:`RunController._on_ready`, which Qt runs in the GUI thread (queued connection); from
there every signal of this class is emitted in the GUI thread, so tests can ``qtbot.waitSignal`` on
``sig_run_finished`` safely (a wait on a signal emitted in the worker thread would run its slot there:
see docs/platform-notes.md, fact 3).
"""

from __future__ import annotations

import atexit
import logging
import math
import weakref
from typing import Sequence

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal

from gdstudio.core.objectives import Objective
from gdstudio.core.runs import Run, RunConfig, RunResult
from gdstudio.gui.run_model import RunModel, default_run_name
from gdstudio.gui.worker import Delivered, Engine, RunEnded


#: A delivery is acknowledged once the window has not repainted for this many ms.
SETTLE_MS = 8


log = logging.getLogger(__name__)

#: Engines whose thread outlived :meth:`RunController.shutdown`: kept referenced (never destroyed while running)
#: and waited for at exit.
_ORPHANS: list[Engine] = []


@atexit.register
def _wait_for_orphans() -> None:
    while _ORPHANS:
        _ORPHANS.pop().wait()


class RunController(QObject):
    """Starts runs in the engine and feeds their steps to the model.

    Signals (all emitted in the GUI thread): ``sig_run_started(int)``, ``sig_run_finished(int)`` (one
    run ended, its result is in the model), ``sig_all_finished()``, ``sig_state_changed()``
    (running/paused/idle changed), ``sig_progress()`` (new steps were drawn).
    """

    sig_run_started = Signal(int)
    sig_run_finished = Signal(int)
    sig_all_finished = Signal()
    sig_state_changed = Signal()
    sig_progress = Signal()

    def __init__(self, model: RunModel | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.model = model if model is not None else RunModel(self)
        self.engine = Engine()
        self.engine.sig_ready.connect(self._on_ready, Qt.ConnectionType.QueuedConnection)
        self._closed = False
        #: The window whose repaint acknowledges a delivery (None: acknowledge at once).
        self.paint_window = None
        self._awaiting_paint = False
        self._ack_timer = QTimer(self)
        self._ack_timer.setSingleShot(True)
        self._ack_timer.setInterval(250)
        self._ack_timer.timeout.connect(self._ack)
        # After a repaint, wait until the window is quiet (pyqtgraph's follow-up repaints, e.g. after an
        # auto-range, come as further update requests) before letting the worker go on: a repaint while the
        # worker computes waits for the GIL at each of its Python calls and stalls the window.
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._ack)
        app = QCoreApplication.instance()
        if app is not None:  # whatever happens to the window, never leave the thread running at exit
            app.aboutToQuit.connect(self.shutdown)
        ref = weakref.ref(self)
        atexit.register(lambda: (c := ref()) is not None and c.shutdown())

    # --- state -------------------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self.engine.paused

    @property
    def busy(self) -> bool:
        """Whether any run of the model is still going (running or paused)."""
        return bool(self.model.running())

    # --- commands ----------------------------------------------------------------------------------
    def start(self, configs: Sequence[RunConfig], objective: Objective | None = None, *,
              replace: bool = True, paused: bool = False, labels: Sequence[str] | None = None,
              colors: Sequence | None = None) -> list[int]:
        """Start one run per config; return their ids.

        ``replace`` drops every existing run first; ``replace=False`` adds the runs next to the existing
        ones (runs stay until removed; sweeps, races). ``objective`` is the instance to run on (a custom
        formula is parsed once); by default each config builds its own. Each run gets a name distinct from
        the others' (``labels[i]``, else the config's name, else e.g. ``"gd ε=0.1"``), which becomes its
        config's ``name`` (the CSV's run column); ``colors[i]`` (optional) its colour. Raises ValueError,
        before anything changes, if a config is invalid.
        """
        if self._closed:
            raise RuntimeError("the run controller is shut down")
        runs = [Run(cfg, objective) for cfg in configs]  # validates all first: nothing changes on error
        if not self.engine.isRunning():
            self.engine.start()  # started on first use: a window that never runs owns no thread
        if replace:
            self.reset()
        names = self.model.unique_names([(labels[i] if labels and labels[i] else default_run_name(cfg))
                                         for i, cfg in enumerate(configs)])
        self.engine.set_paused(paused)
        ids = []
        for i, (r, name) in enumerate(zip(runs, names)):
            if r.config.name != name:  # before its first step: the result carries the name
                r.config = r.config.replace(name=name)
            entry = self.model.add(r.config, r.objective, label=name, color=(colors[i] if colors else None))
            entry.attach(self.engine.submit(entry.run_id, r))  # the model reads the worker's arrays
            ids.append(entry.run_id)
            self.sig_run_started.emit(entry.run_id)
        self.sig_state_changed.emit()
        return ids

    def pause(self) -> None:
        self.engine.set_paused(True)
        self.sig_state_changed.emit()

    def resume(self) -> None:
        self.engine.set_paused(False)
        self.sig_state_changed.emit()

    def step(self, n: int = 1) -> None:
        """Advance every running run by ``n`` steps, pausing first if needed."""
        if not self.engine.paused:
            self.engine.set_paused(True)
        self.engine.step(n)
        self.sig_state_changed.emit()

    def reset(self) -> None:
        """Drop every run: the worker stops them, and any batch still on its way is discarded."""
        self.engine.cancel(None)
        self.engine.set_paused(False)
        self.model.clear()
        self.sig_state_changed.emit()

    def cancel(self, run_ids) -> None:
        self.engine.cancel(run_ids)
        for rid in run_ids:
            self.model.remove(rid)
        self.sig_state_changed.emit()

    def set_speed(self, steps_per_second: float) -> None:
        self.engine.set_speed(steps_per_second if steps_per_second and steps_per_second > 0 else math.inf)

    def results(self) -> list[RunResult]:
        """RunResults of the visible runs (partial, with every step so far, for runs still going)."""
        return self.model.results(self.engine.snapshot)

    #: How long :meth:`shutdown` waits for the worker's current step, in milliseconds.
    SHUTDOWN_WAIT_MS = 10000

    def shutdown(self) -> None:
        """Stop the worker thread and wait for it (call on window close; idempotent).

        A step still running after :attr:`SHUTDOWN_WAIT_MS` (a slow custom objective) cannot be interrupted;
        destroying its QThread would abort the process ("QThread: Destroyed while thread is still running").
        The engine is then kept alive (:data:`_ORPHANS`) and waited for once more at exit.
        """
        if self._closed:
            return
        self._closed = True
        self._ack_timer.stop()
        self._settle.stop()
        try:
            self.engine.sig_ready.disconnect(self._on_ready)
        except (RuntimeError, TypeError):
            pass
        if not self.engine.shutdown(self.SHUTDOWN_WAIT_MS):
            log.warning("the worker thread is still in a step after %d ms; waiting for it at exit",
                        self.SHUTDOWN_WAIT_MS)
            _ORPHANS.append(self.engine)

    # --- from the worker ---------------------------------------------------------------------------
    def _on_ready(self) -> None:
        if self._closed:
            return
        items = self.engine.take()
        batches = [it for it in items if isinstance(it, Delivered)]
        if batches:
            self.model.add_batches(batches)
            self.sig_progress.emit()
        ended = [it for it in items if isinstance(it, RunEnded)]
        for ev in ended:
            if ev.run_id in self.model:
                self.model.finish(ev.run_id, ev.result, ev.error)
                self.sig_run_finished.emit(ev.run_id)
        if ended:
            self.sig_state_changed.emit()
            if not self.model.running():
                self.sig_all_finished.emit()
        # Let the worker deliver again once this delivery is on screen (see Engine._wait_for_ack).
        if self.paint_window is None:
            QTimer.singleShot(0, self._ack)
        else:
            self._awaiting_paint = True
            self._ack_timer.start()  # fallback when nothing repaints (hidden or minimised window)

    def painted(self) -> None:
        """The window has repainted (call from its UpdateRequest handler): acknowledge the delivery."""
        if self._awaiting_paint:
            self._settle.start()  # (re)start: acknowledge when no repaint follows within SETTLE_MS

    def _ack(self) -> None:
        self._awaiting_paint = False
        self._ack_timer.stop()
        self._settle.stop()
        if not self._closed and self.engine.ack():
            self._on_ready()
