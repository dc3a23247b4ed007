"""Screenshot of See why in Model mode: softmax regression on digits trained with SGD, a step explained, the line
search along its update open.

    xvfb-run -a -s "-screen 0 1920x1080x24" python scripts/screenshot_model_why.py \
        [--out docs/screenshots/model-why.png] [--tab "Line search"] [--optimizer gd] [--lr 0.1] [--step 5]
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
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "model-why.png"))
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--tab", default="Line search")
    ap.add_argument("--model", default="softmax")
    ap.add_argument("--optimizer", default="gd")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--batch", default="full")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--step", type=int, default=5)
    ap.add_argument("--dock", type=int, default=720, help="width of the See why dock")
    ap.add_argument("--charts-out", default="", help="also save each chart of the shown tab (PATH-<name>.png)")
    args = ap.parse_args(argv)

    from PySide6.QtCore import Qt
    from screenshot import save_and_close, styled_app

    app = styled_app()
    from gdstudio.gui.main_window import MainWindow

    w, h = (int(v) for v in args.size.split("x"))
    window = MainWindow()
    window.resize(w, h)
    window.show()

    def settle(n=20):
        for _ in range(n):
            app.processEvents()
            time.sleep(0.02)

    settle()
    mm = window.model_mode
    mm.set_mode("model")
    p = mm.panel
    p.set_model(args.model)
    p.set_optimizer(args.optimizer, lr=args.lr)
    p.batch_combo.setCurrentText(args.batch)
    p.epochs_spin.setValue(args.epochs)
    mm.worker.set_speed(float("inf"))
    window.actions.run.trigger()
    t0 = time.monotonic()
    while (mm.worker.busy or mm.slice_result is None) and time.monotonic() - t0 < 120:
        app.processEvents()
        time.sleep(0.01)
    dock = window.see_why.dock
    dock.show()
    window.resizeDocks([dock], [args.dock], Qt.Orientation.Horizontal)
    settle()
    why = window.model_why
    why.select(args.step)
    t0 = time.monotonic()
    while why.computing and time.monotonic() - t0 < 30:  # explained on a background thread
        settle(1)
    tabs = why.inspector.tabs
    tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == args.tab))
    settle(30)
    if args.charts_out:
        ins = why.inspector
        for name in ("line_chart", "zoom_chart", "fd_chart"):
            chart = getattr(ins, name)
            if chart.isVisibleTo(ins.tabs.currentWidget()):
                path = f"{args.charts_out}-{name}.png"
                print(f"{'wrote' if chart.grab().save(path) else 'FAILED to write'} {path}")
    return save_and_close(window, args.out, f"{args.model} {args.optimizer} ε={args.lr}: step {args.step}, "
                                            f"{args.tab}")


if __name__ == "__main__":
    sys.exit(main())
