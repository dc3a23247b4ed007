"""Views of the model mode: the landscape slice in 3D and as a contour map with the projected paths, the
training curves (loss and accuracy against epochs, the 1-D slice) and a linear model's class templates.

Each view draws what it is given (arrays from the core); none computes anything beyond scaling for display.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
import pyqtgraph.opengl as gl
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTabWidget, QVBoxLayout, QWidget

from gdstudio.gui import theme
from gdstudio.gui.isolines import isoline_paths
from gdstudio.gui.picking import bilinear, project
from gdstudio.gui.surface_data import Z_SPAN, SurfaceData
from gdstudio.gui.views.colorbar import HeightColorBar, install_height_ticks
from gdstudio.gui.views.contour import TOP_MARGIN, leave_map
from gdstudio.gui.views.surface3d import SOFT_SHADER, PickingGLView, _xray, floor_grid, reset_camera
from gdstudio.gui.views.ticks import install_log_ticks

#: Below this width (pixels) the 3D view leaves out its colour bar: the contour map beside it shows the same
#: colours with theirs, and the sheet gets the room (at 1000 × 700 the bar took a quarter of the view).
NARROW_3D = 360
#: How far above the surface paths are drawn (world units), as in the function mode's 3D view.
PATH_LIFT = 0.015 * Z_SPAN


def slice_legend(plot: pg.PlotWidget, offset=(-10, 10)) -> pg.LegendItem:
    """A legend in the chart's text colour on a panel of its background colour: readable on light and dark
    palettes, and over the heat map (pyqtgraph's default text is light grey on nothing)."""
    bg, fg = theme.chart_colors(plot)
    panel = QColor(bg)
    panel.setAlpha(215)
    edge = QColor(fg)
    edge.setAlpha(70)
    return plot.addLegend(offset=offset, labelTextColor=fg, brush=pg.mkBrush(panel), pen=pg.mkPen(edge))


def _inside(data: SurfaceData, ab: np.ndarray) -> np.ndarray:
    (a0, a1), (b0, b1) = data.domain
    with np.errstate(invalid="ignore"):
        return (ab[:, 0] >= a0) & (ab[:, 0] <= a1) & (ab[:, 1] >= b0) & (ab[:, 1] <= b1)


class SliceSurfaceView(QWidget):
    """The 2-D slice as a surface coloured by height, the projected paths on it, a marker at the centre θ_c.

    Drawn exactly as the function mode draws a function (:mod:`gdstudio.gui.views.surface3d`): the slice in the
    normalised box ([−1, 1]² × [0, Z_SPAN], :class:`~gdstudio.gui.surface_data.SurfaceData`), on the floor
    grid, in the same colour map and lighting, with the same camera and a colour bar of the loss. Each path is
    drawn on the sheet (depth-tested) and faintly through it where the sheet hides it, a white dot at its
    start and a dot of its colour at its end."""

    def __init__(self, parent=None):
        super().__init__(parent)
        bg, fg = theme.chart_colors(self)
        self.caption = QLabel("Train a model: its loss landscape appears here")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("slice_caption")
        self.view = PickingGLView()
        self.view.setBackgroundColor(bg)
        self.view.setToolTip("The loss on the slice's plane, coloured by height, with the training paths "
                             "projected onto it. Drag to rotate, wheel to zoom.")
        self.grid = floor_grid()
        # a loss slice often has a long flat valley at its lowest height: the floor a little below it, or the
        # grid shows through the valley floor (both at the same depth)
        self.grid.translate(0, 0, -0.03 * Z_SPAN)
        self.view.addItem(self.grid)
        self.colorbar = HeightColorBar()
        self.colorbar.setToolTip("Colour and height of the slice: the loss (log-compressed when it spans decades)")
        self.colorbar.hide()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.view, 1)
        row.addWidget(self.colorbar)
        self.data: SurfaceData | None = None  # the slice shown, on the function mode's display scale
        self.surface = None  # its GLSurfacePlotItem
        self.paths: list = []  # one line per path (drawn on the sheet)
        self._path_extras: list = []  # their see-through ghosts and start/end markers
        self.centre = None
        reset_camera(self.view)

    def set_slice(self, a, b, loss, paths=(), caption: str = "") -> None:
        """``paths``: list of (ab (K, 2), QColor). A 1-row ``b`` (no 2-D slice) clears the view."""
        for item in ([self.surface] if self.surface else []) + ([self.centre] if self.centre else []):
            self.view.removeItem(item)
        self.surface, self.centre, self.data = None, None, None
        self.caption.setText(caption)
        if len(b) == 1:
            self.set_paths(())
            self.colorbar.hide()
            return
        data = SurfaceData.from_grid(a, b, loss)
        self.data = data
        X, Y, Z = data.world_grid()
        finite = np.isfinite(Z)
        colors = theme.height_colormap().map(np.clip(np.where(finite, Z / Z_SPAN, 0.0), 0, 1), mode="float")
        colors = np.asarray(colors, dtype=np.float32).reshape(Z.shape + (4,))
        colors[~finite, 3] = 0.0
        self.surface = gl.GLSurfacePlotItem(x=X, y=Y, z=np.where(finite, Z, 0.0), colors=colors.reshape(-1, 4),
                                            shader=SOFT_SHADER, smooth=True,
                                            glOptions="opaque" if finite.all() else "translucent")
        self.view.addItem(self.surface)
        i0, j0 = len(a) // 2, len(b) // 2
        w = data.to_world(np.array([a[i0]]), np.array([b[j0]]), np.array([loss[i0, j0]]))
        w[:, 2] += 2 * PATH_LIFT
        self.centre = gl.GLScatterPlotItem(pos=w, size=14, color=(1.0, 0.88, 0.3, 1.0), pxMode=True,
                                           glOptions=_xray())
        self.centre.setDepthValue(11)
        self.view.addItem(self.centre)
        self.colorbar.set_surface(data)
        self._fit_colorbar()
        self.set_paths(paths)
        reset_camera(self.view)

    def _fit_colorbar(self) -> None:
        self.colorbar.setVisible(self.data is not None and self.width() >= NARROW_3D)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self._fit_colorbar()

    def set_paths(self, paths) -> None:
        """Redraw the paths only (list of (ab (K, 2), QColor)) on the slice shown. The stretches of a path
        outside the slice are not drawn (the contour map shows where it went)."""
        for item in self.paths + self._path_extras:
            self.view.removeItem(item)
        self.paths, self._path_extras = [], []
        data = self.data
        if data is None:
            return
        for ab, color in paths:
            ab = np.asarray(ab, dtype=float).reshape(-1, 2)
            ok = _inside(data, ab)
            if not ok.any():
                continue
            w = data.to_world(ab[:, 0], ab[:, 1], np.zeros(len(ab)))
            X, Y, Z = data.world_grid()
            w[:, 2] = bilinear(X, Y, Z, w[:, 0], w[:, 1]) + PATH_LIFT  # on the sheet as drawn
            keep = ok[:-1] & ok[1:]
            seg = np.stack([w[:-1][keep], w[1:][keep]], axis=1).reshape(-1, 3)
            rgba = (color.redF(), color.greenF(), color.blueF(), 1.0)
            ghost = gl.GLLinePlotItem(pos=seg, color=rgba[:3] + (0.35,), width=2.0, antialias=True, mode="lines",
                                      glOptions=_xray())
            ghost.setDepthValue(10)
            line = gl.GLLinePlotItem(pos=seg, color=rgba, width=3.0, antialias=True, mode="lines",
                                     glOptions="opaque")
            ends = [(0, (1, 1, 1, 1), 10), (len(ab) - 1, rgba, 14)]
            marks = [gl.GLScatterPlotItem(pos=w[[k]], color=c, size=size, pxMode=True, glOptions=_xray())
                     for k, c, size in ends if ok[k]]
            for m in marks:
                m.setDepthValue(11)
            for item in (ghost, line, *marks):
                self.view.addItem(item)
            self.paths.append(line)
            self._path_extras += [ghost, *marks]

    def screen_position(self, a: float, b: float, loss: float) -> tuple[float, float]:
        """Window position in the GL view of the point (a, b) at height ``loss``: for tests and overlays."""
        w = self.data.to_world(np.array(a), np.array(b), np.array(loss))
        return project(self.view.mvp(), w, self.view.width(), self.view.height())


