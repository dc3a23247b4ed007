"""Render the app icon's PNG sizes (and a Windows .ico, a macOS .icns) from resources/icons/gdstudio.svg (the source of truth).

Run after changing the SVG, and commit the PNGs::

    QT_QPA_PLATFORM=offscreen python packaging/make_icons.py

Uses QtSvg's renderer on a transparent ARGB image with antialiasing (no display needed).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256, 512)
#: Icons for the executables PyInstaller makes on other systems (Qt writes one size per file). They are
#: build inputs, not resources the running app loads, so they live in packaging/icons/.
PLATFORM_DIR = Path(__file__).resolve().parent / "icons"
PLATFORM_ICONS = {"gdstudio.ico": ("ICO", 256), "gdstudio.icns": ("ICNS", 512)}


def render(svg: Path, size: int) -> QImage:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def main(argv: list[str] | None = None) -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - fonts and image I/O need it
    svg = ICONS / "gdstudio.svg"
    for size in SIZES:
        out = ICONS / f"gdstudio-{size}.png"
        if not render(svg, size).save(str(out), "PNG"):
            raise SystemExit(f"cannot write {out}")
        print(out.relative_to(ICONS.parents[1]))
    for name, (fmt, size) in PLATFORM_ICONS.items():
        PLATFORM_DIR.mkdir(exist_ok=True)
        out = PLATFORM_DIR / name
        if not render(svg, size).save(str(out), fmt):
            raise SystemExit(f"cannot write {out}")
        print(out.relative_to(ICONS.parents[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
