#!/usr/bin/env bash
# Put Retouch Studio in this user's application launcher and in "Open with" for photos:
# the desktop entry, the icon (hicolor theme, 16 to 256 px and SVG) and the AppStream
# metadata, under ${XDG_DATA_HOME:-~/.local/share}. No root needed.
#
#   packaging/linux/install.sh                    # the retouch-studio that pip installed
#   dist/retouch-studio/desktop/install.sh        # from a bundle: also links ~/.local/bin/
#   packaging/linux/install.sh --bundle DIR       #   retouch and retouch-studio to DIR's
#   install.sh --uninstall                        # remove all of it again
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
bin="$HOME/.local/bin"
app_id="io.github.retouch_studio.RetouchStudio"
sizes="16 24 32 48 64 128 256"
bundle=""
uninstall=0
[ -x "$here/../retouch-studio" ] && bundle="$(cd "$here/.." && pwd)"  # run from a bundle

while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle="$(cd "${2:?--bundle needs a folder}" && pwd)"; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# "Open with" reads the MIME cache; an icon cache is refreshed only where one was made before
# (a new one would hide the icons other programs put there later).
refresh_caches() {
  if command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$data/applications" || true
  fi
  if [ -f "$data/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null; then
    gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
  fi
}

if [ -d "$here/icons" ]; then icons="$here/icons"; else icons="$here/../../resources/icons/app"; fi

if [ "$uninstall" = 1 ]; then
  rm -f "$data/applications/retouch-studio.desktop" "$data/metainfo/$app_id.metainfo.xml" \
        "$data/icons/hicolor/scalable/apps/retouch-studio.svg"
  for n in $sizes; do rm -f "$data/icons/hicolor/${n}x${n}/apps/retouch-studio.png"; done
  for name in retouch retouch-studio; do
    # Only links into a bundle: a retouch that pip installed there is left alone.
    if [ -L "$bin/$name" ] && [ -e "$(dirname "$(readlink "$bin/$name")")/_internal" ]; then
      rm -f "$bin/$name"
    fi
  done
  refresh_caches
  echo "Removed Retouch Studio's desktop entry, icon and metadata from $data"
  exit 0
fi

if [ -n "$bundle" ]; then
  [ -x "$bundle/retouch-studio" ] || { echo "install.sh: $bundle has no retouch-studio program; give the bundle's folder (dist/retouch-studio)" >&2; exit 2; }
  program="$bundle/retouch-studio"
  mkdir -p "$bin"
  ln -sfn "$bundle/retouch" "$bin/retouch"
  ln -sfn "$bundle/retouch-studio" "$bin/retouch-studio"
else
  program="$(command -v retouch-studio || true)"
  [ -n "$program" ] || { echo "install.sh: retouch-studio is not on PATH. Install Retouch Studio with pip first, or give --bundle DIR" >&2; exit 2; }
fi

mkdir -p "$data/applications" "$data/metainfo" "$data/icons/hicolor/scalable/apps"
# The launcher runs this very program, wherever it is, even when ~/.local/bin is not on the
# desktop session's PATH.
sed -e "s|^Exec=.*|Exec=\"$program\" %F|" -e "s|^TryExec=.*|TryExec=$program|" \
    "$here/retouch-studio.desktop" > "$data/applications/retouch-studio.desktop"
cp "$here/$app_id.metainfo.xml" "$data/metainfo/"
cp "$icons/retouch-studio.svg" "$data/icons/hicolor/scalable/apps/"
for n in $sizes; do
  mkdir -p "$data/icons/hicolor/${n}x${n}/apps"
  cp "$icons/retouch-studio-$n.png" "$data/icons/hicolor/${n}x${n}/apps/retouch-studio.png"
done
refresh_caches
echo "Installed Retouch Studio for $(id -un): $data/applications/retouch-studio.desktop runs $program"
echo "To make it the default for PNG and JPEG: xdg-mime default retouch-studio.desktop image/png image/jpeg"