class SliceContourView(QWidget):
    """The 2-D slice as a heat map with contour lines and a colour bar of the loss (as the function mode's
    contour map, :mod:`gdstudio.gui.views.contour`); the paths projected onto the plane (start ○, end ●);
    a star at θ_c."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget()
        theme.style_plot(self.plot)
        pi = self.plot.getPlotItem()
        # the map fills its view box (padding 0): room above it for half of the top tick's label, and on the
        # right for the colour bar's labels
        pi.layout.setContentsMargins(0, TOP_MARGIN, 4, 0)
        pi.hideButtons()
        self.plot.setLabel("bottom", "a (direction δ)")
        self.plot.setLabel("left", "b (direction η)")
        self.plot.setAspectLocked(False)
        self.plot.setToolTip("The loss on the slice's plane (colour bar: the loss), the training paths projected "
                             "onto it (○ start, ● end), ★ the centre θ_c. Drag to pan, wheel to zoom.")
        lay.addWidget(self.plot)
        self.data: SurfaceData | None = None
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(theme.height_colormap())
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(colorMap=theme.height_colormap(), interactive=False, width=18,
                                        colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=pi)
        _, fg = theme.chart_colors(self)
        self.colorbar.axis.setPen(fg)
        self.colorbar.axis.setTextPen(fg)
        install_height_ticks(self.colorbar.axis, lambda: self.data)
        self.isos: list = []
        self.paths: list = []  # per path: its line and its start marker
        self._path_extras: list = []  # per path: its halo and end marker
        self.legend = slice_legend(self.plot)
        self.star = pg.ScatterPlotItem(symbol="star", size=20, brush=pg.mkBrush("#ffe14d"), pen=pg.mkPen("k"))
        self.star.setZValue(20)
        self.plot.addItem(self.star)
        self.colorbar.setOpacity(0.0)
        self.legend.hide()

    def set_slice(self, a, b, loss, paths=()) -> None:
        """``paths``: list of (ab (K, 2), QColor, label). A 1-row ``b`` (no 2-D slice) clears the map."""
        for it in self.isos:
            it.setParentItem(None)
            if it.scene() is not None:
                it.scene().removeItem(it)
        self.isos = []
        if len(b) == 1:
            self.data = None
            self.image.clear()
            self.star.setData([], [])
            # no range to show: a 0…1 bar would read as one. Transparent, not hidden: the plot's layout gives a
            # hidden bar's column to the map and did not give it back on show (the bar was drawn past the edge)
            self.colorbar.setOpacity(0.0)
            self.set_paths(())
            return
        self.colorbar.setOpacity(1.0)
        data = SurfaceData.from_grid(a, b, loss)
        self.data = data
        (a0, a1), (b0, b1) = data.domain
        da, db = a[1] - a[0], b[1] - b[0]
        self.image.setImage(data.c, autoLevels=False, levels=(data.cmin, data.cmax))
        self.image.setRect(QRectF(a0 - da / 2, b0 - db / 2, da * len(a), db * len(b)))
        self.colorbar.setLevels((data.cmin, data.cmax))
        self.colorbar.axis.setLabel("loss (log scale)" if data.log else "loss")
        filled = np.where(np.isfinite(data.c), data.c, data.cmax + 1.0)
        xs, ys = isoline_paths(filled, data.levels())
        iso = pg.PlotCurveItem(xs, ys, connect="finite", pen=pg.mkPen(QColor(255, 255, 255, 120), width=1))
        iso.setParentItem(self.image)
        iso.setZValue(5)
        self.isos.append(iso)
        self.star.setData([0.0], [0.0])
        self.set_paths(paths)
        self.plot.setRange(xRange=(a0 - da / 2, a1 + da / 2), yRange=(b0 - db / 2, b1 + db / 2), padding=0)

    def set_paths(self, paths) -> None:
        """Redraw the paths only (list of (ab (K, 2), QColor, label)) on the slice shown."""
        for it in self.paths + self._path_extras:
            self.plot.removeItem(it)
        self.legend.clear()
        self.paths, self._path_extras = [], []
        for ab, color, label in paths:
            ab = np.asarray(ab, dtype=float).reshape(-1, 2)
            if self.data is not None:
                xs, ys = leave_map(ab[:, 0], ab[:, 1], self.data.domain)
            else:
                xs, ys = ab[:, 0], ab[:, 1]
            halo = pg.PlotDataItem(xs, ys, pen=pg.mkPen(QColor(0, 0, 0, 150), width=5), connect="finite")
            item = pg.PlotDataItem(xs, ys, pen=pg.mkPen(color, width=2.5), connect="finite", symbol="o",
                                   symbolSize=4, symbolBrush=color, symbolPen=None, name=html.escape(label))
            start = pg.ScatterPlotItem([ab[0, 0]], [ab[0, 1]], symbol="o", size=15, pen=pg.mkPen(color, width=3),
                                       brush=pg.mkBrush(0, 0, 0, 90))
            end = pg.ScatterPlotItem([ab[-1, 0]], [ab[-1, 1]], symbol="o", size=13, pen=pg.mkPen("k", width=1.5),
                                     brush=pg.mkBrush(color))
            for z, it in zip((10, 11, 12, 13), (halo, item, start, end)):
                it.setZValue(z)
                self.plot.addItem(it)
            self.paths += [item, start]
            self._path_extras += [halo, end]
        self.legend.setVisible(bool(self.paths))


class TrainingCharts(QTabWidget):
    """Tabs: loss (train solid, validation dashed, minibatch faint) and accuracy against epochs; the 1-D slice;
    the weights of a linear model as class templates."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss_plot = pg.PlotWidget()
        self.acc_plot = pg.PlotWidget()
        self.slice_plot = pg.PlotWidget()
        for p, ylabel in ((self.loss_plot, "loss"), (self.acc_plot, "accuracy"), (self.slice_plot, "loss")):
            theme.style_plot(p)
            p.setLabel("left", ylabel)
            # horizontal lines only, as the function mode's loss chart: vertical ones at every minor tick of the
            # epochs (0.2, 0.4…) hatched the curves
            p.showGrid(x=False, y=True, alpha=0.2)
            p.getPlotItem().layout.setContentsMargins(0, 8, 0, 0)  # room for half of the top tick's label
        self.loss_plot.setLabel("bottom", "epoch")
        self.loss_plot.setLogMode(y=True)  # losses are positive and fall by decades
        install_log_ticks(self.loss_plot.getAxis("left"))  # 10ⁿ as in Function mode; numbers within a decade
        self.loss_plot.setLabel("left", "loss (log scale)")
        self.acc_plot.setLabel("bottom", "epoch")
        self.slice_plot.setLabel("bottom", "a (along δ, b = 0)")
        self.loss_legend = slice_legend(self.loss_plot)
        self.acc_legend = slice_legend(self.acc_plot, offset=(-10, -10))
        for legend in (self.loss_legend, self.acc_legend):
            legend.setColumnCount(2)  # the line-style key beside the runs: half as tall over the curves
        self._add_keys()
        self.weights = WeightsView()
        self.addTab(self.loss_plot, "Loss")
        self.addTab(self.acc_plot, "Accuracy")
        self.addTab(self.slice_plot, "1-D slice")
        self.addTab(self.weights, "Weights")
        self._items: dict = {}
        self._show_legends()

    def set_curves(self, jobs, colors) -> None:
        """``jobs``: :class:`~gdstudio.gui.model_worker.JobView` list; one colour per job."""
        keep = set()
        for job, color in zip(jobs, colors):
            c = job.curve
            epoch = c["epoch"]
            ends = np.isfinite(c["train_loss"])
            specs = [
                ("batch", self.loss_plot, epoch, c["batch_loss"], pg.mkPen(QColor(color.red(), color.green(),
                                                                                  color.blue(), 70), width=1), None),
                # one legend entry per run (its colour); the line styles are keyed once (see _add_keys)
                ("train", self.loss_plot, epoch[ends], c["train_loss"][ends], pg.mkPen(color, width=2.5),
                 html.escape(job.label)),
                ("val", self.loss_plot, epoch[ends], c["val_loss"][ends],
                 pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine), None),
                ("tacc", self.acc_plot, epoch[ends], c["train_acc"][ends], pg.mkPen(color, width=2.5),
                 html.escape(job.label)),
                ("vacc", self.acc_plot, epoch[ends], c["val_acc"][ends],
                 pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine), None),
            ]
            for kind, plot, x, y, pen, name in specs:
                key = (job.index, kind)
                keep.add(key)
                ok = np.isfinite(y)
                if key not in self._items:
                    if kind in ("val", "vacc") and not ok.any():
                        keep.discard(key)
                        continue
                    self._items[key] = plot.plot(x[ok], y[ok], pen=pen, name=name)
                else:
                    self._items[key].setData(x[ok], y[ok])
        for key in list(self._items):
            if key not in keep:
                item = self._items.pop(key)
                item.getViewBox().removeItem(item) if item.getViewBox() else None
                for legend in (self.loss_legend, self.acc_legend):
                    legend.removeItem(item)
        self._show_legends()

    def _show_legends(self) -> None:
        """A legend only over a chart with curves (a key of line styles alone explains nothing)."""
        self.loss_legend.setVisible(bool(self._items))
        self.acc_legend.setVisible(bool(self._items))

    def clear_curves(self) -> None:
        for item in self._items.values():
            vb = item.getViewBox()
            if vb is not None:
                vb.removeItem(item)
        self._items.clear()
        self.loss_legend.clear()
        self.acc_legend.clear()
        self._add_keys()
        self._show_legends()

    def _add_keys(self) -> None:
        """The legends' key of line styles (entries of no curve, in the text colour): solid = the whole training
        set at each epoch's end, dashed = the validation set, faint = each minibatch (loss chart only). With
        one entry per run besides, six runs fit a small chart."""
        _, fg = theme.chart_colors(self)
        faint = QColor(fg)
        faint.setAlpha(90)
        keys = [(pg.mkPen(fg, width=2.5), "train (epoch end)"),
                (pg.mkPen(fg, width=2, style=Qt.PenStyle.DashLine), "validation")]
        for legend, extra in ((self.loss_legend, [(pg.mkPen(faint, width=1), "minibatch")]), (self.acc_legend, [])):
            for pen, name in keys + extra:
                legend.addItem(pg.PlotDataItem(pen=pen), name)

    def set_slice_1d(self, a, loss_row) -> None:
        self.slice_plot.clear()
        self.slice_plot.plot(a, loss_row, pen=pg.mkPen(theme.run_color(0), width=2.5))
        self.slice_plot.plot([0.0], [loss_row[len(a) // 2]], pen=None, symbol="star", symbolSize=18,
                             symbolBrush="#ffe14d", symbolPen="k")  # θ_c, as ★ on the map


class WeightsView(QWidget):
    """A linear model's weights as one small image per class (the learned template), for image data."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel("Train a linear model (svm or softmax) on image data (digits, MNIST) to see its class "
                           "templates: column j of W reshaped as an image (red = positive weight, blue = negative).")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        # shown with the templates: what their colours mean (the note above is hidden then)
        self.key = QLabel("Column j of W as an image, one per class: red = positive weight (a bright pixel there "
                          "raises the class's score), blue = negative, white = 0; the same scale for every class.")
        self.key.setWordWrap(True)
        self.key.hide()
        lay.addWidget(self.key)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground(theme.chart_colors(self)[0])
        lay.addWidget(self.glw, 1)
        self.images: list = []

    def set_weights(self, W: np.ndarray | None, image_shape, classes) -> None:
        self.glw.clear()
        self.images = []
        if W is None or image_shape is None or len(image_shape) != 2:
            self.note.show()
            self.key.hide()
            return
        self.note.hide()
        self.key.show()
        C = W.shape[1]
        per_row = 5 if C <= 10 else 8
        cmap = pg.colormap.get("CET-D1")
        lim = float(np.max(np.abs(W))) or 1.0
        for j in range(C):
            vb = self.glw.addViewBox(row=2 * (j // per_row) + 1, col=j % per_row, lockAspect=True)
            vb.setMouseEnabled(False, False)
            img = pg.ImageItem(W[:, j].reshape(image_shape).T[:, ::-1])
            img.setColorMap(cmap)
            img.setLevels((-lim, lim))
            vb.addItem(img)
            self.images.append(img)
            label = self.glw.addLabel(str(classes[j]), row=2 * (j // per_row), col=j % per_row)
            label.setText(str(classes[j]), size="11pt", color=theme.chart_colors(self)[1])


def big_font(widget: QWidget, pt: float = 10.5) -> None:
    f = QFont(widget.font())
    f.setPointSizeF(max(f.pointSizeF(), pt))
    widget.setFont(f)
