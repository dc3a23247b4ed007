"""Open the window: ``gdstudio.gui.app.main(argv) -> exit code``.

``Qt.AA_ShareOpenGLContexts`` must be set before any QApplication exists (pyqtgraph caches shader programs
per class, not per context: without sharing, a second GL view renders black; PLATFORM.md #1).
"""

from __future__ import annotations

import sys
from typing import Sequence

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

APP_NAME = "gdstudio"


def app_icon() -> QIcon | None:
    """The app icon from the resources, or None if the installation lacks it."""
    try:
        from gdstudio import resources

        files = resources.app_icon_files()
    except (ImportError, FileNotFoundError, ValueError):
        return None
    icon = QIcon()
    for f in files:
        icon.addFile(str(f))
    return icon


def make_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (created once, with GL context sharing, names and icon)."""
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QApplication([sys.argv[0] if sys.argv else APP_NAME, *(argv or [])])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    icon = app_icon()
    if icon is not None:
        app.setWindowIcon(icon)
    return app


def main(argv: Sequence[str] | None = None, *, autorun: bool = True) -> int:
    """Open the main window and run the event loop; return the exit code.

    With ``autorun`` the first run starts as soon as the window is up: the first thing a user sees is a
    path moving across the surface.
    """
    app = make_app(list(argv or []))
    from PySide6.QtCore import QTimer

    from gdstudio.gui.main_window import MainWindow  # after the QApplication: pyqtgraph reads its config

    window = MainWindow()
    window.show()
    if autorun:
        QTimer.singleShot(400, window.run)
    code = app.exec()
    window.controller.shutdown()  # idempotent: the close event normally did it already
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
