"""The 2D view: heat map with contour lines, every visible run's path, start ○, current ●, minima ★.

A click (press and release without a drag) on the map emits ``sig_point_clicked(x, y)`` in the
objective's coordinates; dragging pans and the wheel zooms, as in any pyqtgraph plot.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from gdstudio.core.decimate import PathDecimator, with_gaps
from gdstudio.gui import theme
from gdstudio.gui.isolines import isoline_paths
from gdstudio.gui.run_model import RunEntry, RunModel
from gdstudio.gui.views.run_layers import RunLayers
from gdstudio.gui.views.colorbar import install_height_ticks
from gdstudio.gui.surface_data import SurfaceData

#: Pixels above the map for the top tick label (the map touches the top of its view box).
TOP_MARGIN = 9
#: Show a dot on every step while the path has at most this many points (all of them are drawn then).
MAX_SYMBOLS = 1500
#: After a zoom, pan or resize, the paths are decimated again for the new view this many ms after the last change.
REFINE_MS = 120


def decimated_path(entry: RunEntry, decimators: list[PathDecimator], pinned: dict[int, int] | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """All starts' decimated paths of a run as one polyline, separated by NaN (draw with connect='finite').

    ``decimators[i]`` (one per start) is brought up to date with the new rows only; a path of at most
    :data:`MAX_SYMBOLS` rows is drawn whole (a dot on every step). ``pinned`` {start: k}:
    rows k − 1, k, k + 1 are drawn too, so a selected step's point lies on the drawn path exactly.
    """
    x = entry.x
    if not len(x):
        return np.empty(0), np.empty(0)
    xs, ys = [], []
    for i, dec in enumerate(decimators):
        col = x[:, i, :2]
        dec.extend(col)
        if len(x) <= MAX_SYMBOLS:
            idx, gaps = np.arange(len(x)), np.zeros(len(x), dtype=bool)
        else:
            idx, gaps = dec.indices(), dec.gaps()
        k = (pinned or {}).get(i)
        if k is not None and 0 <= k < len(x):
            extra = np.arange(max(k - 1, 0), min(k + 2, len(x)))
            pos = np.searchsorted(idx, extra)
            new = (pos >= len(idx)) | (idx[np.minimum(pos, len(idx) - 1)] != extra)
            idx = np.insert(idx, pos[new], extra[new])
            gaps = np.insert(gaps, pos[new], False)
        pts = col[idx]
        px, py = with_gaps(idx, gaps, pts[:, 0], pts[:, 1])
        if i:
            xs.append([np.nan])
            ys.append([np.nan])
        xs.append(px)
        ys.append(py)
    return np.concatenate(xs), np.concatenate(ys)


def leave_map(xs: np.ndarray, ys: np.ndarray, domain, margin: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Drawing only: a path that leaves the map (a diverging run) is drawn to its first point outside, a line
    leaving the picture, and not beyond, so its far-off zig-zags do not paint over the map."""
    if not len(xs):
        return xs, ys
    (x0, x1), (y0, y1) = domain[:2]
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    with np.errstate(invalid="ignore"):
        out = (xs < x0 - mx) | (xs > x1 + mx) | (ys < y0 - my) | (ys > y1 + my)
    drop = out.copy()
    drop[1:] &= out[:-1]  # keep the step that leaves
    drop[0] = False
    if not drop.any():
        return xs, ys
    return np.where(drop, np.nan, xs), np.where(drop, np.nan, ys)


class _RunItems:
    """The pyqtgraph items of one run (kept for the run's life; updated with setData)."""

    def __init__(self, plot: pg.PlotItem, color: QColor):
        self.plot = plot
        halo = QColor(0, 0, 0, 150)
        self.halo = pg.PlotDataItem(pen=pg.mkPen(halo, width=5), connect="finite")
        self.path = pg.PlotDataItem(pen=pg.mkPen(color, width=2.5), connect="finite",
                                    symbol="o", symbolSize=4, symbolPen=None, symbolBrush=color)
        self.start = pg.ScatterPlotItem(symbol="o", size=15, pen=pg.mkPen(color, width=3),
                                        brush=pg.mkBrush(0, 0, 0, 90))
        self.now = pg.ScatterPlotItem(symbol="o", size=13, pen=pg.mkPen("k", width=1.5), brush=pg.mkBrush(color))
        self.items = (self.halo, self.path, self.start, self.now)
        self.decimators: list[PathDecimator] = []
        for z, it in zip((10, 11, 12, 13), self.items):
            it.setZValue(z)
            plot.addItem(it)

    def remove(self) -> None:
        for it in self.items:
            self.plot.removeItem(it)

    def set_visible(self, v: bool) -> None:
        for it in self.items:
            it.setVisible(v)


