"""File ▸ Export image: PNG of every view (and of all of them), SVG of the 2D views; an unwritable place
gives a message and changes no file."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from gdstudio.gui import image_export

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def shown(monkeypatch):
    """Message boxes recorded instead of shown (a modal box would block the test)."""
    out = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: out.append(a[2]) or QMessageBox.StandardButton.Ok)
    return out


@pytest.fixture
def finished(window, qtbot):
    with qtbot.waitSignal(window.sig_all_finished, timeout=20000):
        window.run()
    return window


def pixels(path) -> np.ndarray:
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGBA8888)
    assert not img.isNull()
    a = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(img.height(), img.bytesPerLine())
    return a[:, : 4 * img.width()].reshape(img.height(), img.width(), 4)


@pytest.mark.parametrize("view", ["all", "3d", "contour", "loss"])
def test_png_of_each_view(finished, tmp_path, view, shown):
    path = tmp_path / f"{view}.png"
    assert finished.export_image(str(path), view=view)
    px = pixels(path)
    assert px.shape[0] > 100 and px.shape[1] > 100
    # a picture, not a blank: many distinct colours
    assert len(np.unique(px.reshape(-1, 4)[:, :3], axis=0)) > 20
    assert shown == []


def test_all_views_include_the_3d_picture(finished, tmp_path):
    path = tmp_path / "all.png"
    assert finished.export_image(str(path), view="all")
    px = pixels(path)
    sv = finished.surface_view.view
    top_left = sv.mapTo(finished.centralWidget(), sv.rect().topLeft())
    gl = px[top_left.y():top_left.y() + sv.height(), top_left.x():top_left.x() + sv.width(), :3]
    assert len(np.unique(gl.reshape(-1, 3), axis=0)) > 20  # the GL surface, not an empty rectangle


@pytest.mark.parametrize("view", ["contour", "loss"])
def test_svg_of_the_2d_views(finished, tmp_path, view, shown):
    path = tmp_path / f"{view}.svg"
    assert finished.export_image(str(path), view=view), shown
    root = ET.parse(path).getroot()  # well-formed XML
    assert root.tag.endswith("svg")
    assert len(list(root.iter())) > 10
    assert path.stat().st_size > 1000


def test_svg_of_the_3d_view_is_refused(finished, tmp_path, shown):
    assert not finished.export_image(str(tmp_path / "x.svg"), view="3d")
    assert "PNG" in shown[0] and not (tmp_path / "x.svg").exists()


def test_unwritable_place_gives_a_message(finished, tmp_path, shown):
    assert not finished.export_image(str(tmp_path / "no" / "such" / "folder.png"), view="contour")
    assert "Could not write" in shown[-1] and "No file was changed" in shown[-1]
    target = tmp_path / "taken.png"
    target.mkdir()
    assert not finished.export_image(str(target), view="all")
    assert target.is_dir() and list(tmp_path.glob(".taken.png*")) == []  # no temporary left behind


def test_menu_has_one_entry_per_view(window):
    assert set(window.actions.export_image) == set(image_export.VIEWS)
    menu = window.findChild(type(window.menuBar().actions()[0].menu()), "export_image_menu")
    assert menu is not None and len(menu.actions()) == len(image_export.VIEWS)


@pytest.mark.parametrize("view", ["contour", "loss"])
def test_svg_draws_what_the_screen_shows(finished, view):
    """The SVG, drawn back by Qt, matches the view on screen: axes, image and path in the same places (an
    SVG drawn at another resolution than the screen's had its axes shifted: 2.5–3.7 % of pixels differed
    against 1.5–1.8 % when right)."""
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgRenderer
    from PySide6.QtWidgets import QDockWidget

    for d in finished.findChildren(QDockWidget):  # give the views their room
        if d is not finished.panel_dock:
            d.hide()
    finished.resize(1200, 800)
    QApplication.processEvents()
    widget = image_export._plot_widget(finished, view)
    renderer = QSvgRenderer(image_export.render(finished, view, "svg"))
    img = QImage(widget.size(), QImage.Format.Format_ARGB32)
    img.fill(0xFFFFFFFF)
    p = QPainter(img)
    renderer.render(p)
    p.end()

    def rgb(image):
        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        a = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).reshape(image.height(), -1)
        return a[:, : 4 * image.width()].reshape(image.height(), image.width(), 4)[..., :3].astype(int)

    a, b = rgb(img), rgb(widget.grab().toImage())
    assert a.shape == b.shape
    assert (np.abs(a - b).max(-1) > 64).mean() < 0.02
