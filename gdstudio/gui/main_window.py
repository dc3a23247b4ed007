"""The main window: wiring and layout only.

Layout: the side panel in a dock on the left; in the centre a vertical splitter holding a horizontal
splitter (3D surface | contour map) above the loss chart; a status bar.

Extension points (for the formula field, settings, sessions, image export, overlays, run lists):

* :meth:`MainWindow.set_objective` — show any :class:`~gdstudio.core.objectives.Objective` instance
  (e.g. a custom formula) in every view and in the panel;
* :meth:`MainWindow.current_config` — the validated RunConfig the panel describes;
* :meth:`MainWindow.start_runs` — start several runs at once, optionally next to the existing ones
  (Run adds a run: runs stay until removed; :meth:`MainWindow.sweep` and :meth:`MainWindow.race` compare
  learning rates or optimizers, see :mod:`gdstudio.gui.views.compare`); :meth:`MainWindow.remove_runs`;
* :meth:`MainWindow.results` — RunResults of the visible runs (partial for runs still going);
* :attr:`MainWindow.model` (:class:`~gdstudio.gui.run_model.RunModel`), :attr:`MainWindow.controller`,
  :attr:`MainWindow.surface_view`, :attr:`contour_view`, :attr:`loss_chart`, :attr:`side_panel`,
  :attr:`actions` — the parts, with their own signals.
* :attr:`MainWindow.see_why` (:class:`~gdstudio.gui.see_why.SeeWhy`) — the selected step of a run
  (``set_run``, ``select_step``), its overlays (View ▸ See why) and the inspector dock;
* ``sig_run_finished(int)`` and ``sig_all_finished()`` are emitted in the GUI thread.
* :meth:`MainWindow.save_session` / :meth:`open_session` / :meth:`export_image` / :meth:`show_help` /
  :meth:`save_settings` — File and Help menu commands (``gdstudio.gui.session_io``, ``image_export``,
  ``help``, ``persistence``); ``MainWindow(store=QSettings)`` restores and saves the settings.
"""

from __future__ import annotations

import os
import re
from typing import Sequence

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QApplication,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QWidget,
)

from gdstudio.core.export import write_csv
from gdstudio.core.objectives import EXPR_PREFIX, Objective
from gdstudio.core.runs import RunConfig, RunResult, Status
from gdstudio.gui import gc_guard
from gdstudio.gui import actions as actions_mod
from gdstudio.gui import defaults
from gdstudio.gui import see_why as see_why_mod
from gdstudio.gui import settings as settings_mod
from gdstudio.gui.controller import RunController
from gdstudio.gui.run_model import RunModel
from gdstudio.gui.surface_data import SurfaceData
from gdstudio.gui.views.contour import ContourView
from gdstudio.gui.views.loss_chart import LossChart
from gdstudio.gui.views.side_panel import SidePanel
from gdstudio.gui.views.surface3d import Surface3DView

STATUS_TEXT = {
    Status.RUNNING: "running",
    Status.COMPLETED: "completed",
    Status.CONVERGED: "converged",
    Status.DIVERGED: "diverged",
    Status.CANCELLED: "cancelled",
    Status.FAILED: "failed",
}


#: Smallest sizes of the views (pixels): below these a view shows nothing useful.
MIN_VIEW_WIDTH = 220
MIN_SURFACE_WIDTH = 140
#: Below this width the 3D view drops its colour bar (the contour map's shows the same scale).
SURFACE_COLORBAR_WIDTH = 330
MIN_VIEW_HEIGHT = 180
MIN_CHART_HEIGHT = 120
#: The contour map gets at least this fraction of the window's width, whatever docks are open.
MAP_WIDTH_FRACTION = 1 / 3


def default_csv_name(config: RunConfig, *more: RunConfig) -> str:
    """``rosenbrock-momentum.csv``; a custom formula is called ``custom``. Several runs:
    ``booth-gd-3-runs.csv`` (one optimizer), ``booth-gd-momentum-adam.csv`` (a race)."""
    obj = "custom" if config.objective_spec.startswith(EXPR_PREFIX) else config.objective_spec
    opts = list(dict.fromkeys(c.optimizer for c in (config, *more)))
    if not more:
        name = f"{obj}-{config.optimizer}"
    elif len(opts) == 1:
        name = f"{obj}-{opts[0]}-{len(more) + 1}-runs"
    else:
        name = f"{obj}-" + "-".join(opts[:4])
    for c in (config, *more):  # an own rule's file name says "own rule", not the rule's whole text
        if c.optimizer.startswith("rule:"):
            name = name.replace(c.optimizer, "own rule")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".csv"


