"""Screenshots of the Model mode: digits + linear SVM trained with SGD, then SGD, momentum and Adam raced.

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshot_models.py [--outdir docs/screenshots]
        [--size 1440x900] [--dark]

Writes ``models-train.png`` (one SGD run: slice on the PCA plane of its path, the path, loss against epochs),
``models-race.png`` (the race on the same model and data, every path projected onto the first run's plane) and
``models-weights.png`` (the race with the Weights tab: the SGD run's class templates).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def grab(window, gl_view):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QPainter

    img = window.grab().toImage()
    if gl_view.isVisible() and gl_view.isValid():
        fb = gl_view.grabFramebuffer()
        p = QPainter(img)
        p.drawImage(gl_view.mapTo(window, QPoint(0, 0)), fb.scaled(gl_view.size()))
        p.end()
    return img


def wait_for(app, signal, timeout=120.0):
    done = []
    signal.connect(lambda *a: done.append(1))
    t = time.monotonic()
    while not done and time.monotonic() - t < timeout:
        app.processEvents()
        time.sleep(0.01)
    if not done:
        raise SystemExit("timed out")
    for _ in range(30):
        app.processEvents()
        time.sleep(0.01)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outdir", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--size", default="1440x900")
    ap.add_argument("--dark", action="store_true")
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args(argv)

    from screenshot import styled_app

    app = styled_app(args.dark)
    from gdstudio.gui.main_window import MainWindow

    w, h = (int(v) for v in args.size.split("x"))
    window = MainWindow()
    window.resize(w, h)
    window.show()
    window.actions.speed.set_speed(float("inf"))
    app.processEvents()
    mm = window.model_mode
    mm.model_radio.click()
    p = mm.panel
    p.set_model("svm")
    p.set_optimizer("gd", lr=0.1)
    p.batch_combo.setCurrentText("64")
    p.epochs_spin.setValue(args.epochs)
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    gl_view = mm.workspace.surface_view.view

    window.actions.run.trigger()
    wait_for(app, mm.sig_slice_shown)
    grab(window, gl_view).save(str(out / "models-train.png"))
    print("wrote models-train.png:", window.status_label.text())

    mm.race([("gd", {"lr": 0.1}), ("momentum", {"lr": 0.05}), ("adam", {"lr": 0.01})])  # the race dialog's defaults
    wait_for(app, mm.sig_slice_shown)
    grab(window, gl_view).save(str(out / "models-race.png"))
    print("wrote models-race.png:", window.status_label.text())
    mm.workspace.charts.setCurrentIndex(3)
    app.processEvents()
    grab(window, gl_view).save(str(out / "models-weights.png"))
    print("wrote models-weights.png")
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
