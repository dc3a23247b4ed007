"""``gdstudio.gui.app.main``: opens the window and returns the event loop's exit code (run in a subprocess)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QCoreApplication, QTimer, Qt
    from PySide6.QtWidgets import QApplication
    from gdstudio.gui import app as gui_app

    import time
    t0 = time.monotonic()

    def check_and_quit():
        a = QApplication.instance()
        ws = [t for t in a.topLevelWidgets() if t.objectName() == "gdstudio_main_window"]
        if (not ws or not len(ws[0].model)) and time.monotonic() - t0 < 20:
            QTimer.singleShot(100, check_and_quit)  # wait for the window and its first run
            return
        try:
            assert QCoreApplication.testAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
            assert a.applicationName() == "gdstudio" and a.organizationName() == "gdstudio"
            w = ws[0]
            assert w.isVisible()
            print("runs", len(w.model), "icon", not a.windowIcon().isNull(), flush=True)
            w.close()
        finally:
            a.quit()

    gui_app.make_app([])  # main() reuses this application
    QTimer.singleShot(100, check_and_quit)
    sys.exit(gui_app.main([]))
""")


def test_main_opens_the_window_autoruns_and_exits_zero(tmp_path):
    script = tmp_path / "open_app.py"
    script.write_text(SCRIPT.format(root=str(ROOT)))
    proc = subprocess.run([sys.executable, "-X", "faulthandler", str(script)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "runs 1 icon True" in proc.stdout  # the first run started by itself; the app has its icon
    assert "QThread: Destroyed" not in proc.stderr
