""""See why" in Model mode (wiring only): the See why dock shows a training step of the classifier.

:func:`install` puts a :class:`~gdstudio.gui.views.model_inspector.ModelInspector` beside the function mode's
timeline and inspector in the See why dock (a stack that follows the mode shown), so the same toolbar button,
View ▸ See why ▸ panel action and dock serve both modes. :class:`ModelWhy` picks the step (the latest step with
an update until the user picks another), reads θ_k and θ_k+1 of that training and asks
:mod:`gdstudio.core.analysis.model_step` for the numbers, once per selection, on a background thread (the core
only reads the model's data; the result comes back to the GUI thread by a queued signal, and a result for a step no
longer selected is dropped). While a training runs unpaused and the user has not picked an older step, the
latest step is explained at a calm pace: one explanation at a time, the next one asked for no sooner than
:data:`LIVE_REST_MS` after the previous result (each evaluates the loss several hundred times: 0.01–1 s on digits;
training at full speed meanwhile was measured up to about a quarter slower on a shared 2-core machine,
``benchmarks/bench_model_why_live.py``).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QStackedWidget

from gdstudio.core.analysis import model_step as MS
from gdstudio.core.rules import rule_label
from gdstudio.gui.views.model_inspector import ModelInspector

#: Coalesce progress deliveries: the range (and a followed step) is refreshed at most this often (ms).
REFRESH_MS = 150
#: Coordinates in the gradient check, and the step sizes of its error-against-h chart.
CHECK_COORDS = 8
CHECK_HS = np.logspace(-12, -1, 23)
#: While training runs: rest at least this long (ms) after an explanation before asking for the next one.
LIVE_REST_MS = 500


class ModelWhy(QObject):
    """The Model mode's step selection and its explanation (see the module docstring)."""

    sig_shown = Signal()  # a step (or a message) was drawn
    _sig_result = Signal(object)  # from the explaining thread, delivered (queued) in the GUI thread

    def __init__(self, window, mode):
        super().__init__(window)
        self.window = window
        self.mode = mode
        self.inspector = ModelInspector()
        self.run = 0
        self.k: int | None = None
        self.follow = True  # show the latest step until the user picks another
        self.step = None  # the last ModelStep shown
        self._jobs_key = None
        # Explanations take 0.05–1 s on digits (benchmarks/bench_model_why.py): computed on one background
        # thread so the window never waits; only the latest request is kept while one is computed.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gdstudio-model-why")
        self._serial = 0
        self._pending = None
        self._busy = False
        self._closed = False
        self._last_result = -float("inf")  # time.monotonic() of the last explanation delivered
        self.live = False  # the step shown follows a running training
        self._sig_result.connect(self._on_result)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        mode.worker.sig_ready.connect(self._on_progress)
        mode.sig_trained.connect(self.refresh)
        self.inspector.sig_step_selected.connect(self._on_pick)
        self.inspector.sig_data_changed.connect(lambda _d: self._compute())

    @property
    def dock(self):
        return self.window.see_why.dock

    def _shown(self) -> bool:
        return bool(self.mode.active) and self.dock is not None and self.dock.isVisible()

    def _trainings(self):
        return self.mode.worker.trainings()

    # --- selection -------------------------------------------------------------------------------------------
    def select(self, k: int, run: int = 0) -> bool:
        """Explain step ``k`` of training ``run`` (as a pick in the timeline); whether it exists."""
        ts = self._trainings()
        if not 0 <= run < len(ts) or not 0 <= k < len(ts[run]._thetas):
            return False
        self.run, self.k = run, int(k)
        self.follow = k >= len(ts[run]._thetas) - 2
        if not self.live:  # (live, the timeline moves when the explanation arrives: it shows the step explained)
            self.inspector.set_step(run, self.k)
        self._compute()
        return True

    def _on_pick(self, run: int, k: int) -> None:
        self.live = False  # the user's pick: stay on it (picking the latest step follows again)
        self.select(k, run)

    def _on_progress(self) -> None:
        if self._shown() and not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Follow the trainings: their labels, the step range, and (following) the latest step: at once when
        paused or finished, at a calm pace (live) while training runs."""
        if not self._shown():
            return
        ts = self._trainings()
        key = tuple(id(t) for t in ts)
        if key != self._jobs_key:  # new trainings: start again at their latest step
            self._jobs_key, self.follow, self.run, self.k, self.step = key, True, 0, None, None
        if not ts:
            self.inspector.set_runs([])
            self.inspector.set_range(-1)
            self.inspector.show_message("Train a model (Run or Step), then pick a step here.")
            self.sig_shown.emit()
            return
        labels = list(self.mode.labels) + [t.config.optimizer for t in ts[len(self.mode.labels):]]
        self.inspector.set_runs([rule_label(x) if x.startswith("rule:") else x for x in labels[:len(ts)]])
        self.run = min(self.run, len(ts) - 1)
        n = len(ts[self.run]._thetas)
        self.inspector.set_range(n - 1)
        running = self.mode.worker.busy and not self.mode.worker.paused
        if self.follow and n and not running:
            self.live = False
            k = max(n - 2, 0)  # the latest step that has an update (θ_k → θ_k+1)
            if k != self.k or (self.step is None and not self.computing):
                self.select(k, self.run)
        elif self.follow and n >= 2 and running:
            # the latest step, at a calm pace: one explanation in flight, a rest after each
            rested = (time.monotonic() - self._last_result) * 1000 >= LIVE_REST_MS
            if not self.computing and rested and n - 2 != self.k:
                self.live = True
                self.select(n - 2, self.run)
                self.follow = True  # (the range grew while selecting: still following)
            elif self.k is None:
                self.inspector.show_message("Training… the latest step is explained here as it runs.")
            if self.computing or not rested:
                self._timer.start()  # come back for the next one even if progress stops arriving
        elif self.k is None and running:
            self.inspector.show_message("Training… pick a step to see why it went where it went.")

    def _compute(self) -> None:
        """Ask for the selected step's explanation on the background thread (the latest request wins)."""
        ts = self._trainings()
        if self.k is None or not 0 <= self.run < len(ts):
            return
        t = ts[self.run]
        th = t._thetas  # grows in the worker thread: read only the two rows needed (they never change)
        n = len(th)
        if not 0 <= self.k < n:
            return
        theta, nxt = th[self.k], (th[self.k + 1] if self.k + 1 < n else None)
        self._serial += 1
        label = self.inspector.run_combo.itemText(self.run) or t.config.optimizer
        self._pending = (self._serial, t.model, self.k, theta, nxt, self.inspector.data(), label,
                         rule_label(t.config.optimizer))
        if self.step is not None and self.step.k != self.k and not (self.live and self.follow):
            self.inspector.header.setText(f"step {self.k:,}: computing…")
        if not self._busy:
            self._submit()

    def _submit(self) -> None:
        job, self._pending = self._pending, None
        if job is None or self._closed:
            return
        self._busy = True
        self._pool.submit(_explain, job, self._sig_result)

    def _on_result(self, result) -> None:
        self._busy = False
        self._last_result = time.monotonic()
        serial, k, payload, error = result
        if self._pending is not None:  # the user picked another step meanwhile: that one next
            self._submit()
            return
        if serial != self._serial or self._closed:
            return
        if error:
            self.step = None
            self.inspector.show_message(f"Step {k} cannot be explained: {error}")
        else:
            label, optimizer, step, line, check = payload
            self.step = step
            self.inspector.show_step(label, optimizer, step, line, check)
            if self.live and self.follow:
                self.inspector.set_step(self.run, step.k)
                self.inspector.header.setText(self.inspector.header.text() + " · <i>live: the latest step while "
                                              "training runs (pick a step or pause to stay on one)</i>")
        self.sig_shown.emit()

    @property
    def computing(self) -> bool:
        return self._busy or self._pending is not None

    def shutdown(self) -> None:
        """Drop what is pending and wait for the explanation being computed (at most about a second)."""
        self._closed = True
        self._pending = None
        self._pool.shutdown(wait=True, cancel_futures=True)


