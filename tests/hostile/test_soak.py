"""Done-when soak test (marked slow; CI runs the whole suite, this included): the window opens a session and is
closed mid-run 50 times, in 2 subprocesses of 25 windows each, side by side (each process ends by quitting the
app); every exit status is 0 and Qt prints no warning. A process per window would cost ~6 s each on a loaded
2-core machine (imports, first GL context): 25 windows per process keep the test near a minute."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from gdstudio.core import session as S  # noqa: E402
from gdstudio.core.runs import RunConfig  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
PROCESSES, WINDOWS = 2, 25

SCRIPT = textwrap.dedent("""
    import random, sys
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QEventLoop, QTimer, QtMsgType, qInstallMessageHandler
    from gdstudio.gui.app import make_app

    app = make_app([])
    messages = []

    def handler(kind, context, text):
        if kind != QtMsgType.QtDebugMsg and kind != QtMsgType.QtInfoMsg:
            messages.append(text)
            print("Qt message:", text, file=sys.stderr, flush=True)

    qInstallMessageHandler(handler)
    from gdstudio.gui import settings
    from gdstudio.gui.main_window import MainWindow

    rng = random.Random({seed})
    for i in range({windows}):
        w = MainWindow(store=settings.open_store(sys.argv[2]))
        w.show()
        assert w.open_session(sys.argv[1]), "the session did not open"
        assert w.controller.busy, "the runs should still be going"
        loop = QEventLoop()
        QTimer.singleShot(rng.randint(30, 400), loop.quit)
        loop.exec()  # let it run a little, then close mid-run
        w.close()
        assert not w.controller.engine.isRunning()
        w.deleteLater()
        app.processEvents()
    print("cycles", {windows}, "messages", len(messages), flush=True)
    QTimer.singleShot(0, app.quit)
    sys.exit(app.exec())
""")


def test_open_and_close_mid_run_fifty_times(tmp_path):
    runs = tuple(S.SessionRun(RunConfig.create("rosenbrock", opt, [(-1.5, 2.0), (1.5, 1.5)], 1_000_000, hp))
                 for opt, hp in (("gd", {"lr": 1e-4}), ("momentum", {"lr": 1e-4}), ("adam", {"lr": 1e-2})))
    session = S.save(tmp_path / "soak.gdsession", S.Session("rosenbrock", runs=runs))
    procs = []
    for k in range(PROCESSES):
        script = tmp_path / f"soak{k}.py"
        script.write_text(SCRIPT.format(root=str(ROOT), seed=k, windows=WINDOWS))
        procs.append(subprocess.Popen([sys.executable, "-X", "faulthandler", str(script), str(session),
                                       str(tmp_path / f"s{k}.ini")], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        assert f"cycles {WINDOWS} messages 0" in out, err[-3000:]
        assert "Qt message" not in err and "QThread" not in err and "Traceback" not in err, err[-3000:]
