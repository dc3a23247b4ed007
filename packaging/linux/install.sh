#!/usr/bin/env bash
# Install the one-folder app built by packaging/build.sh (dist/gdstudio) into a desktop:
# the program, a `gdstudio` command, the menu entry, the icons and the AppStream metadata.
#
#   packaging/linux/install.sh               # for the current user, under ~/.local
#   sudo PREFIX=/usr/local packaging/linux/install.sh
#   packaging/linux/install.sh --uninstall   # (same PREFIX) removes what it installed (menu/icon caches
#                                            # are refreshed, not removed: other apps share them)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PREFIX=${PREFIX:-$HOME/.local}
APP_ID=io.github.gdstudio
SIZES="16 32 48 64 128 256 512"

lib="$PREFIX/lib/gdstudio"
bin="$PREFIX/bin/gdstudio"
share="$PREFIX/share"
desktop="$share/applications/$APP_ID.desktop"
metainfo="$share/metainfo/$APP_ID.metainfo.xml"

refresh() {  # let menus and icon themes notice; harmless when the tools are absent
    command -v update-desktop-database >/dev/null && update-desktop-database -q "$share/applications" || true
    command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
}

if [[ "${1:-}" == "--uninstall" ]]; then
    rm -rf "$lib"
    rm -f "$bin" "$desktop" "$metainfo" "$share/icons/hicolor/scalable/apps/$APP_ID.svg"
    for s in $SIZES; do rm -f "$share/icons/hicolor/${s}x${s}/apps/$APP_ID.png"; done
    refresh
    echo "gdstudio removed from $PREFIX"
    exit 0
fi

dist="$root/dist/gdstudio"
if [[ ! -x "$dist/gdstudio" ]]; then
    echo "install.sh: no app in $dist: run packaging/build.sh first" >&2
    exit 1
fi
rm -rf "$lib"
mkdir -p "$lib" "$(dirname "$bin")"
cp -a "$dist/." "$lib/"
ln -sfn "$lib/gdstudio" "$bin"
# The menu entry starts the installed program by its full path (~/.local/bin may not be on PATH).
mkdir -p "$(dirname "$desktop")"
sed "s|^Exec=gdstudio|Exec=$lib/gdstudio|" "$here/$APP_ID.desktop" > "$desktop"
chmod 644 "$desktop"
install -Dm644 "$here/$APP_ID.metainfo.xml" "$metainfo"
install -Dm644 "$root/resources/icons/gdstudio.svg" "$share/icons/hicolor/scalable/apps/$APP_ID.svg"
for s in $SIZES; do
    install -Dm644 "$root/resources/icons/gdstudio-$s.png" "$share/icons/hicolor/${s}x${s}/apps/$APP_ID.png"
done
refresh
echo "gdstudio installed in $PREFIX (command: $bin)"
