"""Packaging: resources found from a checkout and from a wheel; Linux metadata valid; the PyInstaller bundle runs.

The tests marked ``packaging`` build things (a wheel: a few seconds; the bundle: about a minute on two cores)
and run them; the bundle is reused from ``dist/gdstudio`` when it is newer than every file it is built from.
Run them with ``pytest -m packaging tests/test_packaging.py`` under ``xvfb-run`` (the GUI start needs a display).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from gdstudio import __version__, resources

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"
DIST = ROOT / "dist" / "gdstudio"
EXE = DIST / ("gdstudio.exe" if sys.platform == "win32" else "gdstudio")


# --- resources (fast) ----------------------------------------------------------------------------------
def test_resources_from_the_source_tree():
    assert resources.root() == ROOT / "resources"
    svg = resources.path("icons/gdstudio.svg")
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert [p.name for p in resources.app_icon_files()] == ["gdstudio.svg"] + [
        f"gdstudio-{s}.png" for s in resources.ICON_SIZES]


@pytest.mark.parametrize("name", ["../pyproject.toml", "/etc/passwd", "", "icons/../../setup.py"])
def test_resource_names_cannot_escape(name):
    with pytest.raises(ValueError, match="relative path inside resources"):
        resources.path(name)


def test_missing_resource_says_where_it_looked():
    with pytest.raises(FileNotFoundError, match="no resource 'icons/nope.png'"):
        resources.path("icons/nope.png")


@pytest.mark.parametrize("size", resources.ICON_SIZES)
def test_icon_pngs_have_their_size(size):
    data = resources.path(f"icons/gdstudio-{size}.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (size, size)


def test_icon_pngs_match_the_svg():
    """The PNGs are rendered from the SVG by packaging/make_icons.py: a changed SVG needs a re-render."""
    pytest.importorskip("PySide6.QtSvg")
    code = """
import sys
import numpy as np
sys.path.insert(0, "packaging")
import make_icons as m
from PySide6.QtGui import QGuiApplication, QImage
app = QGuiApplication([])
def pixels(img):
    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    a = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(img.height(), img.bytesPerLine())
    return a[:, : 4 * img.width()].astype(int)
for size in (16, 64):
    fresh = pixels(m.render(m.ICONS / "gdstudio.svg", size))
    stored = pixels(QImage(str(m.ICONS / f"gdstudio-{size}.png")))
    same = fresh.shape == stored.shape
    # share of pixels where some channel differs by more than 16 grey levels
    print(size, same and float((np.abs(fresh - stored).reshape(size, size, 4).max(-1) > 16).mean()))