class MainWindow(QMainWindow):
    """gdstudio's window. See the module docstring for its extension points."""

    sig_run_finished = Signal(int)
    sig_all_finished = Signal()
    sig_objective_changed = Signal()

    def __init__(self, config: RunConfig | None = None, parent: QWidget | None = None, *, store=None):
        """``store`` (a QSettings from :func:`gdstudio.gui.settings.open_store`): restore the last state from
        it (unless ``config`` is given) and save to it on close; without one nothing is read or written."""
        super().__init__(parent)
        gc_guard.install()  # garbage with Qt objects is collected in this thread only (see gc_guard)
        self.setWindowTitle("gdstudio")
        self.setObjectName("gdstudio_main_window")
        self.model = RunModel(self)
        self.controller = RunController(self.model, self)
        self.controller.paint_window = self
        self.objective: Objective | None = None
        self.surface: SurfaceData | None = None
        self._closing = False
        self.settings_store = store
        self.settings = settings_mod.load(store) if store is not None else settings_mod.Settings()
        self._help = None
        self.see_why: see_why_mod.SeeWhy | None = None
        self.basins = None

        # views
        self.surface_view = Surface3DView(self.model)
        self.contour_view = ContourView(self.model)
        self.loss_chart = LossChart(self.model)
        self.side_panel = SidePanel(self.model)
        self.top_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.top_splitter.setObjectName("top_splitter")
        self.top_splitter.addWidget(self.surface_view)
        self.top_splitter.addWidget(self.contour_view)
        self.top_splitter.setChildrenCollapsible(False)
        self.top_splitter.setStretchFactor(0, 1)
        self.top_splitter.setStretchFactor(1, 1)
        self.surface_view.setMinimumSize(MIN_SURFACE_WIDTH, MIN_VIEW_HEIGHT)
        self.contour_view.setMinimumSize(MIN_VIEW_WIDTH, MIN_VIEW_HEIGHT)
        self.loss_chart.setMinimumHeight(MIN_CHART_HEIGHT)
        self.central_splitter = QSplitter(Qt.Orientation.Vertical)
        self.central_splitter.setObjectName("central_splitter")
        self.central_splitter.addWidget(self.top_splitter)
        self.central_splitter.addWidget(self.loss_chart)
        self.central_splitter.setStretchFactor(0, 3)
        self.central_splitter.setStretchFactor(1, 1)
        self.central_splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.central_splitter)
        self.panel_dock = QDockWidget("Settings", self)
        self.panel_dock.setObjectName("panel_dock")
        self.panel_dock.setWidget(self.side_panel)
        self.panel_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                    | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.panel_dock)

        # actions, menus, toolbar, status bar
        self.actions = actions_mod.build(self)
        self.status_label = QLabel()
        f = QFont(self.status_label.font())
        f.setPointSizeF(max(f.pointSizeF(), 10.5))
        self.status_label.setFont(f)
        # A normal (not permanent) widget: showMessage() texts (saved, exported, a refused Run…) replace it
        # while they last. A permanent widget with stretch would fill the bar and hide every message.
        self.statusBar().addWidget(self.status_label, 1)

        try:
            self._wire()
            self.see_why = see_why_mod.install(self)  # timeline, inspector, View ▸ See why
            from gdstudio.gui import basins as basins_mod

            self.basins = basins_mod.install(self)  # View ▸ Basins of attraction (layer of the contour map)
            from gdstudio.gui import model_mode

            self.model_mode = model_mode.install(self)  # Problem ▸ Model: classifiers on real data
            from gdstudio.gui import pending_formula

            self.pending_formula = pending_formula.install(self)  # a formula compiling: the views say so, Run waits
            from gdstudio.gui import model_why

            self.model_why = model_why.install(self)  # See why in Model mode: a training step explained
            restoring = store is not None and config is None
            if not restoring:  # (restore() applies the remembered config: the surface is computed once)
                self.side_panel.apply_config(config or defaults.first_config())  # emits sig_objective_changed
            self.actions.speed.set_speed(defaults.FIRST_SPEED)
            self.side_panel.formula_field.set_recent(self.settings.recent_formulas)
            if restoring:
                from gdstudio.gui import persistence

                persistence.restore(self, self.settings)
                persistence.remember_hyperparams(self)
                # Splitters scale their saved sizes to the width they get at the first layout; apply them
                # again once the window is shown at its restored size so they come back exactly.
                self._splitters_on_show = self.settings.splitter_state
            self.pending_formula.refresh()
            self._update_actions()
            self._update_status()
            self._wire_layout()
        except BaseException:
            self.controller.shutdown()
            if getattr(self, "model_mode", None) is not None:
                self.model_mode.shutdown()
            raise

    def _wire(self) -> None:
        a = self.actions
        on = actions_mod.on_trigger  # commands get no arguments: never Qt's `checked` flag as a path
        on(a.run, self.run)
        a.pause.triggered.connect(self._on_pause_action)  # takes the checked state on purpose
        on(a.step, self.step)
        on(a.reset, self.reset)
        on(a.sweep, self.sweep)
        on(a.race, self.race)
        self.side_panel.runs_list.sig_remove_requested.connect(self.remove_runs)
        self.side_panel.runs_list.sig_clear_requested.connect(self.reset)
        on(a.export_csv, self.export_trajectory)
        on(a.quit, self.close)
        a.log_scale.toggled.connect(self.loss_chart.set_log_scale)
        a.show_3d.toggled.connect(self.surface_view.setVisible)
        a.show_contour.toggled.connect(self.contour_view.setVisible)
        a.show_loss.toggled.connect(self.loss_chart.setVisible)
        on(a.reset_camera, self.surface_view.reset_camera)
        on(a.about, self._about)
        on(a.open_session, self.open_session)
        on(a.save_session, self.save_session)
        for view, act in a.export_image.items():
            on(act, lambda v=view: self.export_image(view=v))
        on(a.help, self.show_help)
        self.controller.sig_run_started.connect(self._on_run_started)
        self.side_panel.formula_field.sig_committed.connect(self.remember_formula)
        a.speed.sig_speed_changed.connect(self.controller.set_speed)

        self.side_panel.sig_objective_changed.connect(self._on_panel_objective)
        self.side_panel.sig_start_changed.connect(self._on_start_changed)
        self.contour_view.sig_point_clicked.connect(self._on_contour_clicked)
        self.surface_view.sig_point_clicked.connect(self.set_start_point)

        c = self.controller
        c.sig_progress.connect(self._update_status)
        c.sig_state_changed.connect(self._update_actions)
        c.sig_state_changed.connect(self._update_status)
        c.sig_run_finished.connect(self.sig_run_finished)
        c.sig_all_finished.connect(self.sig_all_finished)

    # --- extension points ---------------------------------------------------------------------------
    def set_objective(self, objective: Objective) -> None:
        """Show ``objective`` everywhere: surfaces recomputed, camera reset, runs cleared."""
        self.controller.reset()
        self.objective = objective
        self.surface = SurfaceData.from_objective(objective)
        self.surface_view.set_surface(self.surface)
        self.contour_view.set_surface(self.surface)
        if not self.side_panel.shows(objective):
            self.side_panel.set_objective(objective)
        self._show_start_marker()
        self.actions.log_scale.setChecked(defaults.log_loss_axis(objective))
        self.sig_objective_changed.emit()
        self._update_status()

    def current_config(self) -> RunConfig:
        """The validated RunConfig of the panel; raises ValueError (and shows it) when input is invalid."""
        try:
            return self.side_panel.current_config()
        except ValueError as exc:
            self.statusBar().showMessage(f"Invalid setting: {exc}", 8000)
            raise

    def start_runs(self, configs: Sequence[RunConfig], *, replace: bool = True,
                   labels: Sequence[str] | None = None, colors: Sequence | None = None) -> list[int]:
        """Start one run per config on the current objective; returns their ids (see RunController.start)."""
        if self._closing:
            return []
        try:
            ids = self.controller.start(configs, self._objective_for(configs), replace=replace, labels=labels,
                                        colors=colors)
        except ValueError as exc:
            self.statusBar().showMessage(f"Cannot start: {exc}", 8000)
            raise
        self.actions.pause.setChecked(False)
        return ids

    def results(self) -> list[RunResult]:
        """RunResults of the visible runs, in order (partial for runs still going)."""
        return self.controller.results()

    @property
    def closing(self) -> bool:
        """True once the window is closing (nothing new starts; a session still being read is dropped)."""
        return self._closing

    # --- commands ----------------------------------------------------------------------------------------
    def run(self) -> list[int]:
        """Run: resume a paused run, otherwise add a new run with the current settings (runs stay until
        removed: change ε and press Run again to compare)."""
        if self._closing:
            return []
        if self.controller.busy and self.controller.paused:
            self.controller.resume()
            self.actions.pause.setChecked(False)
            return [e.run_id for e in self.model.running()]
        if self.pending_formula.wait(self.run):
            return []
        try:
            cfg = self.current_config()
        except ValueError:
            return []
        try:
            return self.start_runs([cfg], replace=False)
        except ValueError:
            return []

    def sweep(self, lrs: Sequence[float] | None = None, *, replace: bool = True) -> list[int]:
        """Run ▸ Learning-rate sweep: the panel's optimizer at each ε of ``lrs`` from the panel's start.

        With ``lrs`` None, a dialog asks (default 0.1, 0.01, 0.001). Returns the new runs' ids ([] when
        cancelled or invalid; the reason is shown).
        """
        from gdstudio.gui.views.compare import SweepDialog, sweep_configs

        return self._compare("sweep", SweepDialog, sweep_configs, lrs, replace)

    def race(self, entries: Sequence[tuple[str, dict]] | None = None, *, replace: bool = True) -> list[int]:
        """Run ▸ Race optimizers: one run per ``(optimizer, hyperparameters)`` from the panel's start.

        With ``entries`` None, a dialog asks (checkable optimizers, a form of each one's hyperparameters).
        """
        from functools import partial

        from gdstudio.gui.views.compare import RaceDialog, race_configs

        # every own rule of this session is offered, not only the panel's current optimizer
        dialog = partial(RaceDialog, own_rules=self.side_panel.rule_choice.known_rules())
        return self._compare("race", dialog, race_configs, entries, replace)

    def _compare(self, verb: str, dialog, make_configs, choices, replace: bool) -> list[int]:
        """The path a sweep and a race share: the panel's config is the base; with ``choices`` None the
        ``dialog`` (``dialog(base, parent)``, with ``configs()`` and ``replace``) asks, else
        ``make_configs(base, choices)`` builds the runs; they start next to or instead of the others."""
        try:
            base = self.current_config()
        except ValueError:
            return []
        try:
            if choices is None:
                dlg = dialog(base, self)
                if not dlg.exec():
                    return []
                configs, replace = dlg.configs(), dlg.replace
            else:
                configs = make_configs(base, choices)
            return self.start_runs(configs, replace=replace)
        except ValueError as exc:
            self.statusBar().showMessage(f"Cannot {verb}: {exc}", 8000)
            return []

    def remove_runs(self, run_ids: Sequence[int]) -> None:
        """Remove runs (the run list's remove button, Delete key): stopped if going, gone from every view."""
        self.controller.cancel(list(run_ids))
        if not len(self.model):
            self._show_start_marker()
        self._update_status()

    def pause(self) -> None:
        self.controller.pause()
        self.actions.pause.setChecked(True)

    def resume(self) -> None:
        self.controller.resume()
        self.actions.pause.setChecked(False)

    def _on_pause_action(self, checked: bool) -> None:
        if not self.controller.busy:
            self.actions.pause.setChecked(False)
            return
        self.pause() if checked else self.resume()

    def step(self) -> None:
        """One update. With no run going, start one paused at its first update."""
        if self._closing:
            return
        if self.controller.busy:
            self.controller.step(1)
        elif self.pending_formula.wait(self.step, "step"):
            return
        else:
            try:
                cfg = self.current_config()
                self.controller.start([cfg], self._objective_for([cfg]), paused=True, replace=False)
            except ValueError:
                return
            self.controller.step(2)  # row 0 (the start) and the first update
        self.actions.pause.setChecked(True)

    def reset(self) -> None:
        self.controller.reset()
        self.actions.pause.setChecked(False)
        self._show_start_marker()
        self._update_status()

    def set_start_point(self, x: float, y: float) -> None:
        """Set x₀, y₀ (a click on a view). During a run, the runs still going start again from there."""
        self.side_panel.set_start(x, y)
        if self.controller.busy:
            self.run_fresh()
        else:
            self._show_start_marker()
        tail = "" if self.controller.busy else " · Run (F5) starts from here"
        self.statusBar().showMessage(f"start ({x:.4g}, {y:.4g}){tail}", 4000)

    def run_fresh(self) -> list[int]:
        """Start the runs still going again from the panel's start, with the same names and colours
        (finished runs stay). A single run takes the panel's current settings."""
        going = self.model.running()
        try:
            cfg = self.current_config()
            if len(going) <= 1:
                configs = [cfg]
            else:
                configs = [e.config.replace(starts=cfg.starts) for e in going]
            labels = [e.label for e in going] if len(going) > 1 else None
            colors = [e.color for e in going] or None
            self.controller.cancel([e.run_id for e in going])
            return self.start_runs(configs, replace=False, labels=labels, colors=colors)
        except ValueError:
            return []

    def export_trajectory(self, path: str | None = None) -> bool:
        """File ▸ Export trajectory…: the core's CSV of the visible runs. Returns whether it was written."""
        results = self.results()
        if not results:
            QMessageBox.information(self, "Export trajectory", "There is no run to export yet: press Run first.")
            return False
        if path is None:
            name = default_csv_name(*(r.config for r in results))
            path, _ = QFileDialog.getSaveFileName(self, "Export trajectory", name,
                                                  "CSV files (*.csv);;All files (*)")
            if not path:
                return False
            if "." not in os.path.basename(path):  # a typed bare name ("mytrajectory") gets the suffix
                path += ".csv"
        try:
            n = write_csv(path, results)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            QMessageBox.warning(self, "Export failed",
                                f"Could not write {path}:\n{reason}\n\nNo file was changed.")
            return False
        self.statusBar().showMessage(f"Exported {n} rows to {path}", 6000)
        return True

    # --- internals -------------------------------------------------------------------------------------------
    def _objective_for(self, configs: Sequence[RunConfig]) -> Objective | None:
        """The shown objective instance, when every config runs on it (parsed formulas are reused)."""
        obj = self.objective
        if obj is None:
            return None
        same = all(c.objective == obj.spec() and dict(c.objective_params) == dict(obj.params) for c in configs)
        return obj if same else None

    def _on_panel_objective(self) -> None:
        try:
            obj = self.side_panel.current_objective()
        except ValueError as exc:
            self.statusBar().showMessage(f"Invalid objective parameter: {exc}", 8000)
            return
        self.set_objective(obj)

    def _on_contour_clicked(self, x: float, y: float) -> None:
        # A click on a point of a path selects that step ("see why"); anywhere else sets the start.
        if self.see_why is not None and self.see_why.select_path_point(x, y):
            return
        self.set_start_point(x, y)

    def _on_start_changed(self, x: float, y: float) -> None:
        self._show_start_marker()

    def _show_start_marker(self) -> None:
        try:
            x, y = self.side_panel.start()
        except ValueError:
            return
        self.contour_view.set_start(x, y)
        self.surface_view.set_start(x, y)

    def _update_actions(self) -> None:
        busy = self.controller.busy
        paused = self.controller.paused
        self.actions.pause.setEnabled(busy)
        self.actions.pause.setText(actions_mod.RESUME_TEXT if busy and paused else actions_mod.PAUSE_TEXT)
        self.actions.pause.setChecked(busy and paused)
        # One "Resume" in the toolbar: Run keeps its name (pressed while paused it resumes, as its tip says)
        self.actions.run.setToolTip("Start a new run with the current settings (runs stay until removed); "
                                    "while a run is paused, resume it (F5)" if busy and paused else
                                    "Start a new run with the current settings (runs stay until removed) (F5)")

    def status_text(self) -> str:
        """The status bar text: step k / N, loss, ‖∇f‖, and how the latest run is going or ended."""
        e = self.model.latest()
        if e is None:
            obj = self.objective
            pending = self.pending_formula.status_text() if getattr(self, "pending_formula", None) else None
            if pending:
                return pending
            return f"Ready · {obj.title if obj else ''} · press Run (F5) or click a view to choose a start"
        parts = [f"step {max(e.last_k, 0):,} / {e.config.epochs:,}"]
        cur = e.current(0)
        if cur is not None:
            _, loss, gn = cur
            parts += [f"loss {loss:.4g}", f"‖∇f‖ {gn:.3g}"]
        if e.running:
            parts.append("paused" if self.controller.paused else "running")
        else:
            parts.append(e.message or STATUS_TEXT.get(e.status, str(e.status)))
        return "  ·  ".join(parts)

    def _update_status(self, *_args) -> None:
        self.status_label.setText(self.status_text())

    def _about(self) -> None:
        from gdstudio.gui.help import show_about

        show_about(self)

    # --- files, help, settings (gdstudio.gui.session_io, image_export, help, persistence) ----------------
    def save_session(self, path: str | None = None) -> bool:
        """File ▸ Save session…: the objective and every run to a .gdsession file."""
        from gdstudio.gui.session_io import save_session

        return save_session(self, path)

    def open_session(self, path: str | None = None) -> bool:
        """File ▸ Open session…: show a saved session (its runs run again); a bad file changes nothing."""
        from gdstudio.gui.session_io import open_session

        return open_session(self, path)

    def export_image(self, path: str | None = None, view: str = "all") -> bool:
        """File ▸ Export image: ``view`` in "all", "3d", "contour", "loss"; PNG or (2D views) SVG."""
        from gdstudio.gui.image_export import export_image

        return export_image(self, path, view)

    def show_help(self, optimizer: str | None = None):
        """Help ▸ Help (F1): the optimizers' pages (the current one shown) and the formula help."""
        from gdstudio.gui.help import HelpDialog

        if self._help is None:
            self._help = HelpDialog(self)
        mm = getattr(self, "model_mode", None)
        if optimizer is None and mm is not None and mm.active:
            self._help.show_topic("Models and datasets")  # in Model mode, F1 explains the models
        else:
            self._help.show_optimizer(optimizer or self.side_panel.optimizer_name())
        self._help.show()
        self._help.raise_()
        return self._help

    def remember_formula(self, formula: str) -> None:
        """Put ``formula`` first in the recent list (saved with the settings)."""
        if formula.strip():
            self.settings = self.settings.with_recent_formula(formula)
            self.side_panel.formula_field.set_recent(self.settings.recent_formulas)

    def _on_run_started(self, run_id: int) -> None:
        e = self.model.get(run_id)
        if e is not None:  # a rule run (a race, a session opened) is offered in later races
            self.side_panel.rule_choice.remember(e.config.optimizer)
        if e is not None and e.config.objective_spec.startswith(EXPR_PREFIX):
            self.remember_formula(e.config.objective_spec[len(EXPR_PREFIX):])

    def save_settings(self) -> bool:
        """Write what the window shows to its settings store (done on close); False without a store."""
        if self.settings_store is None:
            return False
        from gdstudio.gui import persistence

        self.settings = persistence.capture(self, self.settings)
        return settings_mod.save(self.settings, self.settings_store)

    def event(self, ev: QEvent) -> bool:
        handled = super().event(ev)
        if ev.type() == QEvent.Type.UpdateRequest:
            self.controller.painted()  # the views have drawn the last delivery: the worker may go on
        return handled

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if getattr(self, "_splitters_on_show", None):
            from gdstudio.gui import persistence

            persistence.unpack_splitters(self, self._splitters_on_show)
            self._splitters_on_show = None

    # --- layout: the map keeps its share of the width ---------------------------------------------------------
    def _wire_layout(self) -> None:
        self._balance_timer = QTimer(self)
        self._balance_timer.setSingleShot(True)
        self._balance_timer.setInterval(0)  # once the layout has settled
        self._balance_timer.timeout.connect(lambda: self.balance_views(even=self._balance_even))
        self._balance_even = not self.settings.splitter_state  # first show: share the width, unless restored
        for dock in self.findChildren(QDockWidget):
            dock.visibilityChanged.connect(self._request_balance)
            dock.topLevelChanged.connect(self._request_balance)
        for act in (self.actions.show_3d, self.actions.show_contour, self.actions.show_loss):
            act.toggled.connect(self._request_balance)
        self.sig_objective_changed.connect(self._request_balance)
        self.top_splitter.installEventFilter(self)  # its width changes with the window and with every dock

    def eventFilter(self, obj, ev) -> bool:
        if obj is self.top_splitter and ev.type() == QEvent.Type.Resize and hasattr(self, "_balance_timer"):
            self._request_balance(even=False)
        return super().eventFilter(obj, ev)

    def _request_balance(self, *_args, even: bool = True) -> None:
        self._balance_even = self._balance_even or even
        self._balance_timer.start()

    def _side_docks(self) -> list[QDockWidget]:
        return [d for d in self.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()
                and self.dockWidgetArea(d) in (Qt.DockWidgetArea.LeftDockWidgetArea,
                                               Qt.DockWidgetArea.RightDockWidgetArea)]

    def balance_views(self, even: bool = False) -> None:
        """Give the contour map at least :data:`MAP_WIDTH_FRACTION` of the window's width: the docks (See why
        first) and the 3D view yield. Opening See why, or another objective with it open, used to squeeze the
        map to a sliver while the 3D view kept its width. With ``even`` (a dock opened or closed, a view
        shown or hidden, another objective) the two views share the width equally when there is room;
        a resize only restores the map's share, keeping where the user put the splitter otherwise.

        Sizes are set, not minimums: a minimum that follows the window's width would keep the user from
        making the window smaller.
        """
        if self._closing or not self.isVisible():
            return
        self._balance_even = False
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # the docks' new widths first
        if not (self.contour_view.isVisible() and self.surface_view.isVisible()):
            return
        want = int(self.width() * MAP_WIDTH_FRACTION)
        handle = self.top_splitter.handleWidth()
        need = want + max(self.surface_view.minimumWidth(), MIN_VIEW_WIDTH) + handle
        short = need - self.top_splitter.width()
        if short > 0:  # the docks give up width, See why (right) first, down to their minimum
            docks = sorted(self._side_docks(), key=lambda d: d is self.panel_dock)
            for d in docks:
                if short <= 0:
                    break
                spare = d.width() - max(d.minimumSizeHint().width(), d.minimumWidth())
                give = min(spare, short)
                if give > 0:
                    self.resizeDocks([d], [d.width() - give], Qt.Orientation.Horizontal)
                    short -= give
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        sizes = self.top_splitter.sizes()
        total = sum(sizes)
        if len(sizes) == 2 and total > 0 and (sizes[1] < want or even):
            surface = max(min(total - want, total // 2 if even else total), self.surface_view.minimumWidth())
            self.top_splitter.setSizes([surface, total - surface])
            sizes = [surface, total - surface]
        # a narrow 3D view keeps its picture, not its colour bar (78 px; the map has the same one)
        self.surface_view.colorbar.setVisible(sizes[0] >= SURFACE_COLORBAR_WIDTH)

    def sizeHint(self) -> QSize:
        return QSize(1440, 900)

    def closeEvent(self, event: QCloseEvent) -> None:
        # Stop the worker before the widgets go: ask the loop to stop, quit(), wait() (docs/platform-notes.md, fact 4).
        if not self._closing:
            try:
                self.save_settings()
            except Exception:  # noqa: BLE001 - never keep the window from closing; the error hook logs it
                import logging

                logging.getLogger(__name__).exception("settings not saved")
        self._closing = True
        self.side_panel.formula_field.shutdown()
        if getattr(self, "basins", None) is not None:
            self.basins.shutdown()
        self.controller.shutdown()
        if getattr(self, "model_mode", None) is not None:
            self.model_mode.shutdown()
        super().closeEvent(event)

