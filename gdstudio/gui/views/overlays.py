""""See why" overlays drawn over the contour map (2D) and the 3D surface: they draw, never compute.

Layers (each a toggle in View ▸ See why, off by default):

============ ======================================================================================
``arrows``   at the selected step x_k: ∇f, −∇f, the update actually taken, the optimizer's vectors
             (momentum's velocity, Adam's m̂ and per-coordinate step…)
``tangent``  the tangent plane f(x_k) + ∇f·h (3D) and its level line through x_k (2D)
``quadratic`` the quadratic model f + g·h + ½hᵀBh (3D surface, 2D contours) and its stationary point
             x_k − B⁻¹∇f (Newton's step; BFGS's model uses its own B)
``hessian``  the Hessian's eigenvector axes through x_k, coloured by the sign of their eigenvalue
``critical`` the objective's critical points, one marker per kind (legend, hover tooltip)
============ ======================================================================================

The selected point itself (a ring / a white ball) is always shown while a step is selected.
Every number comes from :mod:`gdstudio.core.analysis` through a ``StepPicture``
(:mod:`gdstudio.gui.step_picture`); the only arithmetic here is drawing geometry (pixel angles of
arrowheads, world coordinates).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
import pyqtgraph.opengl as gl
from OpenGL import GL
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTransform

from gdstudio.core.objectives import CriticalPoint
from gdstudio.gui.surface_data import Z_SPAN, SurfaceData

if TYPE_CHECKING:  # pragma: no cover
    from gdstudio.gui.step_picture import StepPicture

#: The overlay layers, in menu order, with their menu text and tooltip.
LAYERS = {
    "arrows": ("Step &arrows (∇f, −∇f, update, velocity)",
               ("At the selected step: the gradient, the steepest-descent direction, the update actually "
                "taken and the optimizer's own vectors")),
    "tangent": ("&Tangent plane", "The tangent plane f(x) + ∇f·h at the selected point"),
    "quadratic": ("&Quadratic model (Newton step)",
                  "The local quadratic model f + ∇f·h + ½hᵀHh and its stationary point x − H⁻¹∇f"),
    "hessian": ("&Hessian axes", "The Hessian's eigenvectors at the selected point (cyan: curves up, red: down)"),
    "critical": ("&Critical points", "All critical points of the objective, classified by the second-derivative test"),
}

#: Critical point markers: kind → (pyqtgraph symbol, colour, legend text).
KIND_STYLE = {
    "minimum": ("t", "#00e5ff", "minimum ▼ (λ₁, λ₂ > 0)", "minimum"),
    "maximum": ("t1", "#ff5252", "maximum ▲ (λ₁, λ₂ < 0)", "maximum"),
    "saddle": ("x", "#ffffff", "saddle ✕ (λ₁ < 0 < λ₂)", "saddle"),
    "degenerate": ("d", "#bdbdbd", "degenerate ◆ (test inconclusive)", "degenerate"),
}

QUAD_COLOR = "#ff9100"
TANGENT_COLOR = "#82b1ff"
CURVE_UP, CURVE_DOWN, CURVE_FLAT = "#76ff03", "#ff4081", "#bdbdbd"


def axis_color(eigenvalue: float, tol: float) -> str:
    if not np.isfinite(eigenvalue) or abs(eigenvalue) <= tol:
        return CURVE_FLAT
    return CURVE_UP if eigenvalue > 0 else CURVE_DOWN


def _rgba(c: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    q = QColor(c)
    return (q.redF(), q.greenF(), q.blueF(), alpha)


def _xray() -> dict:
    return {GL.GL_DEPTH_TEST: False, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
            "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)}


def _see_through() -> dict:
    return {GL.GL_DEPTH_TEST: True, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
            "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)}


def critical_tip(x: float, y: float, data) -> str:
    """Hover text of a critical point marker."""
    kind, label, value = data
    return f"{kind}: ({x:.5g}, {y:.5g})\nf = {value:.6g}\n{label}"


class _Base:
    def __init__(self):
        self.layers = dict.fromkeys(LAYERS, False)
        self.picture: StepPicture | None = None
        self.critical: tuple[CriticalPoint, ...] = ()
        self._items: dict[str, list] = {name: [] for name in LAYERS}

    def items_of(self, layer: str) -> list:
        """The drawn items of a layer (empty when the layer is off or has nothing to show)."""
        return list(self._items[layer])

    def set_layer(self, layer: str, on: bool) -> None:
        if layer not in LAYERS:
            raise ValueError(f"unknown overlay {layer!r} (valid: {', '.join(LAYERS)})")
        self.layers[layer] = bool(on)
        self._redraw(layer)

    def show_step(self, picture: StepPicture | None) -> None:
        self.picture = picture
        self._draw_selection()
        for layer in LAYERS:
            if layer != "critical":
                self._redraw(layer, finish=False)
        self._after_redraw()

    def show_critical(self, points: Sequence[CriticalPoint]) -> None:
        self.critical = tuple(points)
        self._redraw("critical")

    def _redraw(self, layer: str, finish: bool = True) -> None:
        self._clear(layer)
        if self.layers[layer]:
            if layer == "critical":
                if self.critical:
                    self._draw_critical()
            elif self.picture is not None:
                getattr(self, f"_draw_{layer}")(self.picture)
        if finish:
            self._after_redraw()

    def _after_redraw(self) -> None:
        pass


# ------------------------------------------------------------------------------------------------
# 2D
# ------------------------------------------------------------------------------------------------
class ContourOverlays(_Base):
    """Overlays on a pyqtgraph PlotItem whose view coordinates are the objective's (x, y)."""

    def __init__(self, plot: pg.PlotItem):
        super().__init__()
        self.plot = plot
        self.vb = plot.getViewBox()
        self.selected = pg.ScatterPlotItem(symbol="o", size=24, pen=pg.mkPen("#ffffff", width=3),
                                           brush=pg.mkBrush(0, 0, 0, 0))
        self.selected.setZValue(40)
        self.plot.addItem(self.selected)
        self.legend = pg.LegendItem(offset=(8, 8), labelTextColor="#ffffff", brush=pg.mkBrush(0, 0, 0, 150),
                                    labelTextSize="9pt")
        self.legend.setParentItem(self.vb)
        self.legend.setZValue(60)
        self.legend.setVisible(False)
        self._heads: list[tuple[pg.ArrowItem, np.ndarray, np.ndarray]] = []
        self._legend_entries: list = []
        self.vb.sigRangeChanged.connect(self._orient_heads)
        self.vb.sigResized.connect(self._orient_heads)
        self.vb.sigResized.connect(self._fit_legend)

    def _add(self, layer: str, item, z: float = 30) -> None:
        item.setZValue(z)
        self.plot.addItem(item)
        self._items[layer].append(item)

    def _clear(self, layer: str) -> None:
        for it in self._items[layer]:
            self.plot.removeItem(it)
        if layer == "arrows":
            self._heads = []
        self._items[layer] = []

    def _draw_selection(self) -> None:
        p = self.picture
        if p is None:
            self.selected.setData([], [])
        else:
            x = p.explanation.x
            self.selected.setData([x[0]], [x[1]])

    # --- layers ---------------------------------------------------------------------------------------
    def _arrow(self, layer: str, tail, tip, color: str, width: float = 3.5, style=Qt.PenStyle.SolidLine, z=32):
        tail, tip = np.asarray(tail, float), np.asarray(tip, float)
        if not (np.all(np.isfinite(tail)) and np.all(np.isfinite(tip))) or np.allclose(tail, tip):
            return None
        halo = pg.PlotDataItem([tail[0], tip[0]], [tail[1], tip[1]], pen=pg.mkPen((0, 0, 0, 170), width=width + 3))
        line = pg.PlotDataItem([tail[0], tip[0]], [tail[1], tip[1]], pen=pg.mkPen(color, width=width, style=style))
        head = pg.ArrowItem(pxMode=True, headLen=18, tipAngle=36, tailLen=0, brush=pg.mkBrush(color),
                            pen=pg.mkPen((0, 0, 0, 200), width=1))
        head.setPos(tip[0], tip[1])
        self._add(layer, halo, z - 0.5)
        self._add(layer, line, z)
        self._add(layer, head, z + 0.5)
        self._heads.append((head, tail, tip))
        return line

    def _orient_heads(self, *_args) -> None:
        """Point each arrowhead along its shaft on screen (the plot's x and y scales differ)."""
        for head, tail, tip in self._heads:
            a = self.vb.mapViewToScene(pg.Point(float(tail[0]), float(tail[1])))
            b = self.vb.mapViewToScene(pg.Point(float(tip[0]), float(tip[1])))
            dx, dy = b.x() - a.x(), b.y() - a.y()
            if dx == 0 and dy == 0:
                continue
            # ArrowItem at angle 0 points to −x; Qt's rotation is clockwise on screen (y down).
            head.setStyle(angle=float(np.degrees(np.arctan2(-dy, -dx))))

    def _after_redraw(self) -> None:
        self._orient_heads()
        self._update_legend()

    def _draw_arrows(self, p: StepPicture) -> None:
        for arrow in p.arrows:
            self._arrow("arrows", arrow.tail, arrow.tail + arrow.drawn, arrow.color,
                        width=4.0 if arrow.key == "update" else 3.0)

    def _draw_tangent(self, p: StepPicture) -> None:
        t = p.tangent
        iso = self._isocurve(t.xs, t.ys, t.z, t.value, pg.mkPen(TANGENT_COLOR, width=3, style=Qt.PenStyle.DashLine))
        self._add("tangent", iso, 31)

    def _isocurve(self, xs, ys, z, level, pen) -> pg.IsocurveItem:
        iso = pg.IsocurveItem(data=np.where(np.isfinite(z), z, np.nanmax(z) if np.isfinite(z).any() else 0.0),
                              level=float(level), pen=pen)
        tr = QTransform()
        tr.translate(float(xs[0]), float(ys[0]))
        tr.scale(float(xs[1] - xs[0]), float(ys[1] - ys[0]))
        iso.setTransform(tr)
        return iso

    def _draw_quadratic(self, p: StepPicture) -> None:
        q = p.quadratic
        if q is None:
            return
        for i, lvl in enumerate(p.quadratic_levels):
            width = 3 if i == 0 else 2
            self._add("quadratic", self._isocurve(q.xs, q.ys, q.z, lvl, pg.mkPen(QUAD_COLOR, width=width)), 31)
        if q.newton_point is not None and np.all(np.isfinite(q.newton_point)):
            self._arrow("quadratic", q.point, q.newton_point, QUAD_COLOR, width=3, style=Qt.PenStyle.DashLine, z=31)
            star = pg.ScatterPlotItem([q.newton_point[0]], [q.newton_point[1]], symbol="star", size=22,
                                      pen=pg.mkPen("k", width=1), brush=pg.mkBrush(QUAD_COLOR))
            self._add("quadratic", star, 36)

    def _draw_hessian(self, p: StepPicture) -> None:
        ax = p.axes
        info = ax.info
        for i in range(len(info.eigenvalues)):
            color = axis_color(info.eigenvalues[i], p.eigen_tol)
            pts = ax.points[i]
            self._add("hessian", pg.PlotDataItem(pts[:, 0], pts[:, 1], pen=pg.mkPen((0, 0, 0, 170), width=6)), 33)
            self._add("hessian", pg.PlotDataItem(pts[:, 0], pts[:, 1], pen=pg.mkPen(color, width=3)), 33.5)
            label = pg.TextItem(f"λ{'₁₂₃'[i] if i < 3 else i + 1} = {info.eigenvalues[i]:.3g}", color=color,
                                fill=pg.mkBrush(0, 0, 0, 170), anchor=(0, 1))
            label.setPos(float(pts[-1, 0]), float(pts[-1, 1]))
            self._add("hessian", label, 34)

    def _draw_critical(self) -> None:
        spots = []
        for c in self.critical:
            sym, color = KIND_STYLE.get(c.kind, KIND_STYLE["degenerate"])[:2]
            spots.append({"pos": (c.x[0], c.x[1]), "symbol": sym, "brush": pg.mkBrush(color),
                          "pen": pg.mkPen("k", width=1.5), "size": 17, "data": (c.kind, c.label, c.value)})
        sc = pg.ScatterPlotItem(hoverable=True, tip=critical_tip, hoverSize=22)
        sc.addPoints(spots)
        self._add("critical", sc, 35)

    def _update_legend(self) -> None:
        entries = []
        if self.layers["arrows"] and self.picture is not None:
            entries += [(a.color, a.short, None) for a in self.picture.arrows]
        if self.layers["quadratic"] and self.picture is not None and self.picture.quadratic is not None:
            entries.append((QUAD_COLOR, "quadratic model, ★ = x − B⁻¹∇f", None))
        if self.layers["tangent"] and self.picture is not None:
            entries.append((TANGENT_COLOR, "tangent plane = f(x)", None))
        if self.layers["hessian"] and self.picture is not None:
            signs = {axis_color(v, self.picture.eigen_tol) for v in self.picture.axes.info.eigenvalues}
            entries += [(c, t, None) for c, t in ((CURVE_UP, "Hessian axis, λ > 0"), (CURVE_DOWN, "Hessian axis, λ < 0"),
                                                 (CURVE_FLAT, "Hessian axis, λ ≈ 0")) if c in signs]
        if self.layers["critical"] and self.critical:
            kinds = [k for k in KIND_STYLE if any(c.kind == k for c in self.critical)]
            entries += [(KIND_STYLE[k][1], KIND_STYLE[k][3], KIND_STYLE[k][0]) for k in kinds]
        if entries == self._legend_entries:
            return  # rebuilding a legend costs milliseconds per row: only when it changes
        self._legend_entries = entries
        self.legend.clear()
        for color, text, symbol in entries:
            if symbol is None:
                sample = pg.PlotDataItem(pen=pg.mkPen(color, width=4))
            else:
                sample = pg.ScatterPlotItem(symbol=symbol, brush=pg.mkBrush(color), pen=pg.mkPen("k"), size=14)
            self.legend.addItem(sample, text)
        self._fit_legend()

    def _fit_legend(self, *_args) -> None:
        """Show the legend only where it leaves most of the map visible (the inspector lists the same colours)."""
        has = bool(self.legend.items)
        rect = self.vb.boundingRect()
        lw, lh = self.legend.boundingRect().width(), self.legend.boundingRect().height()
        self.legend.setVisible(has and lw <= 0.75 * rect.width() and lh <= 0.45 * rect.height())


