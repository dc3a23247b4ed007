"""View ▸ Basins of attraction: the basin map of the panel's optimizer as a layer of the contour map.

The map (:func:`gdstudio.core.basins.basin_map`, one start per point of a :data:`GRID` × :data:`GRID` grid over
the objective's view) is computed on a worker thread; the status bar shows its progress with a Cancel
button once it has taken :data:`PROGRESS_DELAY_S` (a quicker map simply appears) and, while the layer is
shown, where the start under the mouse ends. It is recomputed (after a short pause, so typing a learning rate
does not start a map per keystroke) when the objective or the optimizer's settings change; a click on the map
starts a normal run from that point.

Threading: the worker gets an immutable request (the objective instance, never modified after it is built,
and plain values) and hands back a :class:`~gdstudio.core.basins.BasinMap` it no longer touches; the GUI
thread receives it through a queued signal and drops maps of requests it no longer wants (each request has an
id). The computation itself runs in a separate process (``python -m gdstudio.core.basins``, at a lower
priority) whenever the objective can be rebuilt there from its spec: a thread computing in this process would
share the GIL with the GUI thread, and the window's Python slots waited for it (measured: 60–130 ms stalls
against 40 ms with a process, on a loaded 2-CPU machine). The worker thread then only reads the child's
progress lines. Other objectives (a class of your own) and frozen apps compute on the worker thread, at a
lower OS priority. Cancelling terminates the child, or sets a flag the computation reads after every step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QProgressBar, QToolButton

import gdstudio
from gdstudio.core.basins import DEFAULT_TOL, BasinMap, basin_map, load_arrays
from gdstudio.core.objectives import Objective, objective_spec
from gdstudio.core.runs import RunConfig
from gdstudio.gui.views.basin_layer import BasinLayer

#: Starts per side of the window's map (GRID² starts).
GRID = 200
#: Most epochs per start in the window (the panel's epochs, capped: a map should come back in seconds).
MAX_EPOCHS = 500
#: Pause after a change before the map is recomputed (ms).
DEBOUNCE_MS = 400
#: At most one progress report per this many seconds from the worker. Each repaint of the progress bar
#: recomposes the window with its OpenGL view (measured: 15–60 ms with software GL on a loaded machine,
#: most of it the GUI thread waiting for Mesa's threads and for a CPU), so not more often.
PROGRESS_S = 1.0
#: The progress bar and Cancel appear only once a map has taken this long (seconds): a quicker map simply
#: appears, without the two repaints of showing and hiding them.
PROGRESS_DELAY_S = 1.0
#: The legend of a new map is built this long after its picture is set (ms).
LEGEND_DELAY_MS = 15


@dataclass(frozen=True)
class BasinRequest:
    """Everything one map needs (safe to hand to the worker thread)."""

    objective: Objective
    optimizer: str
    hyperparams: tuple[tuple[str, Any], ...]
    epochs: int
    tol: float
    gradient: str
    grid: int = GRID

    def key(self) -> tuple:
        """What decides the map (two requests with equal keys give the same map)."""
        return (self.objective.spec(), tuple(sorted(self.objective.params.items())), id(self.objective),
                self.optimizer, self.hyperparams, self.epochs, self.tol, self.gradient, self.grid)


class BasinController(QObject):
    """Computes maps on a worker thread and shows them in a :class:`BasinLayer` of the contour view."""

    sig_finished = Signal(object)  # the BasinMap shown (emitted in the GUI thread), or None when cancelled/failed
    _sig_progress = Signal(int, int, int)  # request id, done, total (from the worker thread)
    # request id, BasinMap or None, its colours (computed on the worker: ~15 ms for 500 × 500), error
    _sig_done = Signal(int, object, object, str)

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.layer = BasinLayer(window.contour_view.plot, self)
        self.action = QAction("&Basins of attraction", window)
        self.action.setCheckable(True)
        self.action.setShortcut("Ctrl+B")
        self.action.setToolTip("Colour the contour map by the critical point each start reaches with the current "
                               "optimizer (one start per pixel); hover to see where a start ends, click to run "
                               "from there")
        self.action.toggled.connect(self._on_toggled)
        self.progress = QProgressBar()
        self.progress.setObjectName("basin_progress")
        self.progress.setMaximumWidth(160)
        self.progress.setFormat("basins %p%")
        self.cancel_button = QToolButton()
        self.cancel_button.setObjectName("basin_cancel")
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop computing the basin map")
        self.cancel_button.clicked.connect(self.cancel)
        self.hover_label = QLabel()
        self.hover_label.setObjectName("basin_hover")
        sb = window.statusBar()
        for w in (self.hover_label, self.progress, self.cancel_button):
            sb.addPermanentWidget(w, 0)
            # Showing them must not re-lay out the window: a new layout re-renders the OpenGL view (tens of
            # ms with software GL), a stall while the map computes. They keep their place when hidden.
            policy = w.sizePolicy()
            policy.setRetainSizeWhenHidden(w is not self.hover_label)
            w.setSizePolicy(policy)
            w.hide()
        self.layer.sig_hover.connect(self._on_hover)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.recompute)
        self._show_timer = QTimer(self)  # shows the progress bar once a map takes PROGRESS_DELAY_S
        self._show_timer.setSingleShot(True)
        self._show_timer.timeout.connect(self._show_progress)
        self._sig_progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._sig_done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self._next_id = 0
        self._current: int | None = None  # id of the request being computed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen | None = None
        #: Compute maps in a separate process when the objective can be rebuilt there by name (otherwise,
        #: and in a frozen app, on the worker thread itself).
        self.use_process = True
        self._shown_key: tuple | None = None
        self._pending_key: tuple | None = None
        window.sig_objective_changed.connect(self._on_objective_changed)
        window.side_panel.sig_config_changed.connect(self._on_settings_changed)
        window.contour_view.sig_point_clicked.connect(self._on_clicked)

    # --- state ---------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._current is not None

    def request(self) -> BasinRequest | None:
        """The request for the panel's current settings (None when they are invalid or no objective is shown)."""
        w = self.window
        if w.objective is None or w.objective.dim != 2:
            return None
        try:
            cfg = w.side_panel.current_config()
        except ValueError:
            return None
        return BasinRequest(w.objective, cfg.optimizer, cfg.hyperparams, min(cfg.epochs, MAX_EPOCHS),
                            DEFAULT_TOL if cfg.tol is None else cfg.tol, cfg.gradient, GRID)

    # --- commands ------------------------------------------------------------------------------------
    def recompute(self) -> None:
        """Compute the map for the current settings (cancelling one in progress) unless it is already shown."""
        if not self.action.isChecked():
            return
        req = self.request()
        if req is None:
            self.layer.set_map(None)
            self._shown_key = None
            return
        key = req.key()
        if key == self._shown_key and not self.busy:
            self.layer.set_visible(True)
            return
        if self.busy and key == self._pending_key:
            return
        self._stop_worker()
        self._next_id += 1
        rid = self._current = self._next_id
        self._pending_key = key
        self._stop = stop = threading.Event()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        if not self.progress.isVisible():  # (still shown when this map replaces one that was showing it)
            self._show_timer.start(int(1000 * PROGRESS_DELAY_S))
        self._thread = threading.Thread(target=self._work, args=(rid, req, stop), name="gdstudio-basins",
                                        daemon=True)
        self._thread.start()

    def _show_progress(self) -> None:
        if self.busy:
            self.progress.show()
            self.cancel_button.show()

    def _hide_progress(self) -> None:
        self._show_timer.stop()
        self.progress.hide()
        self.cancel_button.hide()

    def cancel(self) -> None:
        """Stop the map being computed (the layer keeps the last finished map, if any)."""
        self._stop_worker()
        self._current = None
        self._pending_key = None
        self._hide_progress()
        self.window.statusBar().showMessage("Basin map cancelled", 3000)
        self.sig_finished.emit(None)

    def shutdown(self) -> None:
        """Stop the worker and wait for it (before the window goes)."""
        self._timer.stop()
        self._show_timer.stop()
        self._stop_worker()
        self._current = None

    def _stop_worker(self) -> None:
        self._stop.set()
        t = self._thread
        if t is not None and t.is_alive():
            t.join(timeout=10)
        self._thread = None

    # --- the worker thread ---------------------------------------------------------------------------
    def _work(self, rid: int, req: BasinRequest, stop: threading.Event) -> None:
        try:
            spec = _process_request(req)
        except ValueError:  # an objective the registry cannot rebuild by name: compute it here
            spec = None
        if spec is not None and self.use_process and not getattr(sys, "frozen", False):
            try:
                self._work_in_process(rid, req, spec, stop)
                return
            except OSError:  # no interpreter to start: compute it here
                traceback.print_exc()
        self._work_in_thread(rid, req, stop)

    def _work_in_process(self, rid: int, req: BasinRequest, spec: dict, stop: threading.Event) -> None:
        """Run ``python -m gdstudio.core.basins`` and wait for it; this thread only reads its progress lines
        (blocking reads release the GIL, so the GUI thread never waits for the computation)."""
        with tempfile.TemporaryDirectory(prefix="gdstudio-basins-") as d:
            req_path, out_path = os.path.join(d, "request.json"), os.path.join(d, "map.npz")
            with open(req_path, "w", encoding="utf-8") as f:
                json.dump(spec, f)
            env = dict(os.environ)
            root = os.path.dirname(os.path.dirname(os.path.abspath(gdstudio.__file__)))
            env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
            err_file = open(os.path.join(d, "stderr.txt"), "w+", encoding="utf-8")
            proc = subprocess.Popen([sys.executable, "-m", "gdstudio.core.basins", req_path, out_path],
                                    stdout=subprocess.PIPE, stderr=err_file, text=True, env=env)
            try:  # below the window's priority, so that on a busy machine the GUI is scheduled first
                os.setpriority(os.PRIO_PROCESS, proc.pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10))
            except (AttributeError, OSError):
                pass
            self._proc = proc
            watcher = threading.Thread(target=_stop_on, args=(stop, proc), daemon=True)
            watcher.start()
            done, shown = False, 0.0
            with proc.stdout:
                for line in proc.stdout:
                    parts = line.split()
                    if parts[:1] == ["progress"] and len(parts) == 3:
                        now = time.monotonic()
                        if now - shown >= PROGRESS_S:
                            shown = now
                            self._sig_progress.emit(rid, int(parts[1]), int(parts[2]))
                    elif parts[:1] == ["done"]:
                        done = True
            proc.wait()
            err_file.seek(0)
            err = err_file.read()
            err_file.close()
            stop.set()  # ends the watcher
            self._proc = None
            if not done or proc.returncode != 0:
                cancelled = proc.returncode is not None and proc.returncode < 0
                last = err.strip().splitlines()[-1] if err.strip() else f"exit status {proc.returncode}"
                self._sig_done.emit(rid, None, None, "" if cancelled else last)
                return
            m = load_arrays(out_path, _config_of(req))
            self._sig_done.emit(rid, m, m.colours(), "")

    def _work_in_thread(self, rid: int, req: BasinRequest, stop: threading.Event) -> None:
        _lower_priority()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_S:
                last[0] = now
                self._sig_progress.emit(rid, done, total)
            # Give the GUI thread the interpreter now and then: a busy worker would otherwise make every
            # Python call of the GUI thread wait for a GIL switch (up to 5 ms each).
            time.sleep(0)

        try:
            m = basin_map(req.objective, req.optimizer, grid=req.grid, epochs=req.epochs,
                          hyperparams=dict(req.hyperparams), tol=req.tol, gradient=req.gradient,
                          progress=progress, should_stop=stop.is_set)
            self._sig_done.emit(rid, None if m.cancelled else m, None if m.cancelled else m.colours(), "")
        except Exception as exc:  # a custom objective may raise anything: report it, never crash
            traceback.print_exc()
            self._sig_done.emit(rid, None, None, f"{type(exc).__name__}: {exc}")

    # --- GUI-thread slots ----------------------------------------------------------------------------
    def _on_progress(self, rid: int, done: int, total: int) -> None:
        if rid == self._current and total:
            self.progress.setValue(int(1000 * done / total))

    def _on_done(self, rid: int, m: BasinMap | None, colours, error: str) -> None:
        if rid != self._current:
            return  # a request the user no longer wants (cancelled or superseded)
        self._current = None
        key = self._pending_key
        self._hide_progress()
        if error:
            self.window.statusBar().showMessage(f"Basin map failed: {error}", 8000)
        self._pending_key = None
        if m is None:
            self.sig_finished.emit(None)
            return
        self._shown_key = key
        # The picture now, its legend LEGEND_DELAY_MS later: two short pauses of the window instead of one
        # long one (each is followed by a repaint of the window; a zero delay would run before other timers
        # and input, in the same pause).
        self.layer.set_map(m, colours, legend=False)
        self.layer.set_visible(self.action.isChecked())
        QTimer.singleShot(LEGEND_DELAY_MS, self, lambda: self._finish(m))

    def _finish(self, m: BasinMap) -> None:
        if self.layer.map is m:
            self.layer.fill_legend()
        self.sig_finished.emit(m)

    def _on_toggled(self, on: bool) -> None:
        self.hover_label.setVisible(on)
        if on:
            self.recompute()
        else:
            self.layer.set_visible(False)

    def _on_objective_changed(self) -> None:
        if self.layer.map is not None:  # a map of another function: never show it over this one
            self.layer.set_map(None)
            self._shown_key = None
        self._on_settings_changed()

    def _on_settings_changed(self) -> None:
        if self.action.isChecked():
            self._timer.start()

    def _on_hover(self, text: str) -> None:
        self.hover_label.setText(text)

    def _on_clicked(self, x: float, y: float) -> None:
        # The window has set the start (and restarted runs still going); with the map shown a click also runs.
        w = self.window
        if self.layer.visible and not w.controller.busy:
            w.run()


