"""Colours and fonts shared by the views: run colours, the height colour map, light/dark awareness.

Run colours are a qualitative palette chosen to stand out on the viridis heat map *and* on light or dark
chart backgrounds; paths are drawn over a dark halo so even a light colour stays readable.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QGraphicsItem, QWidget

#: One colour per run, in order (cycled). Red-orange first: it reads well on viridis.
RUN_COLORS = (
    "#ff4b3e",  # red
    "#ff9f1c",  # orange
    "#ff3ec9",  # magenta
    "#1ec8ff",  # sky blue
    "#b388ff",  # lavender
    "#ffffff",  # white (on the maps; outlined)
    "#c8a165",  # sand
    "#7cff6b",  # light green
)

#: The perceptual colour map for heights.
HEIGHT_CMAP = "viridis"

#: Point size (pt) of axis and label text: large enough to read on a projector.
CHART_FONT_PT = 11


def run_color(index: int) -> QColor:
    return QColor(RUN_COLORS[index % len(RUN_COLORS)])


def height_colormap() -> pg.ColorMap:
    return pg.colormap.get(HEIGHT_CMAP)


def palette_of(widget: QWidget | None = None) -> QPalette:
    if widget is not None:
        return widget.palette()
    app = QApplication.instance()
    return app.palette() if app is not None else QPalette()


def chart_colors(widget: QWidget | None = None) -> tuple[QColor, QColor]:
    """(background, foreground) for a chart that should follow the desktop theme."""
    pal = palette_of(widget)
    return pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)


def style_plot(plot_widget: pg.PlotWidget) -> None:
    """Theme-aware background, axis pens and readable fonts for a PlotWidget."""
    bg, fg = chart_colors(plot_widget)
    plot_widget.setBackground(bg)
    font = QFont()
    font.setPointSize(CHART_FONT_PT)
    pi = plot_widget.getPlotItem()
    for name in ("left", "bottom", "right", "top"):
        ax = pi.getAxis(name)
        ax.setPen(fg)
        ax.setTextPen(fg)
        ax.setTickFont(font)
        ax.enableAutoSIPrefix(False)  # plain numbers; and no label relayout on every frame of a live run
        # Painted from a pixmap while its range and size are unchanged (a live run redraws the plot every
        # delivery; replaying an axis' ticks and labels cost 2–12 ms each in software rendering).
        ax.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    pi.titleLabel.setAttr("color", fg.name())
