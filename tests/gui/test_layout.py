"""The layout holds: the map keeps a third of the width whatever docks are open, the run list stays in view,
the 3D surface fits its view."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QVector4D
from PySide6.QtWidgets import QApplication, QPushButton

from gdstudio.core.runs import RunConfig

pytestmark = pytest.mark.gui


def settle(qtbot, ms=150):
    qtbot.wait(ms)
    QApplication.processEvents()


@pytest.mark.parametrize("size", [(1440, 900), (1000, 700)])
def test_the_map_keeps_a_third_of_the_window_with_see_why_open(make_window, qtbot, size):
    w = make_window(RunConfig.create("rosenbrock", "gd", [(-1.5, 2.0)], 20, {"lr": 1e-3}), size=size)
    settle(qtbot)
    w.see_why.dock.show()  # View ▸ See why panel
    settle(qtbot, 300)
    assert w.width() == size[0], "the window must not grow"
    assert w.contour_view.width() >= size[0] // 3 - 2
    assert w.surface_view.width() >= 100
    combo = w.side_panel.objective_combo  # another objective with See why open
    combo.setCurrentIndex(combo.findData("himmelblau"))
    settle(qtbot, 300)
    assert w.contour_view.width() >= size[0] // 3 - 2 and w.width() == size[0]
    w.see_why.dock.hide()
    settle(qtbot, 300)
    assert w.contour_view.width() >= size[0] // 3 - 2


def test_the_run_list_and_its_buttons_stay_in_view_and_grow_with_the_panel(make_window, qtbot):
    w = make_window(size=(1000, 700))
    settle(qtbot)
    panel = w.side_panel
    remove_all = next(b for b in panel.runs_list.findChildren(QPushButton) if b.text() == "Remove all")
    bottom = remove_all.mapTo(panel, QPoint(0, remove_all.height())).y()
    assert remove_all.isVisible() and bottom <= panel.height()  # not below the fold
    assert panel.forms_area.verticalScrollBar().isVisible()  # the forms scroll, the list does not go
    w.resize(1200, 900)
    settle(qtbot, 300)
    assert not panel.forms_area.verticalScrollBar().isVisible()  # tall enough: every form shown
    short = panel.runs_list.tree.height()
    w.resize(1200, 1000)
    settle(qtbot, 300)
    assert panel.runs_list.tree.height() >= short + 90  # the extra height went to the list


def test_the_3d_surface_fits_its_view_at_first_launch(make_window, qtbot):
    """Every corner of the surface's box projects inside the GL view (it ran under the colour bar)."""
    w = make_window(RunConfig.create("rosenbrock", "gd", [(-1.5, 2.0)], 20, {"lr": 1e-3}), size=(1440, 900))
    settle(qtbot)
    view = w.surface_view.view
    s = w.surface
    X, Y, Z = s.world_grid()
    z = Z[np.isfinite(Z)]
    corners = [(x, y, h) for x in (X.min(), X.max()) for y in (Y.min(), Y.max()) for h in (z.min(), z.max())]
    m = view.projectionMatrix((0, 0, view.width(), view.height()), view.getViewport()) * view.viewMatrix()
    for x, y, h in corners:
        p = m.map(QVector4D(float(x), float(y), float(h), 1.0))
        ndc_x, ndc_y = p.x() / p.w(), p.y() / p.w()
        assert -1.0 <= ndc_x <= 1.0 and -1.0 <= ndc_y <= 1.0, (x, y, h, ndc_x, ndc_y)
