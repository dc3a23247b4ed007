"""Starting the app: the demo run on the first launch only, a clear line without a display."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gdstudio.gui.app import display_problem

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from gdstudio.gui import app as gui_app

    import time

    def report():
        a = QApplication.instance()
        ws = [t for t in a.topLevelWidgets() if t.objectName() == "gdstudio_main_window" and t.isVisible()]
        if ws and not shown[0]:
            shown[0] = time.monotonic()
        if not ws or time.monotonic() - shown[0] < 2.0:
            QTimer.singleShot(100, report)  # 2 s after the window showed (the demo starts after 0.4 s)
            return
        w = ws[0]
        print("runs", len(w.model), "epochs", w.side_panel.epochs_spin.value(), flush=True)
        w.close()
        a.quit()

    shown = [0.0]
    gui_app.make_app([])
    QTimer.singleShot(100, report)
    sys.exit(gui_app.main([]))
""")


def launch(tmp_path, ini: Path) -> str:
    script = tmp_path / "probe.py"
    script.write_text(PROBE.format(root=str(ROOT)))
    env = dict(os.environ, GDSTUDIO_SETTINGS=str(ini))
    proc = subprocess.run([sys.executable, "-X", "faulthandler", str(script)], env=env, capture_output=True,
                          text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_only_the_first_launch_starts_a_demo_run(tmp_path):
    ini = tmp_path / "settings.ini"
    assert "runs 1 " in launch(tmp_path, ini)  # first launch: the demo run moves at once
    # the user set a huge run and quit; the next launch restores it and waits for Run
    from gdstudio.gui import settings as S

    store = S.open_store(str(ini))
    import dataclasses

    S.save(dataclasses.replace(S.load(store), epochs=10_000_000), store)
    store.sync()
    out = launch(tmp_path, ini)
    assert "runs 0 epochs 10,000,000" in out or "runs 0 epochs 10000000" in out, out


def test_without_a_display_one_clear_line_and_exit_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    if sys.platform.startswith(("win", "darwin")):
        pytest.skip("Windows and macOS always have a display")
    proc = subprocess.run([sys.executable, "-m", "gdstudio"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "xvfb-run" in lines[0] and "gdstudio run" in lines[0] and "display" in lines[0]
    assert "xcb" not in proc.stderr and "reinstall" not in proc.stderr


@pytest.mark.parametrize("env, platform, ok", [
    ({}, "linux", False),
    ({"DISPLAY": ":0"}, "linux", True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
    ({"QT_QPA_PLATFORM": "minimal"}, "freebsd13", True),
    ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
    ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, "linux", False),
    ({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":99"}, "linux", True),
    ({}, "darwin", True),
    ({}, "win32", True),
])
def test_display_problem(env, platform, ok):
    assert (display_problem(env, platform) is None) == ok


def test_help_says_the_window_opens_a_session_file():
    from gdstudio.cli import build_parser

    text = build_parser().format_help()
    assert "SESSION.gdsession" in text and "opens the window with that saved session" in " ".join(text.split())


def test_the_log_goes_beside_the_settings_file(tmp_path, monkeypatch):
    from gdstudio.gui import errors

    monkeypatch.setenv("GDSTUDIO_SETTINGS", str(tmp_path / "portable" / "gdstudio.ini"))
    assert errors.log_dir() == (tmp_path / "portable").resolve()
    monkeypatch.delenv("GDSTUDIO_SETTINGS")
    assert errors.log_dir() != (tmp_path / "portable").resolve()


def test_dev_sh_installs_only_when_the_project_changed(tmp_path):
    """`scripts/dev.sh app` with a fake .venv (its python records pip calls) and a fake ldconfig listing the
    system libraries: pip runs on the first launch and after pyproject.toml changes, not otherwise."""
    import shutil

    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "dev.sh", tmp_path / "scripts" / "dev.sh")
    for f in ("pyproject.toml", "setup.py"):
        shutil.copy(ROOT / f, tmp_path / f)
    bin_ = tmp_path / ".venv" / "bin"
    bin_.mkdir(parents=True)
    (bin_ / "python").write_text('#!/bin/sh\necho "$*" >> "$(dirname "$0")/../pip.log"\n')
    (bin_ / "gdstudio").write_text("#!/bin/sh\necho app-ran\n")
    fake = tmp_path / "fakebin"
    fake.mkdir()
    libs = "libxcb-cursor.so.0 libxkbcommon-x11.so.0 libEGL.so.1 libGL.so.1 libfontconfig.so.1 libdbus-1.so.3"
    (fake / "ldconfig").write_text("#!/bin/sh\n" + "".join(f"echo '\t{lib} (libc6,x86-64) => /x/{lib}'\n"
                                                           for lib in libs.split()))
    (fake / "apt-get").write_text("#!/bin/sh\necho apt-get-called >&2\nexit 1\n")
    for p in [*bin_.iterdir(), *fake.iterdir()]:
        p.chmod(0o755)
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}")

    def launch():
        out = subprocess.run(["bash", "scripts/dev.sh", "app"], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0 and "app-ran" in out.stdout, out.stderr
        assert "apt-get-called" not in out.stderr
        log = bin_.parent / "pip.log"
        return log.read_text().count("pip install") if log.exists() else 0

    assert launch() == 1
    assert launch() == 1 and launch() == 1  # nothing changed: no reinstall
    with (tmp_path / "pyproject.toml").open("a") as fh:
        fh.write("\n# a new dependency\n")
    assert launch() == 2
    assert launch() == 2
