"""Screenshots of "write your own optimizer": a typed momentum rule raced against built-in SGD and momentum on
Rosenbrock, with See why ▸ Computation graph open at a step; and the rule editor.

    xvfb-run -a -s "-screen 0 1920x1080x24" python scripts/screenshot_rule.py \
        [--out docs/screenshots/own-rule.png] [--editor-out docs/screenshots/rule-editor.png] [--step 25]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

RULE = "param lr = 0.001\nparam mu = 0.9\nv = mu*v + g\nx = x - lr*v\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "own-rule.png"))
    ap.add_argument("--editor-out", default=str(ROOT / "docs" / "screenshots" / "rule-editor.png"))
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--epochs", type=int, default=1500)
    ap.add_argument("--step", type=int, default=25, help="the step of the own rule's run to explain")
    args = ap.parse_args(argv)

    from PySide6.QtCore import Qt
    from screenshot import save_and_close, styled_app

    app = styled_app()
    from gdstudio.core.runs import RunConfig
    from gdstudio.gui.main_window import MainWindow
    from gdstudio.gui.views.graph_view import TAB_TITLE

    spec = "rule:" + RULE
    cfg = RunConfig.create("rosenbrock", spec, starts=[(-1.5, 2.0)], epochs=args.epochs,
                           hyperparams={"lr": 1e-3, "mu": 0.9})
    w, h = (int(v) for v in args.size.split("x"))
    window = MainWindow(cfg)
    window.resize(w, h)
    window.show()
    window.controller.set_speed(float("inf"))

    def settle(n=20):
        for _ in range(n):
            app.processEvents()
            time.sleep(0.02)

    settle()
    dlg = window.side_panel.rule_choice.open_editor()
    dlg.resize(620, 420)
    settle()
    img = dlg.grab()
    Path(args.editor_out).parent.mkdir(parents=True, exist_ok=True)
    print(f"{'wrote' if img.save(args.editor_out) else 'FAILED to write'} {args.editor_out}")
    dlg.reject()
    ids = window.race([(spec, {"lr": 1e-3, "mu": 0.9}), ("gd", {"lr": 1e-3}),
                       ("momentum", {"lr": 1e-3, "momentum": 0.9})])
    t0 = time.monotonic()
    while window.controller.busy and time.monotonic() - t0 < 60:
        app.processEvents()
        time.sleep(0.01)
    sw = window.see_why
    sw.dock.show()
    window.resizeDocks([sw.dock], [760], Qt.Orientation.Horizontal)
    half = window.top_splitter.width() // 2
    window.top_splitter.setSizes([half, half])
    tabs = sw.inspector.tabs
    tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == TAB_TITLE))
    sw.select_step(args.step, run_id=ids[0])
    settle(30)
    labels = [window.model.get(i).label for i in ids]
    return save_and_close(window, args.out, f"runs {labels}; step {args.step} explained")


if __name__ == "__main__":
    sys.exit(main())