def _explain(job, signal) -> None:
    """The background thread's work: explain one step (core only), then hand the result to the GUI thread."""
    serial, model, k, theta, nxt, data, label, optimizer = job
    payload, error = None, ""
    try:
        with np.errstate(all="ignore"):
            step = MS.explain_model_update(model, k, theta, nxt, data)
            line = MS.model_line_search(model, step)
            check = MS.model_gradient_check(model, step, n=min(CHECK_COORDS, model.dim), seed=k, curve=CHECK_HS)
        payload = (label, optimizer, step, line, check)
    except (ValueError, FloatingPointError, ArithmeticError) as exc:
        error = str(exc) or type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - reported in the panel, never lost in a thread
        error = f"{type(exc).__name__}: {exc}"
    try:
        signal.emit((serial, k, payload, error))  # queued to the GUI thread
    except RuntimeError:  # the window is gone
        pass


def install(window) -> ModelWhy:
    """Add the Model mode's page to ``window``'s See why dock (after :func:`gdstudio.gui.model_mode.install`)."""
    mode = window.model_mode
    mw = ModelWhy(window, mode)
    dock = window.see_why.dock
    stack = QStackedWidget()
    stack.setObjectName("see_why_stack")
    stack.addWidget(dock.widget())  # 0: the function mode's timeline and inspector
    stack.addWidget(mw.inspector)  # 1: the model's step
    dock.setWidget(stack)
    mw.stack = stack

    def on_mode(index: int) -> None:
        stack.setCurrentIndex(1 if index == 1 else 0)
        mw.refresh()

    mode.central_stack.currentChanged.connect(on_mode)
    dock.visibilityChanged.connect(lambda visible: visible and mw.refresh())
    shutdown_mode = mode.shutdown  # the window's close stops the model mode: this thread with it

    def shutdown() -> None:
        mw.shutdown()
        shutdown_mode()

    mode.shutdown = shutdown
    return mw
