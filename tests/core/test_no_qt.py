"""``gdstudio.core`` runs without a screen: importing it and every submodule loads no Qt.

Checked in a fresh interpreter (``sys.executable``), because this test process may already have
imported Qt for other tests. The same check is run on a tiny package that does import PySide6, to
show it can fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import gdstudio

FORBIDDEN = ("PySide6", "pyqtgraph")

#: Imports ``package`` and every module under it, then prints JSON: the modules imported and, for each
#: forbidden top-level package that got loaded, the first module whose import loaded it.
_CHECK = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys
    package, forbidden = sys.argv[1], sys.argv[2].split(",")
    culprits = {}
    def note(module):
        for name in forbidden:
            if name in sys.modules and name not in culprits:
                culprits[name] = module
    def fail(name):
        raise ImportError(f"could not import {name}")
    pkg = importlib.import_module(package)
    note(package)
    imported = [package]
    for info in pkgutil.walk_packages(pkg.__path__, package + ".", onerror=fail):
        importlib.import_module(info.name)
        note(info.name)
        imported.append(info.name)
    print(json.dumps({"imported": imported, "culprits": culprits}))
    """
)


def qt_culprits(package: str, extra_path: Path | None = None) -> tuple[list[str], dict[str, str]]:
    """Run the check in a subprocess; returns (modules imported, {forbidden package: culprit module})."""
    root = Path(gdstudio.__file__).resolve().parents[1]
    paths = [str(root)] + ([str(extra_path)] if extra_path else []) + [os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))
    proc = subprocess.run(
        [sys.executable, "-c", _CHECK, package, ",".join(FORBIDDEN)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["imported"], out["culprits"]


def test_core_imports_no_qt():
    imported, culprits = qt_culprits("gdstudio.core")
    assert culprits == {}, f"Qt loaded by importing the core: {culprits}"
    # the walk really covered the core
    assert "gdstudio.core.objectives.library" in imported
    assert "gdstudio.core.gradients" in imported


def test_the_check_catches_a_qt_import(tmp_path):
    pkg = tmp_path / "fakecore"
    (pkg / "inner").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "maths.py").write_text("import math\n")
    (pkg / "inner" / "__init__.py").write_text("")
    (pkg / "inner" / "view.py").write_text("import PySide6  # Qt creeping into numerics\n")
    imported, culprits = qt_culprits("fakecore", tmp_path)
    assert "fakecore.maths" in imported
    assert culprits == {"PySide6": "fakecore.inner.view"}
