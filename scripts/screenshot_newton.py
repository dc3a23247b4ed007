"""Screenshot of the real window explaining a Newton step: quadratic model, arrows, Hessian axes.

    xvfb-run -a -s "-screen 0 1920x1080x24" python scripts/screenshot_newton.py \
        [--out docs/screenshots/newton-step.png] [--dark] [--size 1600x1000] [--start 2.2,3.2] [--step 0]

Opens the window on Himmelblau with Newton's method, runs to the end, selects a step, turns on the
"see why" overlays (View ▸ See why: arrows, quadratic model, Hessian axes, critical points) and the
inspector's Hessian tab, and saves the window (GL view composed in, see ``screenshot.grab_window``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "newton-step.png"))
    ap.add_argument("--dark", action="store_true", help="use a dark palette")
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--objective", default="himmelblau")
    ap.add_argument("--optimizer", default="newton")
    ap.add_argument("--start", default="2.2,3.2", help="x0,y0")
    ap.add_argument("--step", type=int, default=0, help="the step to explain")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--layers", default="arrows,quadratic,hessian,critical")
    ap.add_argument("--tab", default="Hessian")
    args = ap.parse_args(argv)

    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QVector3D
    from screenshot import save_and_close, styled_app

    app = styled_app(args.dark)
    from gdstudio.core.runs import RunConfig
    from gdstudio.gui.main_window import MainWindow
    from gdstudio.gui.views.inspector import TABS

    x0, y0 = (float(v) for v in args.start.split(","))
    cfg = RunConfig.create(args.objective, args.optimizer, starts=[(x0, y0)], epochs=args.epochs)
    w, h = (int(v) for v in args.size.split("x"))
    window = MainWindow(cfg)
    window.resize(w, h)
    window.show()
    window.controller.set_speed(float("inf"))
    window.run()
    t0 = time.monotonic()
    while window.controller.busy and time.monotonic() - t0 < 30:
        app.processEvents()
        time.sleep(0.01)
    sw = window.see_why
    window.actions.show_loss.setChecked(False)  # the picture gets the height
    sw.dock.show()  # hidden at first launch; the picture is about it
    window.resizeDocks([sw.dock], [520], Qt.Orientation.Horizontal)
    half = window.top_splitter.width() // 2
    window.top_splitter.setSizes([half, half])
    for name in args.layers.split(","):
        if name:
            sw.layer_actions[name].setChecked(True)
    sw.timeline.select(args.step)
    sw.inspector.tabs.setCurrentIndex(TABS.index(args.tab))
    # 3D camera: look at the selected point from above the slope
    pic = sw.picture
    if pic is not None and window.surface is not None:
        e = pic.explanation
        wpt = window.surface.to_world(e.x[0], e.x[1], e.value)
        window.surface_view.view.setCameraPosition(pos=QVector3D(float(wpt[0]), float(wpt[1]), float(wpt[2])),
                                                   distance=1.35, elevation=30, azimuth=-112)
    for _ in range(30):
        app.processEvents()
        time.sleep(0.02)
    k = pic.explanation.k if pic is not None else None
    return save_and_close(window, args.out,
                          f"step {k}; x_k = {None if pic is None else np.round(pic.explanation.x, 4).tolist()}")


if __name__ == "__main__":
    sys.exit(main())
