"""Screenshot of the real window: open it, run the first-launch run to the end, save a PNG.

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshot.py [--out docs/screenshots/main-window.png]
        [--dark] [--size 1440x900] [--objective NAME] [--optimizer NAME] [--lr EPS] [--start X,Y]
        [--epochs N] [--sweep "0.12, 0.1, 0.01, 0.001"]

The README's learning-rate sweep::

    python scripts/screenshot.py --out docs/screenshots/sweep.png --objective quadratic --param kappa=15 \
        --optimizer gd --start=-4.5,2.5 --epochs 100 --sweep "0.14, 0.1, 0.01, 0.001"

(Hessian eigenvalues 1 and κ = 15: gradient descent is stable for ε < 2/15 ≈ 0.133, so 0.14 diverges.)

``QWidget.grab()`` of a window holding a QOpenGLWidget may leave the GL area blank, so the 3D view's own
framebuffer (``grabFramebuffer()``) is painted over its place in the grab.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def dark_palette():
    from PySide6.QtGui import QColor, QPalette

    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e1e", QPalette.ColorRole.AlternateBase: "#2b2b2b",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.Highlight: "#3d7bd9",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#353535",
        QPalette.ColorRole.ToolTipText: "#e6e6e6", QPalette.ColorRole.PlaceholderText: "#9a9a9a",
    }
    for role, c in roles.items():
        p.setColor(role, QColor(c))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return p


def styled_app(dark: bool = False):
    """The app's QApplication in the Fusion style (the same look on every desktop), dark if asked."""
    from PySide6.QtWidgets import QStyleFactory

    from gdstudio.gui.app import make_app

    app = make_app([])
    app.setStyle(QStyleFactory.create("Fusion"))
    if dark:
        app.setPalette(dark_palette())
    return app


def grab_window(window):
    """The window as a QImage, with the GL view's framebuffer composed in."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QPainter

    img = window.grab().toImage()
    gl_view = window.surface_view.view
    if gl_view.isVisible() and gl_view.isValid():
        fb = gl_view.grabFramebuffer()
        top_left = gl_view.mapTo(window, QPoint(0, 0))
        p = QPainter(img)
        p.drawImage(top_left, fb.scaled(gl_view.size()))
        p.end()
    return img


def save_and_close(window, out: str, what: str) -> int:
    """Grab the window (GL composed in), write it to ``out``, close the window; print ``what``; exit code."""
    from PySide6.QtWidgets import QApplication

    img = grab_window(window)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok = img.save(str(path))
    print(f"{'wrote' if ok else 'FAILED to write'} {path} ({img.width()}x{img.height()}); {what}")
    window.close()
    QApplication.processEvents()
    return 0 if ok else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "main-window.png"))
    ap.add_argument("--dark", action="store_true", help="use a dark palette")
    ap.add_argument("--size", default="1440x900")
    ap.add_argument("--objective", default=None)
    ap.add_argument("--optimizer", default=None)
    ap.add_argument("--lr", type=float, default=None, help="learning rate ε of the optimizer")
    ap.add_argument("--start", default=None, help="start point x,y")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="an objective parameter, e.g. kappa=15 (repeatable)")
    ap.add_argument("--sweep", default=None, help="run a learning-rate sweep over these ε instead of one run")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args(argv)

    app = styled_app(args.dark)
    from gdstudio.core.runs import RunConfig
    from gdstudio.gui import defaults
    from gdstudio.gui.main_window import MainWindow

    cfg = defaults.first_config()
    if args.objective or args.optimizer:
        cfg = cfg.replace(objective=args.objective or cfg.objective, optimizer=args.optimizer or cfg.optimizer,
                          hyperparams=cfg.hyperparams if not args.optimizer else ())
        cfg = RunConfig.create(**{**cfg.to_dict()})
    if args.lr is not None:
        cfg = cfg.replace(hyperparams={**cfg.hp, "lr": args.lr})
    if args.start:
        cfg = cfg.replace(starts=(tuple(float(v) for v in args.start.split(",")),))
    if args.epochs is not None:
        cfg = cfg.replace(epochs=args.epochs)
    if args.param:
        cfg = cfg.replace(objective_params={k: float(v) for k, v in (p.split("=", 1) for p in args.param)})
    w, h = (int(v) for v in args.size.split("x"))
    window = MainWindow(cfg)
    window.resize(w, h)
    window.show()
    if args.sweep:  # the picture is the runs: only the settings dock beside the views
        from PySide6.QtWidgets import QDockWidget

        for dock in window.findChildren(QDockWidget):
            if dock is not window.panel_dock:
                dock.hide()
    window.controller.set_speed(float("inf"))
    if args.sweep:
        from gdstudio.gui.views.compare import parse_lrs

        if not window.sweep(parse_lrs(args.sweep)):
            print(f"the sweep did not start: {window.statusBar().currentMessage()}")
            return 1
    else:
        window.run()
    t0 = time.monotonic()
    while window.controller.busy and time.monotonic() - t0 < args.timeout:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    return save_and_close(window, args.out, f"status: {window.status_text()}")


if __name__ == "__main__":
    sys.exit(main())
