#!/usr/bin/env bash
# gdstudio's one entry point for people and CI:
#   bash scripts/dev.sh app    install everything needed, then open the app
#   bash scripts/dev.sh test   install everything needed (with test tools), then run the whole test suite
#                              under a virtual display (the command CI runs, through .ci/run)
# Installs Debian's system libraries for Qt/OpenGL and Xvfb when they are missing (needs root or sudo),
# a virtual environment in .venv, and the project into it (editable, with the test extra).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-app}
shift || true

need_system() {
  # Qt's xcb platform plugin, Mesa's software OpenGL and the virtual display.
  [ "$what" = test ] && ! command -v xvfb-run >/dev/null 2>&1 && return 0
  # The tests also validate the .desktop entry and the AppStream metadata with the freedesktop tools.
  [ "$what" = test ] && ! command -v desktop-file-validate >/dev/null 2>&1 && return 0
  [ "$what" = test ] && ! command -v appstreamcli >/dev/null 2>&1 && return 0
  # (read ldconfig's list once: `ldconfig -p | grep -q` fails at random under pipefail when grep exits first)
  local libs; libs="$(ldconfig -p 2>/dev/null || true)"
  for lib in libxcb-cursor.so.0 libxkbcommon-x11.so.0 libEGL.so.1 libGL.so.1 libfontconfig.so.1 libdbus-1.so.3; do
    grep -q "$lib" <<<"$libs" || return 0
  done
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || return 0
  return 1
}

if need_system; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "== installing system libraries (Debian packages)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      python3 python3-venv python3-pip libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libxkbcommon0 \
      libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
      libxcb-shape0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libxcb-xkb1 \
      xvfb xauth binutils \
      $([ "$what" = test ] && echo desktop-file-utils appstream) >/dev/null
  else
    echo "warning: Qt system libraries or Xvfb seem missing and apt-get is not available; continuing" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  python3 -m venv .venv
fi
extra=""; [ "$what" = test ] && extra="[test,package]"
# Install only when needed: a stamp in .venv remembers what was installed (pyproject.toml's and setup.py's
# hash and the extras). The install is editable, so changes to the sources need no reinstall.
stamp=".venv/.gdstudio-installed${extra:+-test}"
want="$(cat pyproject.toml setup.py 2>/dev/null | sha256sum | cut -d' ' -f1) ${extra}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -x .venv/bin/gdstudio ]; then
  echo "== installing gdstudio${extra} into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}"
  echo "$want" > "$stamp"
fi

export PYQTGRAPH_QT_LIB=PySide6 PYTEST_QT_API=pyside6
case "$what" in
  app)
    exec .venv/bin/gdstudio "$@"
    ;;
  test)
    export QT_QPA_PLATFORM=xcb LIBGL_ALWAYS_SOFTWARE=1 QT_ENABLE_HIGHDPI_SCALING=0 QT_SCALE_FACTOR=1
    export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"; chmod 700 "$XDG_RUNTIME_DIR"
    exec xvfb-run -a -s "-screen 0 1280x1024x24 -nolisten tcp" \
      .venv/bin/python -X faulthandler -m pytest "$@"
    ;;
  *)
    echo "usage: bash scripts/dev.sh app|test [arguments]" >&2; exit 2
    ;;
esac
