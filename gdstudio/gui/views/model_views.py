"""Views of the model mode: the landscape slice in 3D and as a contour map with the projected paths, the
training curves (loss and accuracy against epochs, the 1-D slice) and a linear model's class templates.

Each view draws what it is given (arrays from the core); none computes anything beyond scaling for display.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pyqtgraph.opengl as gl
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from gdstudio.gui import theme
from gdstudio.gui.views.ticks import log_axis_strings
from gdstudio.gui.views.surface3d import _xray

Z_SPAN = 1.2


def display_heights(loss: np.ndarray) -> tuple[np.ndarray, str]:
    """Heights for display in [0, 1]: log10 of the loss when it spans more than a decade, else linear."""
    z = np.asarray(loss, dtype=float)
    finite = z[np.isfinite(z)]
    if not finite.size:
        return np.zeros_like(z), "loss"
    lo, hi = float(finite.min()), float(np.percentile(finite, 99.5))
    if lo > 0 and hi / lo > 10:
        z, lo, hi, label = np.log10(np.clip(z, lo, None)), np.log10(lo), np.log10(hi), "log₁₀ loss"
    else:
        label = "loss"
    zn = (z - lo) / (hi - lo) if hi > lo else np.zeros_like(z)
    return np.clip(np.where(np.isfinite(zn), zn, 1.0), 0, 1), label


def _sample(zn: np.ndarray, a: np.ndarray, b: np.ndarray, ga: np.ndarray, gb: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of the display heights at path points (drawing only)."""
    if len(gb) == 1:
        return np.interp(a, ga, zn[:, 0])
    fa = np.clip(np.interp(a, ga, np.arange(len(ga))), 0, len(ga) - 1.001)
    fb = np.clip(np.interp(b, gb, np.arange(len(gb))), 0, len(gb) - 1.001)
    i, j = fa.astype(int), fb.astype(int)
    u, v = fa - i, fb - j
    return ((1 - u) * (1 - v) * zn[i, j] + u * (1 - v) * zn[i + 1, j] + (1 - u) * v * zn[i, j + 1]
            + u * v * zn[i + 1, j + 1])


