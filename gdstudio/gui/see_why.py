""""See why": select a step of a run and show the calculus behind it (wiring only).

:class:`SeeWhy` keeps the selection (run, start, step k), asks :mod:`gdstudio.core.analysis` for
everything about that step once per selection change (never per frame) and hands the result, a
:class:`StepPicture`, to the overlays on both views (:mod:`gdstudio.gui.views.overlays`) and to the
inspector dock (:mod:`gdstudio.gui.views.inspector`). :func:`install` adds it to a MainWindow: the
"See why" dock (timeline + inspector), the View ▸ See why toggles (all off by default) and
path-point clicks on the contour map.

Replays. A step is explained by replaying its run with the core (:class:`~gdstudio.core.analysis.RunExplainer`,
kept per run and start). Asking for a far step replays in chunks of :data:`REPLAY_CHUNK` steps from
a zero-delay timer, so the window stays responsive; scrubbing backwards costs nothing. A run still
going can be inspected up to the last step the window received.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QStyle, QToolBar, QVBoxLayout, QWidget

from gdstudio.core import analysis
from gdstudio.core.objectives import CriticalPoint
from gdstudio.gui.step_picture import (  # noqa: F401 (Arrow, StepPicture, make_arrows: part of this module's interface)
    Arrow,
    StepPicture,
    build_picture,
    make_arrows,
)
from gdstudio.gui.views.inspector import Inspector
from gdstudio.gui.views.overlays import LAYERS, ContourOverlays, SurfaceOverlays
from gdstudio.gui.views.timeline import Timeline

#: Initial width of the See why dock (pixels); the user resizes it, the layout is remembered.
DOCK_WIDTH = 400
#: Steps replayed per timer tick when a far step is asked for.
REPLAY_CHUNK = 4000
#: While scrubbing, at most one picture per this many milliseconds (each takes about 0.1 s to compute and draw).
THROTTLE_MS = 120
#: A click within this many pixels of a path point selects that step.
PICK_PIXELS = 9.0


class SeeWhy(QObject):
    """The selection and its pictures, for one MainWindow (see the module docstring)."""

    sig_picture = Signal(object)  # StepPicture or None

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.model = window.model
        self.timeline = Timeline()
        self.inspector = Inspector()
        self.dock: QDockWidget | None = None  # set by install()
        self.contour = ContourOverlays(window.contour_view.plot)
        self.surface = SurfaceOverlays(window.surface_view.view, lambda: window.surface)
        self.run_id: int | None = None
        self.start = 0
        self.k: int | None = None
        self.picture: StepPicture | None = None
        self.angle = 0.0
        self._explainers: dict[tuple[int, int], analysis.RunExplainer] = {}
        self._critical: dict[int, tuple[CriticalPoint, ...]] = {}
        # Throttle: a selection is computed at once, then at most once per THROTTLE_MS while the user scrubs.
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(THROTTLE_MS)
        self._throttle.timeout.connect(self._on_throttle)
        self._pending = False
        self._replay = QTimer(self)
        self._replay.setInterval(0)
        self._replay.timeout.connect(self._replay_tick)
        self.layer_actions: dict[str, QAction] = {}
        for name, (text, tip) in LAYERS.items():
            a = QAction(text, self)
            a.setCheckable(True)
            a.setChecked(False)
            a.setToolTip(tip)
            a.setStatusTip(tip)
            a.toggled.connect(lambda on, name=name: self.set_layer(name, on))
            self.layer_actions[name] = a
        self.timeline.sig_step_selected.connect(self._on_timeline)
        self.timeline.sig_cleared.connect(self.clear_selection)
        self.inspector.sig_angle_changed.connect(self.set_angle)
        m = self.model
        m.sig_added.connect(self._on_added)
        m.sig_removed.connect(self._on_removed)
        m.sig_cleared.connect(self._on_cleared)
        m.sig_data.connect(self._on_data)
        window.sig_objective_changed.connect(self._on_objective)

    # --- selection -----------------------------------------------------------------------------------
    def set_run(self, run_id: int | None) -> None:
        """Which run the timeline scrubs (the latest one by default)."""
        if run_id == self.run_id:
            return
        self.clear_selection()
        self.run_id = run_id
        e = self.model.get(run_id) if run_id is not None else None
        self.timeline.set_starts(e.n_starts if e is not None else 1)
        self.timeline.set_range(e.last_k if e is not None else -1)

    def select_step(self, k: int, start: int = 0, run_id: int | None = None) -> bool:
        """Select step ``k`` of ``start`` of a run (default: the timeline's run). Returns whether it exists."""
        if run_id is not None and run_id != self.run_id:
            self.set_run(run_id)
        e = self.model.get(self.run_id) if self.run_id is not None else None
        if e is None or not 0 <= k <= e.last_k or not 0 <= start < e.n_starts:
            return False
        if self.dock is not None and self.dock.isHidden():
            self.dock.show()  # a selected step is explained in the panel: bring it up
        self.timeline.set_step(k, start)
        self._select(start, k)
        return True

    def select_first_step_if_none(self, visible: bool = True) -> None:
        """When the panel opens with nothing selected, show step 0 of the timeline's run: a new user who
        opens See why meets an explained step (its gradient, Hessian, …) at once, not an empty panel."""
        if visible and self.k is None and self.run_id is not None:
            self.select_step(0)

    def clear_selection(self) -> None:
        self._replay.stop()
        self._pending = False
        self.k = None
        self.picture = None
        self.contour.show_step(None)
        self.surface.show_step(None)
        self.window.contour_view.set_pinned(None)
        self.inspector.show_message("Select a step: drag the timeline, or click a point of a path on the contour map.")
        self.sig_picture.emit(None)

    def select_path_point(self, x: float, y: float, pixels: float = PICK_PIXELS) -> bool:
        """Select the step of the path point nearest (x, y) on the contour map, if one is within ``pixels``."""
        pw, ph = self.window.contour_view.plot.getViewBox().viewPixelSize()
        if not (pw > 0 and ph > 0):
            return False
        best = None
        runs = [e for e in self.model.visible() if len(e)]
        runs.sort(key=lambda e: e.run_id != self.run_id)  # the timeline's run wins ties
        for e in runs:
            pts = e.x[..., :2]
            d = np.hypot((pts[..., 0] - x) / pw, (pts[..., 1] - y) / ph)
            if not np.isfinite(d).any():
                continue
            i, j = np.unravel_index(int(np.nanargmin(d)), d.shape)
            if best is None or d[i, j] < best[0] - 1e-9:
                best = (float(d[i, j]), e.run_id, int(e.steps[i]), int(j))
        if best is None or best[0] > pixels:
            return False
        _, rid, k, start = best
        return self.select_step(k, start, rid)

    def _on_timeline(self, start: int, k: int) -> None:
        self._select(start, k, throttled=self.timeline.slider.isSliderDown())

    def _select(self, start: int, k: int, throttled: bool = False) -> None:
        self.start, self.k = start, k
        self._replay.stop()
        ex = self._explainer()
        if ex is None:
            self.clear_selection()
            return
        if k + 1 > ex.recorded + REPLAY_CHUNK:
            self.inspector.show_message(f"Replaying the run to step {k:,}…")
            self._replay.start()
        elif throttled and self._throttle.isActive():
            self._pending = True  # dragging the slider: the latest position is drawn when the timer fires
        else:
            self._pending = False
            self._compute()
            if throttled:
                self._throttle.start()

    def _on_throttle(self) -> None:
        if self._pending:
            self._pending = False
            if self.k is not None and not self._replay.isActive():
                self._compute()
                self._throttle.start()

    def _explainer(self) -> analysis.RunExplainer | None:
        e = self.model.get(self.run_id) if self.run_id is not None else None
        if e is None:
            return None
        key = (e.run_id, self.start)
        ex = self._explainers.get(key)
        if ex is None:
            ex = self._explainers[key] = analysis.RunExplainer(e.config, self.start, e.objective)
        return ex

    def _replay_tick(self) -> None:
        ex = self._explainer()
        if ex is None or self.k is None:
            self._replay.stop()
            return
        target = min(self.k, ex.recorded + REPLAY_CHUNK)
        try:
            ex.explain(target)
        except ValueError:
            target = self.k
        if target >= self.k:
            self._replay.stop()
            self._compute()
        else:
            self.inspector.show_message(f"Replaying the run to step {self.k:,}… {100 * target // self.k} %")

    def _compute(self) -> None:
        e = self.model.get(self.run_id) if self.run_id is not None else None
        ex = self._explainer()
        if e is None or ex is None or self.k is None or self.window.surface is None:
            self.clear_selection()
            return
        try:
            step = ex.explain(self.k)
            with np.errstate(all="ignore"):  # a diverged point may overflow: the readouts show inf/nan
                pic = build_picture(e.objective, step, self.window.surface.domain, run_id=e.run_id,
                                    start=self.start, run_label=e.label, angle=self.angle)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            self.picture = None
            self.contour.show_step(None)
            self.surface.show_step(None)
            self.inspector.show_message(f"Step {self.k} cannot be explained: {exc}")
            return
        self.picture = pic
        # the contour map draws the selected step's point and its neighbours exactly (not decimated away)
        self.window.contour_view.set_pinned(e.run_id, self.start, self.k)
        self.contour.show_step(pic)
        self.surface.show_step(pic)
        self.inspector.show_picture(pic)
        self.sig_picture.emit(pic)

    def set_angle(self, degrees: float) -> None:
        """Direction of the linear-approximation tab: degrees from −∇f."""
        self.angle = float(degrees)
        if self.picture is not None:
            self._compute()

    # --- layers --------------------------------------------------------------------------------------
    def set_layer(self, name: str, on: bool) -> None:
        a = self.layer_actions[name]
        if a.isChecked() != on:
            a.setChecked(on)  # comes back here through toggled
            return
        if name == "critical" and on:
            pts = self.critical_points()
            self.contour.show_critical(pts)
            self.surface.show_critical(pts)
        self.contour.set_layer(name, on)
        self.surface.set_layer(name, on)

    def critical_points(self) -> tuple[CriticalPoint, ...]:
        """The shown objective's critical points (computed once per objective)."""
        obj = self.window.objective
        if obj is None:
            return ()
        pts = self._critical.get(id(obj))
        if pts is None:
            try:
                pts = analysis.critical_points(obj)
            except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
                self.window.statusBar().showMessage(f"Critical points not found: {exc}", 6000)
                pts = ()
            self._critical = {id(obj): pts}
        return pts

    # --- model events -----------------------------------------------------------------------------------
    def _on_added(self, run_id: int) -> None:
        self.set_run(run_id)

    def _on_removed(self, run_id: int) -> None:
        for key in [k for k in self._explainers if k[0] == run_id]:
            del self._explainers[key]
        if run_id == self.run_id:
            latest = self.model.latest()
            self._forget_run()
            self.set_run(latest.run_id if latest is not None else None)

    def _on_cleared(self) -> None:
        self._explainers.clear()
        self._forget_run()

    def _forget_run(self) -> None:
        self.clear_selection()
        self.run_id = None
        self.timeline.set_starts(1)
        self.timeline.set_range(-1)

    def _on_data(self, run_ids: list) -> None:
        if self.run_id in run_ids:
            e = self.model.get(self.run_id)
            if e is not None:
                self.timeline.set_range(e.last_k)
                if self.k is not None:
                    self.timeline.set_step(self.k, self.start)

    def _on_objective(self) -> None:
        self.clear_selection()
        if self.layer_actions["critical"].isChecked():
            pts = self.critical_points()
            self.contour.show_critical(pts)
            self.surface.show_critical(pts)
        else:
            self.contour.show_critical(())
            self.surface.show_critical(())


def install(window: QMainWindow) -> SeeWhy:
    """Add "see why" to a MainWindow: the dock (timeline + inspector), View ▸ See why, path clicks."""
    sw = SeeWhy(window)
    body = QWidget()
    lay = QVBoxLayout(body)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(2)
    lay.addWidget(sw.timeline)
    lay.addWidget(sw.inspector, 1)
    dock = QDockWidget("See why", window)
    dock.setObjectName("see_why_dock")
    dock.setWidget(body)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    sw.dock = dock
    window.resizeDocks([dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
    # Hidden at first launch so the surface and the map get the space; a click on a path point, the
    # toolbar's "See why" or View ▸ See why opens it, and the remembered layout restores it.
    dock.hide()
    dock.visibilityChanged.connect(sw.select_first_step_if_none)
    view_menu = next((a.menu() for a in window.menuBar().actions()
                      if a.menu() is not None and a.text().replace("&", "") == "View"), None)
    menu = QMenu("See &why", window)
    for a in sw.layer_actions.values():
        menu.addAction(a)
    menu.addSeparator()
    toggle = dock.toggleViewAction()
    toggle.setText("See why &panel (timeline, inspector)")
    menu.addAction(toggle)
    if view_menu is not None:
        view_menu.addSeparator()
        view_menu.addMenu(menu)
    else:
        window.menuBar().addMenu(menu)
    sw.menu = menu
    toolbar = window.findChild(QToolBar, "run_toolbar")
    if toolbar is not None:
        toggle.setIcon(window.style().standardIcon(QStyle.StandardPixmap.SP_FileDialogInfoView))
        toggle.setIconText("See why")
        toggle.setToolTip("Show the See why panel: step through a run and see its gradient, Hessian, "
                          "finite differences and local models")
        toolbar.addAction(toggle)
    from gdstudio.gui.views import graph_view  # the inspector's Computation graph tab (autodiff at the step)

    graph_view.install(sw)
    return sw
