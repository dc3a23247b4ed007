"""Ctrl-C, ``kill`` and a logout close the window as its close button does: the settings are saved."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gdstudio.gui import settings as app_settings

pytestmark = [pytest.mark.gui, pytest.mark.skipif(os.name != "posix", reason="POSIX signals")]
ROOT = Path(__file__).resolve().parents[2]

# The app's own entry point; "ready" is printed from inside its event loop, i.e. once the window is up.
SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QTimer
    from gdstudio.gui import app as gui_app
    app = gui_app.make_app([])
    QTimer.singleShot(0, lambda: print("ready", flush=True))
    sys.exit(gui_app.main([]))
""")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_stop_signal_saves_the_settings_and_exits_with_the_shells_code(tmp_path, sig):
    script = tmp_path / "app.py"
    script.write_text(SCRIPT.format(root=str(ROOT)))
    ini = tmp_path / "s.ini"
    env = dict(os.environ, GDSTUDIO_SETTINGS=str(ini), XDG_STATE_HOME=str(tmp_path / "state"))
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert not ini.exists()  # nothing saved yet: the settings are written when the window closes
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + sig, err[-2000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-2000:]
    saved = app_settings.load(app_settings.open_store(str(ini)))
    assert saved.window_geometry  # the close event ran: the window's layout and the panel were saved
