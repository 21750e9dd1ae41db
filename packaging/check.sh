#!/usr/bin/env bash
# The packaging checks, as CI runs them after the test suite (.ci/run, under a timeout): the
# desktop entry and the AppStream metainfo through the freedesktop validators, the icon PNGs
# against their SVG, install.sh, and the bundle built from this checkout (or reused when
# built from the same sources) and run offscreen: tests/packaging.
set -euo pipefail
cd "$(dirname "$0")/.."

export QT_QPA_PLATFORM=offscreen
export PIP_DISABLE_PIP_VERSION_CHECK=1

if ! command -v desktop-file-validate >/dev/null || ! command -v appstreamcli >/dev/null; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq desktop-file-utils appstream >/dev/null
  fi
fi

python -m pip install -q -e ".[test,packaging]"

started=$(date +%s)
# The validators and the bundle are required here: a missing one fails, it is not skipped.
RETOUCH_REQUIRE_VALIDATORS=1 RETOUCH_BUNDLE_TEST=1 \
  python -m pytest -q -p no:cacheprovider tests/packaging --timeout 1800
echo "packaging checks took $(( $(date +%s) - started )) s"
