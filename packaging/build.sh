#!/usr/bin/env bash
# Build the one-folder app into dist/gdstudio/ (executable: dist/gdstudio/gdstudio).
#
#   packaging/build.sh            # uses .venv/bin/python if present, else python3 (or $PYTHON)
#
# Installs PyInstaller into that Python if it is missing. PyInstaller needs binutils (objdump) on Linux.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${PYTHON:-}" ]]; then PY="$PYTHON"
elif [[ -x .venv/bin/python ]]; then PY=.venv/bin/python
else PY=python3
fi

if [[ "$(uname)" == Linux ]] && ! command -v objdump >/dev/null; then
    echo "build.sh: PyInstaller needs objdump: install binutils (apt-get install binutils)" >&2
    exit 1
fi
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    echo "build.sh: installing PyInstaller into $PY" >&2
    "$PY" -m pip install "pyinstaller>=6"
fi

start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/gdstudio.spec
end=$(date +%s)
echo "build.sh: built dist/gdstudio in $((end - start)) s, $(du -sh dist/gdstudio | cut -f1)"
