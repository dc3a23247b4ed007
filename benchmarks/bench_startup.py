"""Start-up: time from `python` to the first painted window, and where it goes.

    xvfb-run -a -s "-screen 0 1280x1024x24 -nolisten tcp" python benchmarks/bench_startup.py [--repeat 5]

Each repeat is a fresh interpreter (so imports are cold in the Python sense, warm in the OS cache) that runs
what ``gdstudio`` runs (:func:`gdstudio.gui.app.main`, first launch: an empty settings file) and stops at the
first paint of the main window. Printed per repeat: wall time and the process's CPU time (all threads,
including Mesa's software rasteriser) at four marks: interpreter up → imports done → window built →
first paint. The CPU figure is what a loaded machine cannot hide; the wall figure is what a user waits.

``--importtime`` also runs one ``python -X importtime`` pass and lists the slowest imports (cumulative).

``--formula TEXT`` measures a later launch whose settings remember that formula as the objective: a fifth
mark, ``formula``, is when the window shows its surface (SymPy compiles it; before this was done in the
background, the window was built only after the compile). ``--root DIR`` runs another source tree (e.g. the
main branch's, for a before/after comparison).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = textwrap.dedent("""
    import time
    T0, C0 = time.perf_counter(), time.process_time()
    import sys
    sys.path.insert(0, {root!r})
    marks = {{}}

    def mark(name):
        marks[name] = (time.perf_counter() - T0, time.process_time() - C0)

    from gdstudio.gui import app as gui_app
    import gdstudio.gui.main_window as mw
    mark("imports")
    FORMULA = {formula!r}
    if FORMULA:  # a later launch: the settings remember this formula
        import os
        from gdstudio.gui import settings as app_settings

        app_settings.save(app_settings.Settings(objective="expr:" + FORMULA),
                          app_settings.open_store(os.environ["GDSTUDIO_SETTINGS"]))
    from PySide6.QtCore import QEvent, QObject, QTimer

    orig_init = mw.MainWindow.__init__

    def init(self, *a, **k):
        orig_init(self, *a, **k)
        mark("built")

        class FirstPaint(QObject):
            def eventFilter(self, obj, ev):
                if ev.type() == QEvent.Type.Paint and "painted" not in marks:
                    QTimer.singleShot(0, done)  # after this paint event has been handled
                return False

        self._bench_filter = FirstPaint(self)
        self.contour_view.plot_widget.viewport().installEventFilter(self._bench_filter)

    def done():
        if "painted" in marks:
            return
        mark("painted")
        if FORMULA:
            win = next(w for w in gui_app.QApplication.instance().topLevelWidgets() if isinstance(w, mw.MainWindow))
            poll = QTimer(win)

            def check():
                if win.objective is not None:
                    poll.stop()
                    mark("formula")
                    report()

            poll.timeout.connect(check)
            poll.start(5)
            check()
            return
        report()

    def report():
        print("MARKS", " ".join(f"{{k}}={{w:.3f}},{{c:.3f}}" for k, (w, c) in marks.items()), flush=True)
        a = gui_app.QApplication.instance()
        for w in a.topLevelWidgets():
            w.close()
        a.quit()

    mw.MainWindow.__init__ = init
    sys.exit(gui_app.main([], autorun=False))
""")


def one_run(ini: str, formula: str = "", root: Path = ROOT) -> dict[str, tuple[float, float]]:
    code = PROBE.format(root=str(root), formula=formula)
    env = dict(os.environ, GDSTUDIO_SETTINGS=ini)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    line = next((s for s in out.stdout.splitlines() if s.startswith("MARKS")), None)
    if line is None:
        raise SystemExit(f"no measurement:\n{out.stderr[-2000:]}")
    marks = {}
    for item in line.split()[1:]:
        k, v = item.split("=")
        w, c = v.split(",")
        marks[k] = (float(w), float(c))
    return marks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--importtime", action="store_true")
    ap.add_argument("--formula", default="", help="settings remembering this formula (a later launch)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the source tree to run (default: this one)")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for i in range(args.repeat):
            ini = os.path.join(d, f"first-{i}.ini")  # a new file each time: the first launch
            rows.append(one_run(ini, args.formula, args.root))
            m = rows[-1]
            print(f"run {i + 1}: " + "  ".join(f"{k} {w:.2f} s (cpu {c:.2f} s)" for k, (w, c) in m.items()))
    for k in rows[0]:
        w = statistics.median(r[k][0] for r in rows)
        c = statistics.median(r[k][1] for r in rows)
        print(f"median {k:8s} wall {w:.2f} s  cpu {c:.2f} s")
    try:
        print(f"load average: {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} CPUs")
    except OSError:
        pass
    if args.importtime:
        out = subprocess.run([sys.executable, "-X", "importtime", "-c",
                              "import gdstudio.gui.app, gdstudio.gui.main_window"],
                             capture_output=True, text=True, cwd=ROOT)
        rows = []
        for line in out.stderr.splitlines():
            if line.startswith("import time:") and "|" in line:
                _, cum, name = (s.strip() for s in line[len("import time:"):].split("|"))
                if cum.isdigit():
                    rows.append((int(cum), name))
        print("slowest imports (cumulative, ms):")
        for cum, name in sorted(rows, reverse=True)[:15]:
            print(f"  {cum / 1000:7.1f}  {name}")
        lazy = ("sympy", "gdstudio.gui.help", "gdstudio.gui.session_io", "scipy", "sklearn", "matplotlib")
        loaded = {name.strip() for _, name in rows}
        print("not imported before the first window:", ", ".join(m for m in lazy if m not in loaded))
    return 0


if __name__ == "__main__":
    sys.exit(main())
