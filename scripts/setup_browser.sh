#!/usr/bin/env bash
# Headless Chromium for the browser tests (tests/browser.py): installs Debian's chromium with
# apt-get when no chromium binary is on PATH. Never fails: when it cannot install, it says why
# on one line and exits 0, and the browser tests skip.
set -uo pipefail
for bin in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$bin" >/dev/null 2>&1; then
        echo "browser: $("$bin" --version 2>/dev/null | head -n 1)"; exit 0
    fi
done
if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser: no chromium and no apt-get; the browser tests will skip"; exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n)
else echo "browser: no chromium, and installing it needs root (no sudo); the browser tests will skip"; exit 0
fi
log=$(mktemp)
if "${sudo[@]}" apt-get update -qq >"$log" 2>&1 &&
   DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium >>"$log" 2>&1; then
    echo "browser: installed $(chromium --version 2>/dev/null | head -n 1)"
else
    echo "browser: apt-get install chromium failed ($(tail -n 1 "$log")); the browser tests will skip"
fi
rm -f "$log"
exit 0