"""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)  # offscreen with DISPLAY set gives a broken GL context (docs/platform-notes.md, fact 6)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    for line in out.stdout.split("\n")[:-1]:
        size, diff = line.split()
        # antialiasing may differ by a few grey levels between machines; a changed drawing changes pixels
        assert diff != "False" and float(diff) < 0.003, f"gdstudio-{size}.png is stale: run packaging/make_icons.py"


# --- Linux metadata ---------------------------------------------------------------------------------------
def test_desktop_entry_is_valid():
    text = (LINUX / "io.github.gdstudio.desktop").read_text(encoding="utf-8")
    assert "Exec=gdstudio" in text and "Icon=io.github.gdstudio" in text
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate not installed (apt-get install desktop-file-utils)")
    out = subprocess.run([tool, str(LINUX / "io.github.gdstudio.desktop")], capture_output=True, text=True)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr


def test_metainfo_is_valid():
    text = (LINUX / "io.github.gdstudio.metainfo.xml").read_text(encoding="utf-8")
    assert f'<release version="{__version__}"' in text, "add a <release> for the new version"
    assert "<launchable type=\"desktop-id\">io.github.gdstudio.desktop</launchable>" in text
    tool = shutil.which("appstreamcli")
    if tool is None:
        pytest.skip("appstreamcli not installed (apt-get install appstream)")
    out = subprocess.run([tool, "validate", "--no-net", str(LINUX / "io.github.gdstudio.metainfo.xml")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# --- the wheel (slow) -----------------------------------------------------------------------------------
@pytest.mark.packaging
def test_wheel_ships_resources_and_finds_them_when_installed(tmp_path):
    wheels = tmp_path / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)],
                           capture_output=True, text=True, timeout=300)
    if build.returncode != 0 and "setuptools" in build.stderr and "Could not" in build.stderr:
        pytest.skip("cannot fetch the build backend (offline?): " + build.stderr.strip().splitlines()[-1])
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("gdstudio-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"gdstudio/_resources/{p.relative_to(ROOT / 'resources').as_posix()}"
                for p in (ROOT / "resources").rglob("*") if p.is_file()}
    assert expected and expected <= names
    # installed (unpacked on the path), run from another folder: resources come from the install
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    code = "import gdstudio, gdstudio.resources as r; print(gdstudio.__file__); print(r.path('icons/gdstudio.svg'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(target)), timeout=60)
    assert out.returncode == 0, out.stderr
    module, svg = out.stdout.split()
    assert Path(module).is_relative_to(target) and Path(svg) == target / "gdstudio/_resources/icons/gdstudio.svg"


# --- the PyInstaller bundle (slow) --------------------------------------------------------------------------
def _inputs() -> list[Path]:
    files = [ROOT / "packaging" / "gdstudio.spec", ROOT / "packaging" / "entry.py"]
    for folder in ("gdstudio", "resources"):
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return files


@pytest.fixture(scope="module")
def bundle() -> Path:
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (pip install 'gdstudio[package]')")
    if not (ROOT / "gdstudio" / "gui" / "app.py").exists():
        pytest.skip("gdstudio.gui.app (the window) does not exist yet: nothing to bundle")
    newest = max(p.stat().st_mtime for p in _inputs())
    if EXE.exists() and EXE.stat().st_mtime > newest:
        print(f"\nreusing {DIST} (newer than its inputs)")
    else:
        t0 = time.perf_counter()
        out = subprocess.run(["bash", str(ROOT / "packaging" / "build.sh")], cwd=ROOT, capture_output=True,
                             text=True, env=dict(os.environ, PYTHON=sys.executable), timeout=1800)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        size = sum(p.lstat().st_size for p in DIST.rglob("*") if p.is_file() and not p.is_symlink())
        print(f"\nbuilt {DIST} in {time.perf_counter() - t0:.0f} s, {size / 2**20:.0f} MiB")
    return EXE


@pytest.mark.packaging
def test_bundle_holds_the_resources(bundle):
    found = list(DIST.rglob("gdstudio/_resources/icons/gdstudio.svg"))
    assert len(found) == 1
    for lib in ("matplotlib", "PIL", "tkinter"):
        assert not list(DIST.rglob(f"_internal/{lib}")), f"{lib} should be excluded from the bundle"


@pytest.mark.packaging
def test_bundle_prints_its_version(bundle, tmp_path):
    out = subprocess.run([str(bundle), "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"gdstudio {__version__}"


@pytest.mark.packaging
def test_bundle_opens_the_window_and_quits(bundle, tmp_path):
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        pytest.skip("no display: run under xvfb-run")
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", LIBGL_ALWAYS_SOFTWARE="1", HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_STATE_HOME=str(tmp_path / "state"))
    try:
        out = subprocess.run([str(bundle), "--quit-after", "1"], cwd=tmp_path, capture_output=True, text=True,
                             env=env, timeout=60)
    except subprocess.TimeoutExpired:  # subprocess.run has killed it
        pytest.fail("the app did not quit by itself within 60 s of `--quit-after 1`")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "Traceback" not in out.stderr, out.stderr


@pytest.mark.packaging
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the desktop install is for Linux")
def test_linux_install_and_uninstall(bundle, tmp_path):
    prefix = tmp_path / "prefix"
    script = LINUX / "install.sh"
    env = dict(os.environ, PREFIX=str(prefix))
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    app_id = "io.github.gdstudio"
    desktop = prefix / "share" / "applications" / f"{app_id}.desktop"
    assert f"Exec={prefix}/lib/gdstudio/gdstudio" in desktop.read_text(encoding="utf-8")
    for s in resources.ICON_SIZES:
        assert (prefix / f"share/icons/hicolor/{s}x{s}/apps/{app_id}.png").is_file()
    assert (prefix / f"share/icons/hicolor/scalable/apps/{app_id}.svg").is_file()
    assert (prefix / f"share/metainfo/{app_id}.metainfo.xml").is_file()
    tool = shutil.which("desktop-file-validate")
    if tool:
        check = subprocess.run([tool, str(desktop)], capture_output=True, text=True)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout
    # the command on PATH is a symlink into the installed folder; the bundle must resolve its files through it
    version = subprocess.run([str(prefix / "bin" / "gdstudio"), "--version"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=120)
    assert version.returncode == 0 and version.stdout.strip() == f"gdstudio {__version__}", version.stderr
    out = subprocess.run(["bash", str(script), "--uninstall"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    left = sorted(p.name for p in prefix.rglob("*") if p.is_file() or p.is_symlink())
    assert set(left) <= {"mimeinfo.cache", "icon-theme.cache"}, left