def _process_request(req: BasinRequest) -> dict:
    """The request as JSON for the worker process (ValueError: the objective cannot be rebuilt by name)."""
    return {"objective": objective_spec(req.objective), "objective_params": dict(req.objective.params),
            "optimizer": req.optimizer, "hyperparams": dict(req.hyperparams), "epochs": req.epochs, "tol": req.tol,
            "gradient": req.gradient, "grid": req.grid}


def _config_of(req: BasinRequest) -> RunConfig:
    return RunConfig.create(objective=req.objective, optimizer=req.optimizer, starts=[[0.0, 0.0]],
                            epochs=req.epochs, hyperparams=dict(req.hyperparams), gradient=req.gradient, tol=req.tol)


def _stop_on(stop: threading.Event, proc: subprocess.Popen) -> None:
    """Terminate ``proc`` when ``stop`` is set (Cancel, a new request, the window closing)."""
    stop.wait()
    if proc.poll() is None:
        proc.terminate()


def _lower_priority() -> None:
    """Run this thread at a lower OS priority (Linux: a thread's own nice value), so that on a busy machine
    the scheduler wakes the GUI thread first; elsewhere, or when not allowed, nothing changes."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10))
    except (AttributeError, OSError):
        pass


def install(window: QMainWindow) -> BasinController:
    """Add View ▸ Basins of attraction to a MainWindow (the layer, the worker, the status-bar progress)."""
    c = BasinController(window)
    view_menu = next((a.menu() for a in window.menuBar().actions()
                      if a.menu() is not None and a.text().replace("&", "") == "View"), None)
    menu: QMenu = view_menu if view_menu is not None else window.menuBar().addMenu("&View")
    menu.addSeparator()
    menu.addAction(c.action)
    return c
