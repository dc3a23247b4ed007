"""Drawing a basin map: a layer of the contour view, and the picture ``gdstudio basins --out map.png`` writes.

The core (:mod:`gdstudio.core.basins`) computes each start's basin and the RGBA colours; this module only
draws them: an :class:`pyqtgraph.ImageItem` over the heat map with a legend (each basin's critical point
and kind), and a QPainter picture with the same legend for files.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QImage, QPainter, QPen, QPolygonF

from gdstudio.core.basins import BasinMap
from gdstudio.core.files import atomic_write

#: Opacity of the layer over the heat map (the contour lines stay faintly visible).
OPACITY = 0.85
#: Marker per kind of critical point (pyqtgraph symbol names).
SYMBOLS = {"minimum": "star", "maximum": "t1", "saddle": "x", "degenerate": "d"}


def _pixel_rect(m: BasinMap) -> QRectF:
    """Grid points are pixel centres: the image reaches half a pixel beyond the first and last ones."""
    nx, ny = m.shape
    dx = (m.xs[-1] - m.xs[0]) / max(nx - 1, 1)
    dy = (m.ys[-1] - m.ys[0]) / max(ny - 1, 1)
    return QRectF(m.xs[0] - dx / 2, m.ys[0] - dy / 2, m.xs[-1] - m.xs[0] + dx, m.ys[-1] - m.ys[0] + dy)


class BasinLayer(QObject):
    """The basin map drawn on a :class:`~gdstudio.gui.views.contour.ContourView`'s plot.

    ``sig_hover(text)``: where the start under the mouse ends (empty when the mouse is off the map or the
    layer is hidden).
    """

    sig_hover = Signal(str)

    def __init__(self, plot: pg.PlotItem, parent: QObject | None = None):
        super().__init__(parent)
        self.plot = plot
        self.map: BasinMap | None = None
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setOpacity(OPACITY)
        self.image.setZValue(6)  # above the heat map and its contours, below paths (10+) and minima (20)
        self.image.setVisible(False)
        plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=14, pen=pg.mkPen("w", width=1.5), brush=pg.mkBrush(0, 0, 0, 160))
        self.points.setZValue(7)
        self.points.setVisible(False)
        plot.addItem(self.points)
        self.legend = pg.LegendItem(offset=(8, 8), labelTextSize="9pt", brush=pg.mkBrush(255, 255, 255, 215),
                                    pen=pg.mkPen(80, 80, 80), labelTextColor=(20, 20, 20))
        self.legend.setParentItem(plot.getViewBox())
        self.legend.setVisible(False)
        self._samples: list = []
        plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

    @property
    def visible(self) -> bool:
        return self.image.isVisible()

    def set_visible(self, v: bool) -> None:
        shown = bool(v) and self.map is not None
        for it in (self.image, self.points, self.legend):
            it.setVisible(shown)
        if not shown:
            self.sig_hover.emit("")

    def set_map(self, m: BasinMap | None, colours: np.ndarray | None = None, legend: bool = True) -> None:
        """Show ``m`` (or nothing); the layer's visibility is kept. ``colours``: ``m.colours()`` when the
        caller computed it already (off the GUI thread). ``legend=False``: the legend is left empty, for
        :meth:`fill_legend` to build in a later turn of the event loop (its text items are the slowest part:
        about 3 ms each with software rendering)."""
        self.map = m
        self.legend.clear()
        self._samples = []
        if m is None:
            self.image.clear()
            self.points.setData([], [])
            self.set_visible(False)
            return
        self.image.setImage(m.colours() if colours is None else colours, autoLevels=False, levels=(0, 255))
        self.image.setRect(_pixel_rect(m))
        counts = m.counts()
        spots = [{"pos": c.x[:2], "symbol": SYMBOLS.get(c.kind, "o")} for j, c in enumerate(m.critical) if counts[j]]
        self.points.setData(spots)
        if legend:
            self.fill_legend()

    def fill_legend(self) -> None:
        """One legend entry per basin of the map shown (nothing when there is no map or it has one)."""
        m = self.map
        if m is None or self._samples:
            return
        for colour, text in m.legend():
            sample = pg.ScatterPlotItem(symbol="s", size=12, pen=pg.mkPen(60, 60, 60), brush=pg.mkBrush(*colour))
            self._samples.append(sample)
            self.legend.addItem(sample, text)

    def _on_mouse_moved(self, scene_pos) -> None:
        if self.map is None or not self.visible:
            return
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return
        p = vb.mapSceneToView(scene_pos)
        i = self.map.index_at(float(p.x()), float(p.y()))
        self.sig_hover.emit("" if i is None else self.map.describe(i))


# --- the picture for files ---------------------------------------------------------------------------
def _ensure_gui_app():
    """QPainter needs fonts, hence a QGuiApplication: create an off-screen one when none exists."""
    app = QGuiApplication.instance()
    if app is None:
        app = QGuiApplication(["gdstudio", "-platform", "offscreen"])
    return app


def _marker(p: QPainter, kind: str, at: QPointF, r: float) -> None:
    if kind == "minimum":  # a five-pointed star
        pts = []
        for k in range(10):
            rad = r if k % 2 == 0 else r * 0.45
            a = -np.pi / 2 + k * np.pi / 5
            pts.append(QPointF(at.x() + rad * np.cos(a), at.y() + rad * np.sin(a)))
        p.drawPolygon(QPolygonF(pts))
    elif kind == "maximum":  # a triangle pointing up
        p.drawPolygon(QPolygonF([QPointF(at.x(), at.y() - r), QPointF(at.x() + r, at.y() + r * 0.8),
                                 QPointF(at.x() - r, at.y() + r * 0.8)]))
    elif kind == "saddle":  # a cross
        p.drawLine(QPointF(at.x() - r, at.y() - r), QPointF(at.x() + r, at.y() + r))
        p.drawLine(QPointF(at.x() - r, at.y() + r), QPointF(at.x() + r, at.y() - r))
    else:
        p.drawEllipse(at, r * 0.7, r * 0.7)


def render_image(m: BasinMap, size: int = 600) -> QImage:
    """The map (about ``size`` pixels a side) with axes' ranges, critical points and a legend on the right."""
    _ensure_gui_app()
    nx, ny = m.shape
    rgba = np.ascontiguousarray(m.colours().transpose(1, 0, 2)[::-1])  # rows from the top (max y) down
    src = QImage(rgba.data, nx, ny, 4 * nx, QImage.Format.Format_RGBA8888).copy()
    side = max(size, 100)
    scale = side / max(nx, ny)
    w, h = int(round(nx * scale)), int(round(ny * scale))
    legend = m.legend()
    font = QFont()
    font.setPixelSize(15)
    small = QFont(font)
    small.setPixelSize(13)
    margin, top, legend_w = 60, 44, 430
    img = QImage(margin + w + 20 + legend_w, max(top + h + 40, top + 30 + 24 * len(legend) + 20),
                 QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setFont(font)
        p.setPen(QColor(20, 20, 20))
        title = ", ".join([f"Basins: {m.config.objective_spec}", m.config.optimizer,
                           *(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in m.config.hyperparams),
                           f"{m.config.epochs} epochs" + ("" if m.config.tol is None else f", tol {m.config.tol:g}"),
                           f"{nx}×{ny} starts"])
        p.drawText(QRectF(margin, 8, w + legend_w, 28), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   title)
        target = QRectF(margin, top, w, h)
        p.drawImage(target, src)  # nearest-neighbour: one block per start
        p.setPen(QPen(QColor(60, 60, 60), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(target)
        p.setFont(small)
        (x0, x1), (y0, y1) = (m.xs[0], m.xs[-1]), (m.ys[0], m.ys[-1])
        p.drawText(QRectF(margin - 30, top + h + 4, 60, 20), Qt.AlignmentFlag.AlignCenter, f"{x0:g}")
        p.drawText(QRectF(margin + w - 30, top + h + 4, 60, 20), Qt.AlignmentFlag.AlignCenter, f"{x1:g}")
        p.drawText(QRectF(margin + w / 2 - 30, top + h + 4, 60, 20), Qt.AlignmentFlag.AlignCenter, "x")
        p.drawText(QRectF(0, top + h - 10, margin - 6, 20), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   f"{y0:g}")
        p.drawText(QRectF(0, top - 10, margin - 6, 20), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   f"{y1:g}")
        p.drawText(QRectF(0, top + h / 2 - 10, margin - 6, 20),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "y")
        counts = m.counts()

        def to_px(x, y):
            return QPointF(margin + (x - m.xs[0]) / (m.xs[-1] - m.xs[0]) * w,
                           top + (m.ys[-1] - y) / (m.ys[-1] - m.ys[0]) * h)

        for j, c in enumerate(m.critical):
            if not counts[j] or not (x0 <= c.x[0] <= x1 and y0 <= c.x[1] <= y1):
                continue
            p.setPen(QPen(QColor("white"), 2))
            p.setBrush(QBrush(QColor(0, 0, 0, 170)))
            _marker(p, c.kind, to_px(c.x[0], c.x[1]), 8)
        lx, ly = margin + w + 20, top + 4
        p.setFont(font)
        p.setPen(QColor(20, 20, 20))
        p.drawText(QRectF(lx, ly, legend_w, 22), Qt.AlignmentFlag.AlignLeft, "Where each start ends")
        ly += 30
        p.setFont(small)
        for colour, text in legend:
            p.setPen(QPen(QColor(60, 60, 60), 1))
            p.setBrush(QBrush(QColor(*colour)))
            p.drawRect(QRectF(lx, ly + 3, 14, 14))
            p.setPen(QColor(20, 20, 20))
            p.drawText(QRectF(lx + 22, ly, legend_w - 24, 20),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            ly += 24
        ly += 8
        p.drawText(QRectF(lx, ly, legend_w - 4, 60), Qt.TextFlag.TextWordWrap,
                   "Brighter: ended in fewer steps. ★ minimum, ▲ maximum, ✕ saddle.")
    finally:
        p.end()
    return img


def png_bytes(m: BasinMap, size: int = 600) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not render_image(m, size).save(buf, "PNG"):
        raise ValueError("the picture could not be encoded as PNG")
    buf.close()
    return bytes(data.data())


def write_png(path, m: BasinMap, size: int = 600) -> None:
    """Write the map's picture to ``path`` atomically (OSError when the place is not writable)."""
    atomic_write(path, png_bytes(m, size))
