"""Open the window: ``gdstudio.gui.app.main(argv) -> exit code``.

Only the very first launch (an empty settings store) starts a short demo run by itself; later launches
restore the remembered settings and wait for Run (a remembered 10-million-epoch run never restarts by
itself). Without a display (Linux/BSD: no ``DISPLAY`` or ``WAYLAND_DISPLAY``, and no display-less Qt
platform chosen with ``QT_QPA_PLATFORM``), :func:`main` prints one line naming ``xvfb-run`` and
``gdstudio run`` and returns 2, before Qt can abort with a misleading message about missing libraries.

``argv`` may hold ``SESSION.gdsession`` (opened once the window is up, instead of the first-launch run),
``--quit-after SECONDS`` (the window is shown, then closed after that many seconds with exit status 0:
smoke tests of the installed app) and ``--screenshot PNG`` (with ``--quit-after``: the window is saved
there just before closing). SIGINT, SIGTERM and SIGHUP close the window as its close button does, so the
settings are saved, and the exit status is 128 + the signal's number (:mod:`gdstudio.gui.stop_signals`).
Unexpected errors are logged and shown in a dialog
(:func:`gdstudio.gui.errors.install`); the app keeps running. Settings are read from and saved to the
user's store, or to the INI file named by the environment variable :data:`SETTINGS_ENV` (tests use it so
they never touch the user's settings).

``Qt.AA_ShareOpenGLContexts`` must be set before any QApplication exists (pyqtgraph caches shader programs
per class, not per context: without sharing, a second GL view renders black; docs/platform-notes.md, fact 1).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

APP_NAME = "gdstudio"
#: Exit status when there is no display to open the window on (the command line's usage status).
EXIT_NO_DISPLAY = 2
#: Qt platform plugins that need no display server.
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")


def display_problem(environ=None, platform: str | None = None) -> str | None:
    """Why the window cannot open here (one line), or None when a display is available.

    Only Linux and the BSDs need a display server (X11 or Wayland); macOS and Windows always have one.
    """
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "cygwin", "darwin")):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip().lower()
    if qpa.startswith(HEADLESS_PLATFORMS):
        return None
    if qpa == "xcb":
        ok = bool(env.get("DISPLAY"))
    elif qpa.startswith("wayland"):
        ok = bool(env.get("WAYLAND_DISPLAY"))
    else:
        ok = bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    if ok:
        return None
    return ("gdstudio: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set). Run it "
            "under a virtual display with `xvfb-run -a gdstudio`, or without a window with `gdstudio run "
            "--objective NAME --optimizer NAME --start X Y` (see `gdstudio run --help`).")
#: Environment variable: path of an INI file to use as the settings store instead of the user's.
SETTINGS_ENV = "GDSTUDIO_SETTINGS"


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


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """The window's own options (see the module docstring); the rest is left to Qt."""
    p = argparse.ArgumentParser(prog="gdstudio", add_help=False)
    p.add_argument("--quit-after", type=float, default=None)
    p.add_argument("--screenshot", default=None)
    p.add_argument("session", nargs="?", default=None)
    return p.parse_known_args(list(argv))


def main(argv: Sequence[str] | None = None, *, autorun: bool = True) -> int:
    """Open the main window and run the event loop; return the exit code.

    With ``autorun``, on the first launch only (nothing in the settings store yet), the demo run starts
    as soon as the window is up: the first thing a new user sees is a path moving across the surface.
    """
    opts, rest = parse_args(argv or [])
    problem = display_problem() if QApplication.instance() is None else None
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
    app = make_app(rest)
    from PySide6.QtCore import QTimer

    from gdstudio.gui import errors, settings
    from gdstudio.gui.main_window import MainWindow  # after the QApplication: pyqtgraph reads its config

    errors.install(app)
    store = settings.open_store(os.environ.get(SETTINGS_ENV) or None)
    first_launch = not store.allKeys()
    window = MainWindow(store=store)
    if not window.settings.window_geometry:  # first launch: a generous window, centred, within the screen
        screen = app.primaryScreen().availableGeometry()
        hint = window.sizeHint()
        w, h = min(hint.width(), int(screen.width() * 0.92)), min(hint.height(), int(screen.height() * 0.92))
        window.resize(w, h)
        window.move(screen.x() + (screen.width() - w) // 2, screen.y() + (screen.height() - h) // 2)
    window.show()
    from gdstudio.gui import stop_signals

    stops = stop_signals.install(app)  # SIGINT/SIGTERM/SIGHUP close the window as its button does (saves settings)
    if opts.session:
        QTimer.singleShot(0, lambda: window.open_session(opts.session))
    elif autorun and first_launch:
        QTimer.singleShot(400, window.run)
    elif not window.pending_formula.first_surface_pending():  # (else the status bar says it is compiling)
        window.statusBar().showMessage("Settings restored: press Run (F5) to start", 8000)
    if opts.quit_after is not None:
        def quit_now():
            if opts.screenshot:
                window.grab().save(opts.screenshot)
            window.close()
            app.quit()

        QTimer.singleShot(max(0, int(opts.quit_after * 1000)), quit_now)
    code = app.exec()
    stops.uninstall()
    window.controller.shutdown()  # idempotent: the close event normally did it already
    errors.uninstall()
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