class ContourView(RunLayers, QWidget):
    """Heat map + isocurves of the current objective, with the runs of a :class:`RunModel` on top."""

    sig_point_clicked = Signal(float, float)

    def __init__(self, model: RunModel | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot_widget = pg.PlotWidget()
        theme.style_plot(self.plot_widget)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setAspectLocked(False)
        # The map fills its view box exactly (padding 0): room above it for half of the top tick's label,
        # which was cut on screen and in exported images.
        self.plot.layout.setContentsMargins(0, TOP_MARGIN, 0, 0)
        self.plot.setLabel("bottom", "x")
        self.plot.setLabel("left", "y")
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(theme.height_colormap())
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(colorMap=theme.height_colormap(), interactive=False, width=18,
                                        colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self._style_colorbar()
        self.isocurves: list[pg.PlotCurveItem] = []  # the contour lines, all levels in one item
        self.levels = np.empty(0)  # their levels (display values c)
        self.minima = pg.ScatterPlotItem(symbol="star", size=20, pen=pg.mkPen("k", width=1),
                                         brush=pg.mkBrush("#ffe14d"))
        self.minima.setZValue(20)
        self.plot.addItem(self.minima)
        self.start_marker = pg.ScatterPlotItem(symbol="o", size=15, pen=pg.mkPen("w", width=2.5),
                                               brush=pg.mkBrush(0, 0, 0, 90))
        self.start_marker.setZValue(19)
        self.plot.addItem(self.start_marker)
        self.surface: SurfaceData | None = None
        self._runs: dict[int, _RunItems] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot_widget)
        self.plot_widget.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.setToolTip("Loss contours. Click to set the start there (runs going start again from it); with See why "
                        "open, click a path to inspect that step; drag to pan, wheel to zoom.")
        self._pinned: dict[int, dict[int, int]] = {}  # run id -> {start: k} drawn exactly (See why)
        self._view_key = None
        self._refine = QTimer(self)
        self._refine.setSingleShot(True)
        self._refine.setInterval(REFINE_MS)
        self._refine.timeout.connect(self._on_refine)
        vb = self.plot.getViewBox()
        vb.sigRangeChanged.connect(lambda *_: self._refine.start())
        vb.sigResized.connect(lambda *_: self._refine.start())
        self.model: RunModel | None = None
        if model is not None:
            self.set_model(model)

    # --- decimation for the view ------------------------------------------------------------------------
    def view_params(self) -> tuple[tuple[float, float], tuple[float, float, float, float], int]:
        """(pixel size (sx, sy) in data units, the visible rectangle with a margin of a quarter view on each
        side, budget of buckets: twice the larger side in pixels) for :class:`PathDecimator`."""
        vb = self.plot.getViewBox()
        sx, sy = vb.viewPixelSize()
        (x0, x1), (y0, y1) = vb.viewRange()
        mx, my = 0.25 * (x1 - x0), 0.25 * (y1 - y0)
        side = max(vb.width(), vb.height(), 100.0)
        return (sx, sy), (x0 - mx, x1 + mx, y0 - my, y1 + my), int(2 * side)

    def _decimators(self, items: "_RunItems", e: RunEntry) -> list[PathDecimator]:
        if len(items.decimators) != e.n_starts or self._view_key is None:
            scale, rect, budget = self.view_params()
            self._view_key = (scale, rect, budget)
            items.decimators = [PathDecimator(scale, rect, budget) for _ in range(e.n_starts)]
        return items.decimators

    def _on_refine(self) -> None:
        """The view changed (zoom, pan, resize): decimate every path again for it (one pass over each)."""
        key = self.view_params()
        if key == self._view_key:
            return
        self._view_key = key
        scale, rect, budget = key
        for rid, items in self._runs.items():
            for d in items.decimators:
                d.budget = budget
                d.reset(scale, rect)
            e = self.model.get(rid) if self.model is not None else None
            if e is not None:
                self._redraw(e)

    def set_pinned(self, run_id: int | None, start: int = 0, k: int | None = None) -> None:
        """Draw step ``k`` of a run's ``start`` (and its neighbours) exactly: the selected step of See why
        lies on the drawn path. ``run_id=None`` or ``k=None``: nothing pinned."""
        old = list(self._pinned)
        self._pinned = {} if run_id is None or k is None else {run_id: {start: int(k)}}
        for rid in set(old) | set(self._pinned):
            e = self.model.get(rid) if self.model is not None else None
            if e is not None:
                self._redraw(e)

    def drawn_path(self, run_id: int) -> tuple[np.ndarray, np.ndarray]:
        """The polyline the path item of a run draws (x, y; NaN between pieces): for tests and overlays."""
        items = self._runs.get(run_id)
        if items is None:
            return np.empty(0), np.empty(0)
        xs, ys = items.path.getData()
        return (np.empty(0), np.empty(0)) if xs is None else (xs, ys)

    def _style_colorbar(self) -> None:
        _, fg = theme.chart_colors(self)
        self.colorbar.axis.setPen(fg)
        self.colorbar.axis.setTextPen(fg)
        install_height_ticks(self.colorbar.axis, lambda: self.surface)

    # --- per-run items (RunLayers does the model bookkeeping) -------------------------------------------
    def _new_layer(self, e: RunEntry) -> "_RunItems":
        self.start_marker.setData([], [])
        return _RunItems(self.plot, e.color)

    def _redraw(self, e: RunEntry) -> None:
        items = self._runs.get(e.run_id)
        if items is None:
            return
        xs, ys = decimated_path(e, self._decimators(items, e), self._pinned.get(e.run_id))
        if self.surface is not None:
            xs, ys = leave_map(xs, ys, self.surface.domain)
        if not np.isfinite(xs).any():  # nothing drawable: an all-NaN item warns "All-NaN slice encountered"
            xs = ys = np.empty(0)
        items.halo.setData(xs, ys)
        if len(e) <= MAX_SYMBOLS:
            items.path.setSymbol("o")
        else:
            items.path.setSymbol(None)
        items.path.setData(xs, ys)
        if len(e):
            starts = np.asarray(e.config.starts, dtype=float)[:, :2]  # row 0 is NaN where f is undefined
            items.start.setData(starts[:, 0], starts[:, 1])
            cur = [e.current(i) for i in range(e.n_starts)]
            pts = np.array([c[0] for c in cur if c is not None]).reshape(-1, 2)
            items.now.setData(pts[:, 0], pts[:, 1])
        else:
            s = np.asarray(e.config.starts)
            items.start.setData(s[:, 0], s[:, 1])
            items.now.setData([], [])

    # --- the objective -------------------------------------------------------------------------------
    def set_surface(self, surface: SurfaceData) -> None:
        """Show a new objective's sampled surface (heat map, log or linear contours, minima)."""
        self.surface = surface
        (x0, x1), (y0, y1) = surface.domain
        c = surface.c
        self.image.setImage(c, autoLevels=False, levels=(surface.cmin, surface.cmax))
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.colorbar.setLevels((surface.cmin, surface.cmax))
        self.colorbar.axis.setLabel("f (log scale)" if surface.log else "f")
        for iso in self.isocurves:
            iso.setParentItem(None)
            if iso.scene() is not None:
                iso.scene().removeItem(iso)
        self.isocurves = []
        # Contour lines cannot cross holes: fill NaN with a value above every level (no line is drawn there).
        filled = np.where(np.isfinite(c), c, surface.cmax + 1.0)
        self.levels = np.asarray(surface.levels(), dtype=float)  # the display values the lines are drawn at
        xs, ys = isoline_paths(filled, self.levels)  # every level at once (gdstudio.gui.isolines)
        iso = pg.PlotCurveItem(xs, ys, connect="finite", pen=pg.mkPen(QColor(255, 255, 255, 120), width=1))
        iso.setParentItem(self.image)  # in image pixels: the image's transform maps them to the objective's
        iso.setZValue(5)
        # The map does not change while a path grows: paint it from a cache, not from its polygons.
        iso.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.isocurves.append(iso)
        mins = surface.objective.minima()
        if mins:
            self.minima.setData([m.x[0] for m in mins], [m.x[1] for m in mins],
                                data=[m.label or m.kind for m in mins])
        else:
            self.minima.setData([], [])
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        for rid in list(self._runs):
            e = self.model.get(rid) if self.model is not None else None
            if e is not None:
                self._redraw(e)

    def set_start(self, x: float, y: float) -> None:
        """Show where the next run will start (while no run is shown)."""
        if not self._runs:
            self.start_marker.setData([x], [y])
        else:
            self.start_marker.setData([], [])

    # --- clicks ----------------------------------------------------------------------------------------
    def _on_scene_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        ev.accept()
        self.sig_point_clicked.emit(float(p.x()), float(p.y()))

    def scene_position(self, x: float, y: float):
        """Widget (viewport) position of the point (x, y): for tests and overlays."""
        vb = self.plot.getViewBox()
        sp = vb.mapViewToScene(pg.Point(x, y))
        return self.plot_widget.mapFromScene(sp)


if __name__ == "__main__":  # preview: python -m gdstudio.gui.views.contour
    import sys

    from PySide6.QtWidgets import QApplication

    from gdstudio.core.objectives import get_objective, objective_names

    app = QApplication(sys.argv)
    name = sys.argv[1] if len(sys.argv) > 1 else ("rosenbrock" if "rosenbrock" in objective_names() else "booth")
    view = ContourView(RunModel())
    view.set_surface(SurfaceData.from_objective(get_objective(name)))
    view.sig_point_clicked.connect(lambda x, y: print(f"clicked ({x:.4g}, {y:.4g})"))
    view.resize(700, 600)
    view.show()
    sys.exit(app.exec())