# ------------------------------------------------------------------------------------------------
# 3D
# ------------------------------------------------------------------------------------------------
class SurfaceOverlays(_Base):
    """Overlays in a GLViewWidget whose world box comes from a SurfaceData (see surface_data)."""

    LIFT = 0.02 * Z_SPAN

    def __init__(self, view: gl.GLViewWidget, surface: Callable[[], SurfaceData | None]):
        super().__init__()
        self.view = view
        self._surface = surface
        self.selected = gl.GLScatterPlotItem(pos=np.zeros((0, 3)), color=(1, 1, 1, 1), size=20, pxMode=True,
                                             glOptions=_xray())
        self.selected.setDepthValue(20)
        self.view.addItem(self.selected)

    def _world(self, x, y, f) -> np.ndarray | None:
        s = self._surface()
        if s is None:
            return None
        w = s.to_world(x, y, f)
        w[..., 2] = np.clip(w[..., 2], -0.5 * Z_SPAN, 2.0 * Z_SPAN)
        return w

    def _add(self, layer: str, item, depth: float = 12) -> None:
        item.setDepthValue(depth)
        self.view.addItem(item)
        self._items[layer].append(item)

    def _clear(self, layer: str) -> None:
        for it in self._items[layer]:
            if it in self.view.items:
                self.view.removeItem(it)
        self._items[layer] = []

    def _draw_selection(self) -> None:
        p = self.picture
        w = None if p is None else self._world(p.explanation.x[0], p.explanation.x[1], p.explanation.value)
        if w is None or not np.all(np.isfinite(w)):
            self.selected.setData(pos=np.zeros((0, 3)))
        else:
            self.selected.setData(pos=(w + [0, 0, self.LIFT]).reshape(1, 3))

    def _patch(self, layer: str, xs, ys, z, color: str, alpha: float) -> None:
        """A translucent surface patch of values z[i, j] at (xs[i], ys[j]), hidden where it leaves the box."""
        s = self._surface()
        if s is None:
            return
        X, Y = np.meshgrid(xs, ys, indexing="ij")
        w = s.to_world(X, Y, z)
        inside = np.isfinite(w[..., 2]) & np.isfinite(z)
        if s.log:  # below the display floor c(f) = 0 the log scale has no room: hide
            inside &= z >= s.fmin
        inside &= (w[..., 2] >= -0.05 * Z_SPAN) & (w[..., 2] <= 1.6 * Z_SPAN)
        colors = np.tile(np.array(_rgba(color, alpha), dtype=np.float32), z.shape + (1,))
        colors[~inside, 3] = 0.0
        zw = np.where(inside, w[..., 2], 0.0) + 0.5 * self.LIFT
        item = gl.GLSurfacePlotItem(x=w[:, 0, 0], y=w[0, :, 1], z=zw, colors=colors.reshape(-1, 4),
                                    smooth=False, glOptions=_see_through())
        self._add(layer, item, 5)
        # a coarse wire grid on the patch shows its shape (a flat colour alone does not)
        step = max(1, (len(xs) - 1) // 8)
        wire = []
        for i in range(0, len(xs), step):
            wire.append(self._polyline(w[i, :], inside[i, :], zw[i, :]))
        for j in range(0, len(ys), step):
            wire.append(self._polyline(w[:, j], inside[:, j], zw[:, j]))
        segs = np.concatenate([s for s in wire if len(s)]) if any(len(s) for s in wire) else np.zeros((0, 3))
        if len(segs):
            self._add(layer, gl.GLLinePlotItem(pos=segs, color=_rgba(color, 0.9), width=1.5, mode="lines",
                                               antialias=True, glOptions=_see_through()), 6)

    @staticmethod
    def _polyline(w: np.ndarray, ok: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Segments (pairs of points) of a grid line, only between visible vertices."""
        p = np.column_stack([w[:, 0], w[:, 1], z])
        keep = ok[:-1] & ok[1:]
        return np.stack([p[:-1][keep], p[1:][keep]], axis=1).reshape(-1, 3)

    def _draw_tangent(self, p: StepPicture) -> None:
        t = p.tangent
        self._patch("tangent", t.xs, t.ys, t.z, TANGENT_COLOR, 0.55)

    def _draw_quadratic(self, p: StepPicture) -> None:
        q = p.quadratic
        if q is None:
            return
        self._patch("quadratic", q.xs, q.ys, q.z, QUAD_COLOR, 0.5)
        if q.newton_point is not None and q.newton_value is not None:
            a = self._world(q.point[0], q.point[1], q.value)
            b = self._world(q.newton_point[0], q.newton_point[1], q.newton_value)
            if a is not None and b is not None and np.all(np.isfinite(a)) and np.all(np.isfinite(b)):
                star = gl.GLScatterPlotItem(pos=(b + [0, 0, self.LIFT]).reshape(1, 3), color=_rgba(QUAD_COLOR),
                                            size=16, pxMode=True, glOptions=_xray())
                self._add("quadratic", star, 21)
                seg = np.array([a, b]) + [0, 0, self.LIFT]
                self._add("quadratic", gl.GLLinePlotItem(pos=seg, color=_rgba(QUAD_COLOR), width=3, mode="lines",
                                                         antialias=True, glOptions=_xray()), 21)

    def _draw_arrows(self, p: StepPicture) -> None:
        e = p.explanation
        base = self._world(e.x[0], e.x[1], e.value)
        s = self._surface()
        if base is None or s is None or not np.all(np.isfinite(base)):
            return
        base = base + [0, 0, self.LIFT]
        segs, cols = [], []
        for a in p.arrows:
            tip2 = a.tail + a.drawn
            tw = self._world(tip2[0], tip2[1], e.value)
            tw[2] = base[2]  # horizontal arrows at the ball's height: a compass over the point
            d = tw[:2] - base[:2]
            n = float(np.hypot(*d))
            if not np.isfinite(n) or n == 0:
                continue
            u = d / n
            head = min(0.06, 0.35 * n)
            back = tw[:2] - head * u
            side = np.array([-u[1], u[0]]) * head * 0.5
            pts = [base, tw, tw, np.r_[back + side, tw[2]], tw, np.r_[back - side, tw[2]]]
            segs += pts
            cols += [_rgba(a.color)] * len(pts)
        if segs:
            item = gl.GLLinePlotItem(pos=np.array(segs), color=np.array(cols), width=4, mode="lines",
                                     antialias=True, glOptions=_xray())
            self._add("arrows", item, 22)

    def _draw_hessian(self, p: StepPicture) -> None:
        ax = p.axes
        for i in range(len(ax.info.eigenvalues)):
            w = self._world(ax.points[i, :, 0], ax.points[i, :, 1], ax.values[i])
            if w is None:
                continue
            ok = np.all(np.isfinite(w), axis=-1)
            if ok.sum() < 2:
                continue
            color = axis_color(ax.info.eigenvalues[i], p.eigen_tol)
            item = gl.GLLinePlotItem(pos=w[ok] + [0, 0, self.LIFT], color=_rgba(color), width=4, mode="line_strip",
                                     antialias=True, glOptions=_xray())
            self._add("hessian", item, 21)

    def _draw_critical(self) -> None:
        pts = np.array([[c.x[0], c.x[1], c.value] for c in self.critical], dtype=float).reshape(-1, 3)
        w = self._world(pts[:, 0], pts[:, 1], pts[:, 2])
        if w is None:
            return
        cols = np.array([_rgba(KIND_STYLE.get(c.kind, KIND_STYLE["degenerate"])[1]) for c in self.critical])
        ok = np.all(np.isfinite(w), axis=-1)
        item = gl.GLScatterPlotItem(pos=w[ok] + [0, 0, self.LIFT], color=cols[ok], size=14, pxMode=True,
                                    glOptions=_xray())
        self._add("critical", item, 21)
