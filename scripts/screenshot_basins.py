"""Screenshot of the real window with View ▸ Basins of attraction on (the basin map as a layer of the contour map).

    xvfb-run -a -s "-screen 0 1920x1080x24" python scripts/screenshot_basins.py \
        [--out docs/screenshots/basins-newton.png] [--optimizer newton] [--objective himmelblau] [--dark]

Opens the window on the objective with the optimizer, turns the layer on, waits for the map (computed on
the worker thread), runs once from ``--start`` so a path shows over it, hovers a pixel so the status bar
says where that start ends, and saves the window.
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
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "basins-newton.png"))
    ap.add_argument("--dark", action="store_true", help="use a dark palette")
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--objective", default="himmelblau")
    ap.add_argument("--optimizer", default="newton")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--start", default="0.6,0.9", help="x0,y0 of the run drawn over the map")
    ap.add_argument("--hover", default="-1.2,-0.4", help="x,y of the pixel to hover")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QPointF
    from screenshot import save_and_close, styled_app

    app = styled_app(args.dark)
    from gdstudio.core.runs import RunConfig
    from gdstudio.gui.main_window import MainWindow

    x0, y0 = (float(v) for v in args.start.split(","))
    hp = {} if args.lr is None else {"lr": args.lr}
    cfg = RunConfig.create(args.objective, args.optimizer, starts=[(x0, y0)], epochs=args.epochs, hyperparams=hp)
    w, h = (int(v) for v in args.size.split("x"))
    window = MainWindow(cfg)
    window.resize(w, h)
    window.show()
    window.controller.set_speed(float("inf"))
    window.actions.show_loss.setChecked(False)
    third = window.top_splitter.width() // 3
    window.top_splitter.setSizes([third, 2 * third])
    b = window.basins
    b.action.setChecked(True)
    t0 = time.monotonic()
    while b.busy and time.monotonic() - t0 < 120:
        app.processEvents()
        time.sleep(0.01)
    window.run()
    t0 = time.monotonic()
    while window.controller.busy and time.monotonic() - t0 < 30:
        app.processEvents()
        time.sleep(0.01)
    hx, hy = (float(v) for v in args.hover.split(","))
    vb = window.contour_view.plot.getViewBox()
    b.layer._on_mouse_moved(vb.mapViewToScene(QPointF(hx, hy)))  # as a mouse move over that pixel would
    for _ in range(30):
        app.processEvents()
        time.sleep(0.02)
    return save_and_close(window, args.out, f"hover: {b.hover_label.text()}")


if __name__ == "__main__":
    sys.exit(main())
