"""Where the app's resources (icons, styles) are, Qt-free: ``path("icons/gdstudio.svg")``.

The top-level ``resources/`` folder of the source tree is the source of truth. A wheel ships a copy inside
the package as ``gdstudio/_resources`` (``setup.py`` copies it at build time), and the PyInstaller bundle
puts it at the same place next to the frozen modules, so one lookup serves all three:

1. ``gdstudio/_resources`` next to this module (installed wheel, PyInstaller bundle);
2. ``resources/`` beside the ``gdstudio`` package (source checkout, editable install).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

_HERE = Path(__file__).resolve().parent
_CANDIDATES = (_HERE / "_resources", _HERE.parent / "resources")

#: Sizes of the rendered app icon, ``icons/gdstudio-<size>.png`` (``packaging/make_icons.py``).
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)


def root() -> Path:
    """The resources folder in use. Raises FileNotFoundError if the installation lacks it."""
    for folder in _CANDIDATES:
        if (folder / "icons").is_dir():
            return folder
    raise FileNotFoundError("gdstudio's resources are missing (looked in "
                            + ", ".join(str(c) for c in _CANDIDATES) + "); reinstall gdstudio")


def path(name: str) -> Path:
    """The file ``name`` (a relative path with ``/``, e.g. ``"icons/gdstudio.svg"``) among the resources.

    Raises ValueError for an absolute path or one that climbs out (``..``), FileNotFoundError if the file
    does not exist.
    """
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ValueError(f"a resource name is a relative path inside resources/, got {name!r}")
    p = root().joinpath(*rel.parts)
    if not p.is_file():
        raise FileNotFoundError(f"no resource {name!r} (looked in {root()})")
    return p


def app_icon_files() -> list[Path]:
    """The app icon's files, SVG first then PNGs from small to large (for building a QIcon)."""
    return [path("icons/gdstudio.svg")] + [path(f"icons/gdstudio-{s}.png") for s in ICON_SIZES]


__all__ = ["ICON_SIZES", "app_icon_files", "path", "root"]
