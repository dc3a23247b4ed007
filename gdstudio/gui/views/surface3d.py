"""The 3D view: the loss surface coloured by height, with every visible run's path drawn on it.

Drag to rotate, wheel to zoom (pyqtgraph's GLViewWidget). A click (press and release without movement)
picks the point of the *surface* under the cursor, whatever the camera angle (see
:mod:`gdstudio.gui.picking`), and emits ``sig_point_clicked(x, y)`` in the objective's coordinates.

The surface lives in a normalised box (:class:`~gdstudio.gui.surface_data.SurfaceData`): x and y in
[−1, 1], height in [0, Z_SPAN], so every objective gets the same camera. Paths are drawn at the height of
their loss, lifted by ``PATH_LIFT`` so they stay visible on the surface.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph.opengl as gl
from OpenGL import GL
from pyqtgraph.opengl import shaders
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QVector3D
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gdstudio.core.decimate import PathDecimator
from gdstudio.gui import theme
from gdstudio.gui.picking import mouse_ray, pick_surface, project, qmatrix_to_numpy
from gdstudio.gui.run_model import RunEntry, RunModel
from gdstudio.gui.views.run_layers import RunLayers
from gdstudio.gui.surface_data import Z_SPAN, SurfaceData
from gdstudio.gui.views.colorbar import HeightColorBar

#: How far above the surface paths are drawn (world units; the box is 2 wide, Z_SPAN high).
PATH_LIFT = 0.015 * Z_SPAN
#: Mesh resolution drawn in 3D (the contour view uses the full grid).
MESH = 80
#: Paths are decimated as if the domain were drawn this many pixels wide (the 3D view has no fixed scale).
PATH_PIXELS = 1000
#: Paths of at most this many rows are drawn whole (every step a segment).
EXACT_ROWS = 1500
#: Mouse travel (pixels) below which a press+release is a click, not a rotation.
CLICK_SLOP = 4
#: Camera distance of the default view (world units). pyqtgraph's field of view is horizontal (60°): at 2.9 the
#: near corner of the 2-wide box reached past the right edge, under the colour bar.
CAMERA_DISTANCE = 3.3
#: While runs deliver steps, their paths in 3D are redrawn at most once per this many seconds (the 2-D views
#: follow every delivery). A frame of the 3D view costs the most of the window's frame in software GL; the
#: deliveries in between are drawn by the next redraw (nothing is lost, the path only moves in coarser steps).
#: The final state is always drawn: at once when a run ends, and CATCH_UP_S after the last delivery when
#: deliveries stop (Pause, Step).
LIVE_REDRAW_S = 0.25
#: Longer than the worker's longest wait between deliveries (worker.MAX_COMPUTE_S): the catch-up redraw comes
#: when deliveries have stopped, not while the worker computes (the redraw would compete with it for the GIL).
CATCH_UP_S = 0.5


#: Soft two-sided lighting that keeps the colour map readable: ambient 0.62 + diffuse 0.38·|n·l|
#: (pyqtgraph's "shaded" darkens colours to 20–100 %, which hides the height colours).
SOFT_SHADER = shaders.ShaderProgram("gdstudio_soft", [
    shaders.VertexShader("""
        uniform mat4 u_mvp;
        uniform mat3 u_normal;
        attribute vec4 a_position;
        attribute vec3 a_normal;
        attribute vec4 a_color;
        varying vec4 v_color;
        varying vec3 v_normal;
        void main() {
            v_normal = normalize(u_normal * a_normal);
            v_color = a_color;
            gl_Position = u_mvp * a_position;
        }
    """),
    shaders.FragmentShader("""
        #ifdef GL_ES
        precision mediump float;
        #endif
        varying vec4 v_color;
        varying vec3 v_normal;
        void main() {
            float p = abs(dot(normalize(v_normal), normalize(vec3(0.4, 0.5, 1.0))));
            vec3 rgb = v_color.rgb * (0.62 + 0.38 * p);
            gl_FragColor = vec4(rgb, v_color.a);
        }
    """),
])


def _xray() -> dict:
    """GL options of items drawn over everything, blended: the parts of a path hidden behind the surface
    show faintly through it (drawn last: depth value 10)."""
    return {GL.GL_DEPTH_TEST: False, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
            "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)}


def floor_grid() -> gl.GLGridItem:
    """The grey floor grid under the 2-wide box (both surface views of the window draw it)."""
    grid = gl.GLGridItem()
    grid.setSize(2, 2)
    grid.setSpacing(0.25, 0.25)
    grid.setColor((128, 128, 128, 90))
    return grid


def reset_camera(view: gl.GLViewWidget) -> None:
    """The default camera on the normalised box ([−1, 1]² × [0, Z_SPAN]): all of it in view, seen from above
    one corner (every surface drawn in the box gets it: a function's domain and a model's loss slice)."""
    view.setCameraPosition(pos=QVector3D(0.0, 0.0, 0.45 * Z_SPAN), distance=CAMERA_DISTANCE, elevation=50,
                           azimuth=-100)


def _rgba(color: QColor, alpha: float = 1.0) -> tuple[float, float, float, float]:
    return (color.redF(), color.greenF(), color.blueF(), alpha)


class PickingGLView(gl.GLViewWidget):
    """A GLViewWidget that tells a click from a drag and reports the window position of clicks."""

    sig_clicked = Signal(float, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._press: QPointF | None = None
        self._moved = False

    def mousePressEvent(self, ev):
        self._press = ev.position()
        self._moved = False
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev):
        if self._press is not None:
            d = ev.position() - self._press
            if abs(d.x()) + abs(d.y()) > CLICK_SLOP:
                self._moved = True
        super().mouseMoveEvent(ev)

    def mouseReleaseEvent(self, ev):
        press, self._press = self._press, None
        if press is not None and not self._moved and ev.button() == Qt.MouseButton.LeftButton:
            p = ev.position()
            self.sig_clicked.emit(float(p.x()), float(p.y()))
        super().mouseReleaseEvent(ev)

    def mvp(self) -> np.ndarray:
        """Projection × view matrix (world → clip coordinates) as paintGL uses it."""
        vp = (0, 0, self.width(), self.height())
        return qmatrix_to_numpy(self.projectionMatrix(vp, vp) * self.viewMatrix())


class _RunItems:
    def __init__(self, view: gl.GLViewWidget, color: QColor):
        self.view = view
        self.ghost = gl.GLLinePlotItem(pos=np.zeros((0, 3)), color=_rgba(color, 0.35), width=2.0,
                                       antialias=True, mode="lines", glOptions=_xray())
        self.ghost.setDepthValue(10)
        self.line = gl.GLLinePlotItem(pos=np.zeros((0, 3)), color=_rgba(color), width=3.0, antialias=True,
                                      mode="lines", glOptions="opaque")
        self.now = gl.GLScatterPlotItem(pos=np.zeros((0, 3)), color=_rgba(color), size=16, pxMode=True,
                                        glOptions="translucent")
        self.start = gl.GLScatterPlotItem(pos=np.zeros((0, 3)), color=(1, 1, 1, 1), size=10, pxMode=True,
                                          glOptions="translucent")
        self.items = (self.ghost, self.line, self.start, self.now)
        self.decimators: list[PathDecimator] = []
        for it in self.items:
            view.addItem(it)

    def remove(self) -> None:
        for it in self.items:
            if it in self.view.items:
                self.view.removeItem(it)

    def set_visible(self, v: bool) -> None:
        for it in self.items:
            it.setVisible(v)


class Surface3DView(RunLayers, QWidget):
    """The 3D surface of the current objective with the runs of a :class:`RunModel` on it."""

    sig_point_clicked = Signal(float, float)

    def __init__(self, model: RunModel | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = PickingGLView()
        bg, fg = theme.chart_colors(self)
        self.view.setBackgroundColor(bg)
        self.view.setToolTip("Loss surface, coloured by height. Drag to rotate, wheel to zoom, "
                             "click the surface to start a run there.")
        self.surface: SurfaceData | None = None
        self.surface_item: gl.GLSurfacePlotItem | None = None
        self._world: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.colors: np.ndarray | None = None  # (W, H, 4) RGBA of the drawn mesh
        self.grid = floor_grid()
        self.view.addItem(self.grid)
        self.minima = gl.GLScatterPlotItem(pos=np.zeros((0, 3)), color=(1.0, 0.88, 0.3, 1.0), size=14,
                                           pxMode=True, glOptions=_xray())
        self.minima.setDepthValue(11)
        self.view.addItem(self.minima)
        self.start_marker = gl.GLScatterPlotItem(pos=np.zeros((0, 3)), color=(1, 1, 1, 1), size=12, pxMode=True,
                                                 glOptions="translucent")
        self.view.addItem(self.start_marker)
        self._runs: dict[int, _RunItems] = {}
        self._last_live = -float("inf")  # when the paths were last redrawn for a delivery (self._clock())
        self._stale: set[int] = set()  # runs with deliveries not yet drawn
        self._catch_up = QTimer(self)  # draws what is stale once deliveries stop
        self._catch_up.setSingleShot(True)
        self._catch_up.setInterval(int(1000 * CATCH_UP_S))
        self._catch_up.timeout.connect(self._draw_stale)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)  # a long caption must not set the view's minimum width
        self.caption.setStyleSheet(f"color: {fg.name()}; background: transparent;")
        self.colorbar = HeightColorBar()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.view, 1)
        row.addWidget(self.colorbar)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(row, 1)
        lay.addWidget(self.caption)
        self.view.sig_clicked.connect(self._on_view_clicked)
        self.model: RunModel | None = None
        if model is not None:
            self.set_model(model)
        self.reset_camera()

    # --- model wiring ----------------------------------------------------------------------------------
    #: The clock of the redraw throttle (a test may replace it).
    _clock = staticmethod(time.monotonic)

    def set_model(self, model: RunModel) -> None:
        super().set_model(model)
        model.sig_status.connect(self._on_status)

    def _on_data(self, run_ids: list) -> None:
        """New steps: redraw now if the last redraw is LIVE_REDRAW_S old, else later (see LIVE_REDRAW_S)."""
        self._stale.update(run_ids)
        if self._clock() - self._last_live >= LIVE_REDRAW_S:
            self._draw_stale()
        else:
            self._catch_up.start()  # (re)started by every delivery: fires once they stop

    def _draw_stale(self) -> None:
        self._catch_up.stop()
        self._last_live = self._clock()
        stale, self._stale = sorted(self._stale), set()
        super()._on_data(stale)

    def _on_status(self, run_id: int) -> None:
        """A run ended (or its status changed): draw its last steps now."""
        if run_id in self._stale:
            self._stale.discard(run_id)
            e = self.model.get(run_id) if self.model is not None else None
            if e is not None:
                self._redraw(e)
            if not self._stale:
                self._catch_up.stop()

    # --- per-run items (RunLayers does the model bookkeeping) -------------------------------------------
    def _new_layer(self, e: RunEntry) -> "_RunItems":
        self.start_marker.setData(pos=np.zeros((0, 3)))
        return _RunItems(self.view, e.color)

    def _decimators(self, items: "_RunItems", e: RunEntry) -> list[PathDecimator]:
        (x0, x1), (y0, y1) = self.surface.domain
        key = self.surface.domain
        if len(items.decimators) != e.n_starts or getattr(items, "domain", None) != key:
            scale = ((x1 - x0) / PATH_PIXELS, (y1 - y0) / PATH_PIXELS)
            mx, my = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
            items.decimators = [PathDecimator(scale, (x0 - mx, x1 + mx, y0 - my, y1 + my), 2 * PATH_PIXELS)
                                for _ in range(e.n_starts)]
            items.domain = key
        return items.decimators

    def _segments(self, e: RunEntry, items: "_RunItems") -> np.ndarray:
        """(2M, 3) world end points of the drawn segments of a run's decimated paths (mode "lines").

        Each start's path is decimated (:mod:`gdstudio.core.decimate`, new rows only) as if the domain were
        :data:`PATH_PIXELS` wide; a stretch off the map (a diverging run) is not drawn: the path stops a little
        past the surface's edge rather than draw long lines through empty space (the contour map and the loss
        chart still show where it went).
        """
        s = self.surface
        x_all, f_all = e.x, e.loss
        (x0, x1), (y0, y1) = s.domain
        mx, my = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
        segs = []
        for i, dec in enumerate(self._decimators(items, e)):
            dec.extend(x_all[:, i, :2])
            if len(x_all) <= EXACT_ROWS:
                idx, gaps = np.arange(len(x_all)), np.zeros(len(x_all), dtype=bool)
            else:
                idx, gaps = dec.indices(), dec.gaps()
            x, f = x_all[idx, i, :2], f_all[idx, i]
            w = s.to_world(x[:, 0], x[:, 1], f)
            w[:, 2] = np.clip(w[:, 2], -0.5 * Z_SPAN, 2.0 * Z_SPAN) + PATH_LIFT
            with np.errstate(invalid="ignore"):
                off = (x[:, 0] < x0 - mx) | (x[:, 0] > x1 + mx) | (x[:, 1] < y0 - my) | (x[:, 1] > y1 + my)
            w[off] = np.nan
            a, b = w[:-1], w[1:]
            ok = np.all(np.isfinite(a), axis=-1) & np.all(np.isfinite(b), axis=-1) & ~gaps[1:]
            segs.append(np.stack([a[ok], b[ok]], axis=1).reshape(-1, 3))
        return np.concatenate(segs) if segs else np.zeros((0, 3))

    def _redraw(self, e: RunEntry) -> None:
        items = self._runs.get(e.run_id)
        if items is None or self.surface is None or not len(e):
            return
        seg = self._segments(e, items)
        items.line.setData(pos=seg if len(seg) else np.zeros((0, 3)))
        items.ghost.setData(pos=seg if len(seg) else np.zeros((0, 3)))
        x0 = e.x[0]
        w0 = self.surface.to_world(x0[:, 0], x0[:, 1], e.loss[0])
        w0[:, 2] = np.clip(w0[:, 2], -0.5 * Z_SPAN, 2.0 * Z_SPAN) + PATH_LIFT
        items.start.setData(pos=w0[np.all(np.isfinite(w0), axis=-1)])
        cur = [e.current(i) for i in range(e.n_starts)]
        pts = np.array([[c[0][0], c[0][1], c[1]] for c in cur if c is not None]).reshape(-1, 3)
        if len(pts):
            now = self.surface.to_world(pts[:, 0], pts[:, 1], pts[:, 2])
            now[:, 2] = np.clip(now[:, 2], -0.5 * Z_SPAN, 2.0 * Z_SPAN) + 1.5 * PATH_LIFT
            items.now.setData(pos=now)
        else:
            items.now.setData(pos=np.zeros((0, 3)))

    # --- the objective -------------------------------------------------------------------------------
    def set_surface(self, surface: SurfaceData) -> None:
        """Show a new objective's surface (coloured by height; holes transparent) and reset the camera."""
        self.surface = surface
        self.colorbar.set_surface(surface)
        X, Y, Z = surface.world_grid()
        step = max(1, int(np.ceil(len(X) / MESH)))
        X, Y, Z = X[::step], Y[::step], Z[::step, ::step]
        self._world = (X, Y, Z)
        finite = np.isfinite(Z)
        zn = np.where(finite, Z / Z_SPAN, 0.0)
        colors = theme.height_colormap().map(np.clip(zn, 0, 1), mode="float")
        colors = np.asarray(colors, dtype=np.float32).reshape(Z.shape + (4,))
        colors[~finite, 3] = 0.0  # holes (NaN: f undefined there) are transparent
        self.colors = colors
        zdraw = np.where(finite, Z, 0.0)
        opts = "translucent" if not finite.all() else "opaque"
        if self.surface_item is not None:
            self.view.removeItem(self.surface_item)
        # pyqtgraph 0.14 wants colours flattened to (W*H, 4) (docs/platform-notes.md, fact 2).
        self.surface_item = gl.GLSurfacePlotItem(x=X, y=Y, z=zdraw, colors=colors.reshape(-1, 4),
                                                 shader=SOFT_SHADER, smooth=True, glOptions=opts)
        self.view.addItem(self.surface_item)
        mins = surface.objective.minima()
        if mins:
            m = np.array([[c.x[0], c.x[1], c.value] for c in mins])
            w = surface.to_world(m[:, 0], m[:, 1], m[:, 2])
            w[:, 2] += 2 * PATH_LIFT
            self.minima.setData(pos=w)
        else:
            self.minima.setData(pos=np.zeros((0, 3)))
        (x0, x1), (y0, y1) = surface.domain
        scale = "log(1 + f − f_min)" if surface.log else "f"
        self.caption.setText(f"  {surface.objective.title or surface.objective.name}:  x ∈ [{x0:g}, {x1:g}],  "
                             f"y ∈ [{y0:g}, {y1:g}];  height and colour: {scale}")
        for rid in list(self._runs):
            e = self.model.get(rid) if self.model is not None else None
            if e is not None:
                self._redraw(e)
        self.reset_camera()

    def reset_camera(self) -> None:
        reset_camera(self.view)

    def set_start(self, x: float, y: float) -> None:
        """Show where the next run will start (while no run is shown)."""
        if self.surface is None or self._runs:
            self.start_marker.setData(pos=np.zeros((0, 3)))
            return
        f = float(self.surface.objective.value(np.array([x, y])))
        w = self.surface.to_world(np.array([x]), np.array([y]), np.array([f]))
        w[:, 2] += PATH_LIFT
        self.start_marker.setData(pos=w if np.all(np.isfinite(w)) else np.zeros((0, 3)))

    # --- clicks ------------------------------------------------------------------------------------------
    def pick(self, px: float, py: float) -> tuple[float, float] | None:
        """The (x, y) of the surface point under window position (px, py) of the GL view, or None."""
        if self._world is None:
            return None
        origin, direction = mouse_ray(self.view.mvp(), px, py, self.view.width(), self.view.height())
        hit = pick_surface(origin, direction, *self._world)
        if hit is None:
            return None
        x, y = self.surface.from_world(hit[0], hit[1])
        return float(x), float(y)

    def screen_position(self, x: float, y: float) -> tuple[float, float]:
        """Window position in the GL view of the surface point above (x, y): for tests and overlays."""
        f = float(self.surface.objective.value(np.array([x, y])))
        w = self.surface.to_world(np.array(x), np.array(y), np.array(f))
        return project(self.view.mvp(), w, self.view.width(), self.view.height())

    def _on_view_clicked(self, px: float, py: float) -> None:
        p = self.pick(px, py)
        if p is not None:
            self.sig_point_clicked.emit(*p)


if __name__ == "__main__":  # preview: python -m gdstudio.gui.views.surface3d [objective]
    import sys

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from gdstudio.core.objectives import get_objective, objective_names

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication(sys.argv)
    name = sys.argv[1] if len(sys.argv) > 1 else ("rosenbrock" if "rosenbrock" in objective_names() else "booth")
    view = Surface3DView(RunModel())
    view.set_surface(SurfaceData.from_objective(get_objective(name)))
    view.sig_point_clicked.connect(lambda x, y: print(f"picked ({x:.4g}, {y:.4g})"))
    view.resize(800, 600)
    view.show()
    sys.exit(app.exec())
