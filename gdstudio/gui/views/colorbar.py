"""The legend of heights: a colour bar in the height colour map, with ticks in f.

For ``log_levels`` objectives the colours follow c = log(1 + f − f_min) (see
:mod:`gdstudio.gui.surface_data`); the ticks are then placed at round values of f − f_min (0, 1, 10, 100...)
and labelled with f, so the bar reads in the objective's own units.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from gdstudio.gui import theme
from gdstudio.gui.surface_data import SurfaceData
from gdstudio.gui.views.ticks import log_label


def install_height_ticks(axis: pg.AxisItem, surface: Callable[[], SurfaceData | None]) -> None:
    """Make ``axis`` (a colour bar's) show f values, at decades of f − f_min on log surfaces."""
    orig_strings = axis.tickStrings
    orig_values = axis.tickValues

    def tick_strings(values, scale, spacing):
        s = surface()
        if s is None or not s.log:
            return orig_strings(values, scale, spacing)
        return [log_label(v, plain=(1e-3, 1e4)) for v in s.inverse_display(np.asarray(values, dtype=float))]

    def tick_values(min_val, max_val, size):
        s = surface()
        if s is None or not s.log:
            return orig_values(min_val, max_val, size)
        d = np.array([0.0] + [10.0**k for k in range(0, 16)])
        c = s.display(d + s.fmin)
        keep = (c >= min_val) & (c <= max_val)
        if keep.sum() > 8:
            keep &= np.arange(len(d)) % 2 == 0
        return [(1.0, list(c[keep]))]

    axis.tickStrings = tick_strings
    axis.tickValues = tick_values


class HeightColorBar(pg.GraphicsLayoutWidget):
    """A standalone colour bar of heights (for the 3D view; the contour view inserts its own)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        bg, fg = theme.chart_colors(self)
        self.setBackground(bg)
        self.surface: SurfaceData | None = None
        self.bar = pg.ColorBarItem(values=(0, 1), colorMap=theme.height_colormap(), interactive=False, width=14,
                                   colorMapMenu=False)
        self.bar.axis.setPen(fg)
        self.bar.axis.setTextPen(fg)
        install_height_ticks(self.bar.axis, lambda: self.surface)
        self.addItem(self.bar)
        self.setFixedWidth(78)
        self.ci.setContentsMargins(2, 8, 2, 8)
        self.setToolTip("Colour of the surface: the loss f (log-compressed when f spans decades)")

    def set_surface(self, surface: SurfaceData) -> None:
        self.surface = surface
        self.bar.setLevels((surface.cmin, surface.cmax))
        self.bar.axis.picture = None
        self.bar.axis.update()