class SliceSurfaceView(QWidget):
    """The 2-D slice as a surface coloured by height, the projected paths on it, a marker at the centre."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel("Train a model: its loss landscape appears here")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("slice_caption")
        self.view = gl.GLViewWidget()
        self.view.setBackgroundColor(theme.chart_colors(self)[0])
        self.view.setCameraPosition(distance=4.2, elevation=28, azimuth=-60)
        self.view.opts["center"] = pg.Vector(0, 0, Z_SPAN / 3)
        lay.addWidget(self.view, 1)
        self.surface = None
        self.paths: list = []
        self.centre = None
        self._grid = None  # (a, b, display heights) of the slice shown

    def set_slice(self, a, b, loss, paths=(), caption: str = "") -> None:
        """``paths``: list of (ab (K, 2), QColor)."""
        for item in self.paths + ([self.surface] if self.surface else []) + ([self.centre] if self.centre else []):
            self.view.removeItem(item)
        self.paths, self.surface, self.centre = [], None, None
        self.caption.setText(caption)
        zn, _ = display_heights(loss)
        self._grid = None
        if len(b) == 1:
            return
        self._grid = (a, b, zn)
        xs = np.linspace(-1, 1, len(a))
        ys = np.linspace(-1, 1, len(b))
        colors = theme.height_colormap().map(zn.ravel(), mode="float").reshape(-1, 4)
        self.surface = gl.GLSurfacePlotItem(x=xs, y=ys, z=zn * Z_SPAN, colors=colors, smooth=False,
                                            shader=None, glOptions="opaque")
        self.view.addItem(self.surface)
        i0, j0 = len(a) // 2, len(b) // 2
        self.centre = gl.GLScatterPlotItem(pos=np.array([[0, 0, zn[i0, j0] * Z_SPAN + 0.03]]), size=12,
                                           color=(1, 1, 1, 1), glOptions="translucent")
        self.view.addItem(self.centre)
        self.set_paths(paths)

    def set_paths(self, paths) -> None:
        """Redraw the paths only (list of (ab (K, 2), QColor)) on the slice shown."""
        for item in self.paths:
            self.view.removeItem(item)
        self.paths = []
        if self._grid is None:
            return
        a, b, zn = self._grid
        span_a, span_b = a[-1], b[-1]
        for ab, color in paths:
            if not len(ab):
                continue
            za = _sample(zn, ab[:, 0], ab[:, 1], a, b) * Z_SPAN + 0.02
            pos = np.column_stack([ab[:, 0] / span_a, ab[:, 1] / span_b, za])
            inside = (np.abs(pos[:, 0]) <= 1) & (np.abs(pos[:, 1]) <= 1)
            pos = pos[inside]
            if len(pos) < 1:
                continue
            rgba = (color.redF(), color.greenF(), color.blueF(), 1.0)
            # drawn over the surface (no depth test), as the function mode draws its paths' hidden parts
            line = gl.GLLinePlotItem(pos=pos, color=rgba, width=3, antialias=True, glOptions=_xray())
            self.view.addItem(line)
            self.paths.append(line)


class SliceContourView(QWidget):
    """The 2-D slice as a heat map with contour lines; the paths projected onto the plane; a star at θ_c."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget()
        theme.style_plot(self.plot)
        self.plot.setLabel("bottom", "a (direction δ)")
        self.plot.setLabel("left", "b (direction η)")
        self.plot.setAspectLocked(False)
        lay.addWidget(self.plot)
        self.image = pg.ImageItem()
        self.image.setColorMap(theme.height_colormap())
        self.plot.addItem(self.image)
        self.isos: list = []
        self.paths: list = []
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.star = pg.ScatterPlotItem(symbol="star", size=16, brush=pg.mkBrush("w"), pen=pg.mkPen("k"))
        self.plot.addItem(self.star)

    def set_slice(self, a, b, loss, paths=()) -> None:
        """``paths``: list of (ab (K, 2), QColor, label)."""
        for it in self.isos:
            self.image.getViewBox().removeItem(it) if it.scene() else None
        for it in self.paths:
            self.plot.removeItem(it)
        self.legend.clear()
        self.isos, self.paths = [], []
        zn, _ = display_heights(loss)
        if len(b) == 1:
            self.image.clear()
            return
        da, db = a[1] - a[0], b[1] - b[0]
        self.image.setImage(zn, autoLevels=False, levels=(0, 1))
        self.image.setRect(pg.QtCore.QRectF(a[0] - da / 2, b[0] - db / 2, da * len(a), db * len(b)))
        for level in np.linspace(0.05, 0.95, 12):
            iso = pg.IsocurveItem(data=zn, level=level, pen=pg.mkPen((255, 255, 255, 90), width=1))
            iso.setParentItem(self.image)
            self.isos.append(iso)
        self.star.setData([0.0], [0.0])
        self.set_paths(paths)
        self.plot.setRange(xRange=(a[0], a[-1]), yRange=(b[0], b[-1]), padding=0.02)

    def set_paths(self, paths) -> None:
        """Redraw the paths only (list of (ab (K, 2), QColor, label)) on the slice shown."""
        for it in self.paths:
            self.plot.removeItem(it)
        self.legend.clear()
        self.paths = []
        for ab, color, label in paths:
            item = self.plot.plot(ab[:, 0], ab[:, 1], pen=pg.mkPen(color, width=2.5), symbol="o", symbolSize=4,
                                  symbolBrush=color, symbolPen=None, name=label)
            self.paths.append(item)
            start = pg.ScatterPlotItem([ab[0, 0]], [ab[0, 1]], symbol="o", size=11, brush=None,
                                       pen=pg.mkPen(color, width=2))
            self.plot.addItem(start)
            self.paths.append(start)


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
            p.showGrid(x=True, y=True, alpha=0.2)
        self.loss_plot.setLabel("bottom", "epoch")
        self.loss_plot.setLogMode(y=True)  # losses are positive and fall by decades
        self.loss_plot.getAxis("left").logTickStrings = log_axis_strings  # 10ⁿ, as the function mode's chart
        self.loss_plot.setLabel("left", "loss (log scale)")
        self.acc_plot.setLabel("bottom", "epoch")
        self.slice_plot.setLabel("bottom", "a (along δ, b = 0)")
        self.loss_legend = self.loss_plot.addLegend(offset=(-10, 10))
        self.acc_legend = self.acc_plot.addLegend(offset=(-10, -10))
        self.weights = WeightsView()
        self.addTab(self.loss_plot, "Loss")
        self.addTab(self.acc_plot, "Accuracy")
        self.addTab(self.slice_plot, "1-D slice")
        self.addTab(self.weights, "Weights")
        self._items: dict = {}

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
                ("train", self.loss_plot, epoch[ends], c["train_loss"][ends], pg.mkPen(color, width=2.5),
                 f"{job.label} train"),
                ("val", self.loss_plot, epoch[ends], c["val_loss"][ends],
                 pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine), f"{job.label} validation"),
                ("tacc", self.acc_plot, epoch[ends], c["train_acc"][ends], pg.mkPen(color, width=2.5),
                 f"{job.label} train"),
                ("vacc", self.acc_plot, epoch[ends], c["val_acc"][ends],
                 pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine), f"{job.label} validation"),
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

    def clear_curves(self) -> None:
        for item in self._items.values():
            vb = item.getViewBox()
            if vb is not None:
                vb.removeItem(item)
        self._items.clear()
        self.loss_legend.clear()
        self.acc_legend.clear()

    def set_slice_1d(self, a, loss_row) -> None:
        self.slice_plot.clear()
        self.slice_plot.plot(a, loss_row, pen=pg.mkPen(theme.run_color(0), width=2.5))
        self.slice_plot.plot([0.0], [loss_row[len(a) // 2]], pen=None, symbol="star", symbolSize=14,
                             symbolBrush="w", symbolPen="k")


class WeightsView(QWidget):
    """A linear model's weights as one small image per class (the learned template), for image data."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel("Train a linear model (svm or softmax) on image data (digits, MNIST) to see its class "
                           "templates: column j of W reshaped as an image (bright = positive weight).")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground(theme.chart_colors(self)[0])
        lay.addWidget(self.glw, 1)
        self.images: list = []

    def set_weights(self, W: np.ndarray | None, image_shape, classes) -> None:
        self.glw.clear()
        self.images = []
        if W is None or image_shape is None or len(image_shape) != 2:
            self.note.show()
            return
        self.note.hide()
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
