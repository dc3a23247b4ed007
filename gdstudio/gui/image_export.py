"""File ▸ Export image: the views as PNG (any view, or all of them as on screen) or SVG (the 2D views).

* the contour map and the loss chart go through pyqtgraph's exporters
  (:class:`pyqtgraph.exporters.ImageExporter` for PNG, :class:`~pyqtgraph.exporters.SVGExporter` for SVG),
  which redraw the plot at the requested size. pyqtgraph 0.14's SVG exporter cannot re-parse some paths
  Qt 6.11 writes (a curve command without "x,y") and fails on both plots here; then Qt's
  :class:`QSvgGenerator` paints the view instead, at the widget's own resolution (pyqtgraph's axes replay
  cached QPictures, which a device of another resolution would scale, shifting the axes);
* the 3D view is an OpenGL picture: :meth:`GLViewWidget.grabFramebuffer` gives its pixels (PNG only);
* "all views" is the window's central area as on screen (``QWidget.grab``, which includes the GL view).

What this module needs of the window is the :class:`ExportWindow` protocol (its three views, its central
area, a status bar and a parent for dialogs), not the window's class: the window imports this module, never
the other way round, and a test can hand it any object with those parts.

Exporters render to memory; the bytes are then written to a temporary file in the target folder that
replaces the target (so a failure never leaves half a file), and an unwritable place raises ``OSError``
with the reason, which the window shows.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox, QStatusBar, QWidget

from gdstudio.core.files import atomic_write

log = logging.getLogger(__name__)


class PlotView(Protocol):
    """A 2D view: its pyqtgraph ``PlotWidget`` (the plot with axes, legend and colour bar)."""

    plot_widget: Any


class GLView(Protocol):
    """The 3D view: its ``GLViewWidget`` (``isValid()``, ``grabFramebuffer()``)."""

    view: Any


class ExportWindow(Protocol):
    """What image export uses of the window (a ``QWidget``: it parents the file and message dialogs)."""

    surface_view: GLView
    contour_view: PlotView
    loss_chart: PlotView

    def centralWidget(self) -> QWidget: ...

    def statusBar(self) -> QStatusBar: ...


#: view key -> (menu text, formats offered)
VIEWS = {
    "all": ("All views", ("png",)),
    "3d": ("3D surface", ("png",)),
    "contour": ("Contour map", ("png", "svg")),
    "loss": ("Loss chart", ("png", "svg")),
}
_FILTERS = {"png": "PNG image (*.png)", "svg": "SVG vector image (*.svg)"}


def _png_bytes(image: QImage) -> bytes:
    if image.isNull():
        raise ValueError("the view has nothing to export (is it hidden?)")
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "PNG"):
        raise ValueError("the picture could not be encoded as PNG")
    buf.close()
    return bytes(data.data())


def _plot_widget(window: "ExportWindow", view: str):
    return window.contour_view.plot_widget if view == "contour" else window.loss_chart.plot_widget


def render(window: "ExportWindow", view: str, fmt: str) -> bytes:
    """The picture of ``view`` ("all", "3d", "contour", "loss") as PNG or SVG bytes."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r} (valid: {', '.join(VIEWS)})")
    if fmt not in VIEWS[view][1]:
        raise ValueError(f"{VIEWS[view][0]} can be exported as {' or '.join(VIEWS[view][1]).upper()}, "
                         f"not {fmt.upper()}")
    if view == "all":
        return _png_bytes(window.centralWidget().grab().toImage())
    if view == "3d":
        glv = window.surface_view.view
        if not glv.isValid():
            raise ValueError("the 3D view has no OpenGL picture to export")
        return _png_bytes(glv.grabFramebuffer())
    import pyqtgraph.exporters as pgx

    widget = _plot_widget(window, view)
    item = widget.getPlotItem()  # the plot with its axes, legend and colour bar
    if fmt == "svg":
        try:
            return bytes(pgx.SVGExporter(item).export(toBytes=True))
        except ValueError:
            # pyqtgraph 0.14's SVG exporter fails to re-parse some paths Qt writes (a curve command
            # without "x,y", e.g. from round symbols): fall back to Qt's own SVG generator.
            log.info("pyqtgraph's SVG exporter failed on the %s; using QSvgGenerator", view, exc_info=True)
            return _qt_svg(widget, VIEWS[view][0])
    return _png_bytes(pgx.ImageExporter(item).export(toBytes=True))


def _qt_svg(widget, title: str) -> bytes:
    """``widget`` painted into an SVG by Qt (vector paths; images embedded)."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(widget.size())
    gen.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    # the widget's own resolution: pyqtgraph's axes replay cached QPictures, which a device of another
    # resolution (QSvgGenerator's default is 72 dpi) would scale
    gen.setResolution(widget.logicalDpiX())
    gen.setTitle(f"gdstudio: {title}")
    painter = QPainter(gen)
    try:
        widget.render(painter)
    finally:
        painter.end()
    buf.close()
    out = bytes(data.data())
    if not out.strip():
        raise ValueError("the view could not be drawn as SVG")
    return out


def export_image(window: "ExportWindow", path: str | os.PathLike | None = None, view: str = "all") -> bool:
    """Export ``view`` to ``path`` (asked for when None; the format comes from the suffix, PNG by default).

    Returns whether the file was written; a failure gives a message box and leaves any file as it was.
    """
    title, formats = VIEWS[view]
    if path is None:
        filters = ";;".join(_FILTERS[f] for f in formats)
        path, chosen = QFileDialog.getSaveFileName(window, f"Export image: {title}", f"gdstudio-{view}.{formats[0]}",
                                                   filters)
        if not path:
            return False
        if not Path(path).suffix:
            path += ".svg" if chosen.startswith("SVG") else ".png"
    fmt = Path(path).suffix.lower().lstrip(".") or "png"
    try:
        data = render(window, view, fmt)
        atomic_write(path, data)
    except ValueError as exc:
        QMessageBox.warning(window, "Export image", f"Could not export the {title.lower()}:\n{exc}")
        return False
    except OSError as exc:
        QMessageBox.warning(window, "Export image",
                            f"Could not write {path}:\n{exc.strerror or exc}\n\nNo file was changed.")
        return False
    window.statusBar().showMessage(f"Exported the {title.lower()} to {path}", 6000)
    return True


__all__ = ["VIEWS", "ExportWindow", "export_image", "render"]
